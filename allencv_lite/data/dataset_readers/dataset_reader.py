"""Base classes for dataset readers: a reader turns a path into an :class:`ImageDataset`."""
import logging
import os
from pathlib import Path
from typing import Any, Collection, Dict, Iterable, List, Optional, Tuple, Union

import numpy as np
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable
from allencv_lite.data.augmentation import Augmentation
from allencv_lite.data.augmentation_pipeline import AugmentationPipeline
from allencv_lite.data.cleaning import CleaningDecisions
from allencv_lite.data.dataset import ImageDataset, Sample, SkippedFiles, relative_path
from allencv_lite.data.image_loading import ImageSource
from allencv_lite.data.validation_split import check_validation_split, split_for_validation

logger = logging.getLogger(__name__)


class DatasetReader(Registrable, FromParams):
    """Reads a dataset from a path (registered by name, e.g. ``image_classification_directory``)."""

    def read(self, file_path: Union[str, os.PathLike], only: Optional[Collection[str]] = None) -> ImageDataset:
        """The dataset found at ``file_path``; with ``only``, just the samples whose file (relative
        to the folder read, ``/``-separated, as :meth:`ImageDataset.relative_paths` gives them) is in it."""
        raise NotImplementedError

    def read_labels(self, file_path: Union[str, os.PathLike]) -> List[str]:
        """The label of each sample found at ``file_path``, from names alone (folder names, a
        CSV column): no image is opened, so a model can be built and checked before any image
        is decoded; nothing is warned about, since :meth:`read` warns about each file it leaves
        out. Files that :meth:`read` finds unreadable, and a ``cleaning_file``, may change the
        labels :meth:`read`'s dataset carries.

        Raises:
            ConfigurationError: as :meth:`read`, for a path that does not exist.
        """
        raise NotImplementedError


class ImageDatasetReader(DatasetReader):
    """A reader whose datasets decode and augment images with an
    :class:`~allencv_lite.data.augmentation_pipeline.AugmentationPipeline` (which appends
    ImageNet's ``normalize`` when there is none, and checks the steps when the reader is built).

    Args:
        augmentation: albumentations transforms, applied in order (see
            :mod:`allencv_lite.data.augmentation` for the names).
        lazy: read images from disk on each access (memory flat in dataset size) instead of
            decoding them all once into memory (at the pipeline's working size).
        bbox_format: how :meth:`augment` reads and returns boxes, in pixels:
            ``"pascal_voc"`` ``(x_min, y_min, x_max, y_max)`` or ``"coco"``
            ``(x_min, y_min, width, height)``.
        cleaning_file: a ``cleaning.json`` (:mod:`allencv_lite.data.cleaning`) applied at each
            :meth:`read`, before any image is decoded: excluded images are left out, relabelled
            ones get their new label; the reader logs what it applied, and warns about each
            entry that matches no image (missing) or changes nothing (stale). It is read
            again at every ``read``, so new decisions count without building a new reader.
        validation_split: hold out this fraction of each class (in ``(0, 1)``) for validation:
            :meth:`read` and :meth:`read_labels` then give the training part, and
            :meth:`validation_files` names the rest (see :mod:`allencv_lite.data.validation_split`).
            ``None``: read everything.
        seed: which files ``validation_split`` holds out; the same seed, the same files.

    Attributes:
        pipeline: the :class:`~allencv_lite.data.augmentation_pipeline.AugmentationPipeline`.

    Raises:
        ConfigurationError: a mistake in the augmentation (see ``AugmentationPipeline``), a
            ``cleaning_file`` that is missing or malformed, or a ``validation_split`` outside ``(0, 1)``.
    """

    def __init__(self, augmentation: Optional[List[Augmentation]] = None, lazy: bool = False,
                 bbox_format: str = "pascal_voc", cleaning_file: Optional[str] = None,
                 validation_split: Optional[float] = None, seed: int = 13) -> None:
        self.pipeline = AugmentationPipeline(augmentation or [], bbox_format)
        if cleaning_file is not None:
            CleaningDecisions.load(cleaning_file)  # a mistake in it stops the run before any image is read
        if validation_split is not None:
            check_validation_split(validation_split)
        self.cleaning_file = cleaning_file
        self.lazy = lazy
        self.validation_split = validation_split
        self.seed = seed

    def find_samples(self, file_path: Union[str, os.PathLike], warn: bool = True
                     ) -> Tuple[List[Sample], SkippedFiles, Path]:
        """Every ``(image path, label)`` found at ``file_path`` from names alone, the files left
        out (warned about if ``warn``), and the folder the sample paths are relative to."""
        raise NotImplementedError

    def read_labels(self, file_path: Union[str, os.PathLike]) -> List[str]:
        """The label of each sample :meth:`read` would read (see :meth:`DatasetReader.read_labels`)."""
        samples, _, root = self.find_samples(file_path, warn=False)
        return [str(label) for _, label in self.select(samples, root, file_path)]

    def validation_files(self, file_path: Union[str, os.PathLike]) -> List[str]:
        """The files ``validation_split`` holds out of ``file_path``, relative to the folder read
        (``Cat/1.jpg``): ``read(file_path, only=...)`` with them reads the validation part.

        Raises:
            ConfigurationError: the reader has no ``validation_split``; as
                :func:`~allencv_lite.data.validation_split.split_for_validation`.
        """
        if self.validation_split is None:
            raise ConfigurationError("validation_files: this reader has no validation_split; set "
                                     "\"validation_split\": 0.2 on it to hold out a fifth of each class.")
        samples, _, root = self.find_samples(file_path, warn=False)
        _, validation = split_for_validation(samples, self.validation_split, self.seed, file_path)
        return [relative_path(path, root) for path, _ in validation]

    def select(self, samples: List[Sample], root: Path, source: Union[str, os.PathLike],
               only: Optional[Collection[str]] = None) -> List[Sample]:
        """The ``samples`` to read: those named in ``only`` (relative to ``root``), else the
        training part of the ``validation_split``, else all.

        Raises:
            ConfigurationError: as :func:`~allencv_lite.data.validation_split.split_for_validation`.
        """
        if only is not None:
            wanted = set(only)
            chosen = [sample for sample in samples if relative_path(sample[0], root) in wanted]
            if len(chosen) < len(wanted):
                logger.warning("%d of the %d files asked for are not in %s (e.g. %s); reading the other %d.",
                               len(wanted) - len(chosen), len(wanted), source,
                               sorted(wanted - {relative_path(path, root) for path, _ in chosen})[0], len(chosen))
            return chosen
        if self.validation_split is None:
            return samples
        train, _ = split_for_validation(samples, self.validation_split, self.seed, source)
        return train

    # What notebooks and predictors use of the pipeline, by the reader's name.
    @property
    def transforms(self) -> List[Any]:
        """The augmentation's steps, the appended ``normalize`` included."""
        return self.pipeline.transforms

    @property
    def output_size(self) -> Optional[Tuple[int, int]]:
        """``(height, width)`` every image comes out at, or ``None`` when it depends on the image."""
        return self.pipeline.output_size

    @property
    def working_size_steps(self) -> int:
        """How many leading steps an eager dataset applies once, when it decodes."""
        return self.pipeline.working_size_steps

    def load_image(self, path: ImageSource) -> np.ndarray:
        """Decode ``path`` to ``uint8`` ``(height, width, 3)`` RGB (see ``AugmentationPipeline.load_image``).

        Raises:
            UnreadableImageError: the file cannot be decoded, or is smaller than a crop.
        """
        return self.pipeline.load_image(path)

    def augment(self, image: np.ndarray, **targets: Any) -> Dict[str, Any]:
        """The augmentation applied to ``image`` and its ``masks``, ``boxes``, ``keypoints`` (see
        ``AugmentationPipeline.augment``, which names the shapes and errors)."""
        return self.pipeline.augment(image, **targets)

    def image_to_tensor(self, image: np.ndarray) -> torch.Tensor:
        """``uint8`` ``(height, width, 3)`` -> normalized float32 tensor ``(3, H, W)``."""
        return self.pipeline.image_to_tensor(image)

    def make_dataset(self, samples: Iterable[Sample], source: Optional[Union[str, os.PathLike]] = None,
                     skipped_files: Optional[SkippedFiles] = None,
                     root: Optional[Union[str, os.PathLike]] = None) -> ImageDataset:
        """An :class:`ImageDataset` over ``samples`` that decodes and augments like this reader,
        after applying the ``cleaning_file`` (its keys relative to ``root``, default ``source``);
        the dataset's ``cleaning`` then says what was applied."""
        applied = None
        if self.cleaning_file is not None:
            decisions = CleaningDecisions.load(self.cleaning_file)
            samples, applied = decisions.apply(list(samples), root if root is not None else source)
        if self.lazy:
            decode, transform = self.pipeline.load_image, self.pipeline.transform
        else:
            decode, transform = self.pipeline.load_at_working_size, self.pipeline.transform_from_working_size
        dataset = ImageDataset(samples, decode=decode, transform=transform, lazy=self.lazy,
                               reseed=self.pipeline.reseed, source=source, skipped_files=skipped_files,
                               pipeline=self.pipeline, root=root if root is not None else source)
        dataset.cleaning = applied
        return dataset


# The built-in implementations, each imported when a config first names it.
DatasetReader.register_lazily("image_classification_csv", "allencv_lite.data.dataset_readers.image_classification_csv")
DatasetReader.register_lazily("image_classification_directory",
                              "allencv_lite.data.dataset_readers.image_classification_directory")
