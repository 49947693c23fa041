"""What the tutorial notebooks share: where the lesson's images come from (the web demo they
start is :class:`allencv_lite.service.demo_server.DemoServer`).

Every notebook starts with ``data = find_lesson_data("../data")``, so the choice of dataset
lives here once rather than in six copies of the same cell.
"""
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import List, Union

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset import SkippedFiles
from allencv_lite.data.dataset_readers.image_classification_directory import find_labelled_images, is_ignored
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

    @property
    def labels(self) -> List[str]:
        """The class folders of ``train/``, sorted, passing over hidden and system entries as the
        reader does (``["Cat", "Dog"]`` for the photos, ``["0", ..., "9"]`` for the digits)."""
        return sorted(entry.name for entry in self.train_path.iterdir()
                      if entry.is_dir() and not is_ignored(entry.name))


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


def sample_lesson_data(data: LessonData, destination: Union[str, os.PathLike], train_per_label: int,
                       validation_per_label: int, seed: int = 0) -> LessonData:
    """A smaller copy of ``data`` for quick experiments: ``train_per_label`` training and
    ``validation_per_label`` validation images of each label, chosen at random with ``seed``.

    ``destination`` gets the same ``train/<label>/`` and ``val/<label>/`` layout, made of
    symbolic links to the original files (copies where the file system has no links); it is
    emptied first, so the same arguments always give the same sample. A label with fewer
    images keeps all of them. Images and labels are found by the directory reader's own
    rules (:func:`~allencv_lite.data.dataset_readers.image_classification_directory.find_labelled_images`),
    so hidden files (macOS ``._*``), ``__MACOSX/`` and files of other types are never sampled.

    Raises:
        ConfigurationError: ``destination`` is inside ``data.root`` (the sample would become
            part of the data it is drawn from).
    """
    destination = Path(destination)
    if destination.resolve().is_relative_to(data.root.resolve()):
        raise ConfigurationError(f"The sample folder {destination} is inside the data folder {data.root}; "
                                 "choose a folder outside it.")
    if destination.exists():
        shutil.rmtree(destination)
    chooser = random.Random(seed)
    for split, per_label in (("train", train_per_label), ("val", validation_per_label)):
        samples, labels = find_labelled_images(data.root / split, SkippedFiles())
        for label in labels:
            images = [Path(path) for path, image_label in samples if image_label == label]
            for image in sorted(chooser.sample(images, min(per_label, len(images)))):
                relative = image.relative_to(data.root / split / label)  # sub-folders of a class folder stay
                target = destination / split / label / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    target.symlink_to(image.resolve())
                except OSError:
                    shutil.copy2(image, target)
    return LessonData(destination, f"{data.name}_sample",
                      f"{train_per_label} training and {validation_per_label} validation images per label of "
                      f"'{data.name}'")
