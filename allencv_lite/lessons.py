"""What the tutorial notebooks share: where the lesson's images come from.

Every notebook starts with ``data = find_lesson_data("../data")``, so the choice of dataset
lives here once rather than in six copies of the same cell.
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.digits import write_digits

DATA_DIR_VARIABLE = "ALLENCV_DATA_DIR"
CATS_DOGS_FOLDER = "cats_dogs"
DIGITS_FOLDER = "digits"


@dataclass(frozen=True)
class LessonData:
    """A dataset laid out as ``<root>/{train,val}/<label>/<image>``.

    Attributes:
        root: the folder holding ``train/`` and ``val/``.
        name: ``"digits"`` for the embedded handwritten digits, ``"cats_dogs"`` for the
            downloaded photos, else the name of the folder given in ``$ALLENCV_DATA_DIR``.
        source: where it was found, in words, for the notebook to print.
    """

    root: Path
    name: str
    source: str

    @property
    def train_path(self) -> Path:
        """The training folder, ``<root>/train``."""
        return self.root / "train"

    @property
    def validation_path(self) -> Path:
        """The validation folder, ``<root>/val``."""
        return self.root / "val"


def _has_splits(folder: Path) -> bool:
    return (folder / "train").is_dir() and (folder / "val").is_dir()


def find_lesson_data(data_root: Union[str, os.PathLike] = "data") -> LessonData:
    """The lesson's dataset, from the first of these that exists:

    1. ``$ALLENCV_DATA_DIR`` (CI points it at the shared Cats-vs-Dogs photos);
    2. ``<data_root>/cats_dogs``, where the Cats-and-Dogs download script puts its split;
    3. ``<data_root>/digits``, the embedded handwritten digits, written there on first use
       (offline, a few seconds; see :mod:`allencv_lite.data.digits`).

    Args:
        data_root: the folder for downloaded and generated data (the repository's ``data/``;
            notebooks, which run inside ``notebooks/``, pass ``"../data"``).

    Raises:
        ConfigurationError: ``$ALLENCV_DATA_DIR`` is set but has no ``train/`` and ``val/``
            folders (an unset variable is fine; an empty one is treated as unset).
    """
    from_environment = os.environ.get(DATA_DIR_VARIABLE)
    if from_environment:
        root = Path(from_environment)
        if not _has_splits(root):
            raise ConfigurationError(f"{DATA_DIR_VARIABLE}={root} has no train/ and val/ folders; point it at a "
                                     "folder laid out as train/<label>/<image> and val/<label>/<image>, or unset it "
                                     "to use the embedded digits.")
        return LessonData(root, root.name, f"${DATA_DIR_VARIABLE}")
    downloaded = Path(data_root) / CATS_DOGS_FOLDER
    if _has_splits(downloaded):
        return LessonData(downloaded, CATS_DOGS_FOLDER, "the downloaded PetImages split")
    digits = Path(data_root) / DIGITS_FOLDER
    if not _has_splits(digits):
        write_digits(digits)
    return LessonData(digits, DIGITS_FOLDER, "the embedded handwritten digits (scikit-learn)")
