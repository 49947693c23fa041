"""What the tutorial notebooks share: where the lesson's images come from (the web demo they
start is :class:`allencv_lite.service.demo_server.DemoServer`).

Every notebook starts with ``data = find_lesson_data("../data")``, so the choice of dataset
lives here once rather than in six copies of the same cell.
"""
import os
import random
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset import SkippedFiles
from allencv_lite.data.dataset_readers.image_classification_directory import find_labelled_images, is_ignored
from allencv_lite.data.digits import write_digits

DATA_DIR_VARIABLE = "ALLENCV_DATA_DIR"
CATS_DOGS_FOLDER = "cats_dogs"
DIGITS_FOLDER = "digits"
REPOSITORY_ROOT = Path(__file__).resolve().parents[1]  # the clone, for an editable install


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


def resolve_environment_path(value: Union[str, os.PathLike]) -> List[Path]:
    """The places a path taken from the environment may mean, in the order they are tried.

    A notebook's kernel runs inside ``notebooks/``, while the README's commands run from the
    repository root, so a relative ``ALLENCV_DATA_DIR=data/cats_dogs`` is tried relative to the
    working directory first and then relative to the repository root (the folder holding the
    ``allencv_lite`` package of an editable install). An absolute path (``~`` expanded) is tried
    as it is.

    Returns:
        One or two absolute paths; the caller uses the first that exists.
    """
    path = Path(value).expanduser()
    if path.is_absolute():
        return [path]
    candidates = [Path.cwd() / path, REPOSITORY_ROOT / path]
    return [candidate.resolve() for candidate in dict.fromkeys(candidates)]


def find_lesson_data(data_root: Union[str, os.PathLike] = "data") -> LessonData:
    """The lesson's dataset, from the first of these that exists:

    1. ``$ALLENCV_DATA_DIR`` (CI points it at the shared Cats-vs-Dogs photos); a relative path is
       looked up from the working directory, then from the repository root
       (:func:`resolve_environment_path`), so the same variable works in a shell at the root and
       in a notebook's kernel inside ``notebooks/``;
    2. ``<data_root>/cats_dogs``, where the Cats-and-Dogs download script puts its split;
    3. ``<data_root>/digits``, the embedded handwritten digits, written there on first use
       (offline, a few seconds; see :mod:`allencv_lite.data.digits`).

    When ``$ALLENCV_DATA_DIR`` names a folder that exists nowhere, one line on standard error names
    every path tried and the data used instead, and :attr:`LessonData.source` says the same.

    Args:
        data_root: the folder for downloaded and generated data (the repository's ``data/``;
            notebooks, which run inside ``notebooks/``, pass ``"../data"``).

    Raises:
        ConfigurationError: ``$ALLENCV_DATA_DIR`` names a folder that exists but has no ``train/``
            and ``val/`` folders (an unset variable is fine; an empty one is treated as unset).
    """
    from_environment = os.environ.get(DATA_DIR_VARIABLE)
    not_found = ""
    if from_environment:
        tried = resolve_environment_path(from_environment)
        root = next((candidate for candidate in tried if candidate.exists()), None)
        if root is not None:
            if not _has_splits(root):
                raise ConfigurationError(f"{DATA_DIR_VARIABLE}={from_environment} ({root}) has no train/ and val/ "
                                         "folders; point it at a folder laid out as train/<label>/<image> and "
                                         "val/<label>/<image>, or unset it to use the embedded digits.")
            return LessonData(root, root.name, f"${DATA_DIR_VARIABLE}")
        not_found = f"{DATA_DIR_VARIABLE}={from_environment} was not found at {' nor at '.join(map(str, tried))}"
    downloaded = Path(data_root) / CATS_DOGS_FOLDER
    if _has_splits(downloaded):
        return _fallback(LessonData(downloaded, CATS_DOGS_FOLDER, "the downloaded PetImages split"), not_found)
    digits = Path(data_root) / DIGITS_FOLDER
    if not _has_splits(digits):
        write_digits(digits)
    return _fallback(LessonData(digits, DIGITS_FOLDER, "the embedded handwritten digits (scikit-learn)"), not_found)


def _fallback(data: LessonData, not_found: str) -> LessonData:
    """``data``, after saying on standard error why the environment's folder was not used."""
    if not not_found:
        return data
    print(f"{not_found}; using {data.source} in {data.root} instead.", file=sys.stderr)
    return LessonData(data.root, data.name, f"{data.source}, since {not_found}")


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
    destination = _emptied_sample_folder(data, destination)
    chooser = random.Random(seed)
    for split, per_label in (("train", train_per_label), ("val", validation_per_label)):
        for label, images in _sample_per_label(data.root / split, per_label, chooser).items():
            for image in images:
                _link(image, destination / split / label / image.relative_to(data.root / split / label))
    return LessonData(destination, f"{data.name}_sample",
                      f"{train_per_label} training and {validation_per_label} validation images per label of "
                      f"'{data.name}'")


def _emptied_sample_folder(data: LessonData, destination: Union[str, os.PathLike]) -> Path:
    """``destination``, emptied; raises ``ConfigurationError`` if it is inside ``data.root``."""
    destination = Path(destination)
    if destination.resolve().is_relative_to(data.root.resolve()):
        raise ConfigurationError(f"The sample folder {destination} is inside the data folder {data.root}; "
                                 "choose a folder outside it.")
    if destination.exists():
        shutil.rmtree(destination)
    return destination


def _sample_per_label(folder: Path, per_label: int, chooser: random.Random,
                      labels: Optional[Sequence[str]] = None) -> Dict[str, List[Path]]:
    """``{label: up to per_label images of it, sorted}`` from the ``<label>/<image>`` tree ``folder``,
    chosen by ``chooser``; files found by the directory reader's rules; only ``labels`` if given."""
    samples, found_labels = find_labelled_images(folder, SkippedFiles())
    chosen = {}
    for label in found_labels if labels is None else labels:
        images = [Path(path) for path, image_label in samples if image_label == label]
        chosen[label] = sorted(chooser.sample(images, min(per_label, len(images))))
    return chosen


def _link(image: Path, target: Path) -> None:
    """Make ``target`` a symbolic link to ``image`` (a copy where the file system has no links)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.symlink_to(image.resolve())
    except OSError:
        shutil.copy2(image, target)


@dataclass(frozen=True)
class OwnPhotos:
    """Photos laid out as someone's own would be: one folder of class folders, and a flat folder of
    new, unsorted photos.

    Attributes:
        folder: ``<label>/<image>``, nothing split by hand.
        new_photos: images named ``0000.jpg``, ``0001.jpg``, ... in a random order, without labels.
        truth: ``{path of a new photo: its label}``, to check the predictions afterwards.
    """

    folder: Path
    new_photos: Path
    truth: Dict[str, str]


def sample_own_photos(data: LessonData, destination: Union[str, os.PathLike], images_per_label: int,
                      new_per_label: int, labels: Optional[Sequence[str]] = None, seed: int = 0) -> OwnPhotos:
    """A stand-in for your own photos, drawn from ``data``: ``images_per_label`` training images of
    each label in ``<destination>/my_photos/<label>/``, and ``new_per_label`` validation images of
    each, which the model never sees, shuffled into ``<destination>/new_photos/`` under numbered
    names that do not give the label away. Symbolic links (copies where there are none), chosen
    with ``seed``; ``destination`` is emptied first, so the same arguments give the same photos.

    Args:
        labels: the labels to take (default: all of ``data``'s).

    Raises:
        ConfigurationError: ``destination`` is inside ``data.root``.
    """
    destination = _emptied_sample_folder(data, destination)
    chooser = random.Random(seed)
    for label, images in _sample_per_label(data.train_path, images_per_label, chooser, labels).items():
        for image in images:
            _link(image, destination / "my_photos" / label / image.name)
    new = [(image, label) for label, images in _sample_per_label(data.validation_path, new_per_label, chooser,
                                                                 labels).items() for image in images]
    chooser.shuffle(new)
    truth = {}
    for number, (image, label) in enumerate(new):
        target = destination / "new_photos" / f"{number:04d}{image.suffix.lower()}"
        _link(image, target)
        truth[str(target)] = label
    return OwnPhotos(destination / "my_photos", destination / "new_photos", truth)
