"""``ImageDataset``: the samples a reader found, decoded and augmented on access.

Unreadable files never stop a run. Those found while a reader scans a folder are left out
of the dataset; those found later, when a lazy dataset decodes an image in the middle of
an epoch (a truncated JPEG has a valid header), come back as a :class:`SkippedSample`,
which :func:`collate_samples` drops. Either way the file is recorded once, with its
reason, in the dataset's :class:`SkippedFiles`.
"""
import collections
import csv
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, TextIO, Tuple, Union

import numpy as np
import torch
from torch.utils.data import Dataset

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.text import plural
from allencv_lite.data.image_loading import UnreadableImageError, check_image
from allencv_lite.data.vocabulary import DEFAULT_NAMESPACE, Vocabulary

if TYPE_CHECKING:
    from allencv_lite.data.augmentation_pipeline import AugmentationPipeline
    from allencv_lite.data.cleaning import AppliedCleaning

logger = logging.getLogger(__name__)

Sample = Tuple[str, Optional[str]]  # (image path, label or None)
Instance = Union[Dict[str, Any], "SkippedSample"]

WARNINGS_PER_REASON = 5  # files named one by one in the log, per reason; the rest are counted


def relative_path(path: Union[str, os.PathLike], root: Union[str, os.PathLike]) -> str:
    """``path`` relative to ``root``, with ``/`` separators (``Cat/1.jpg``): how a dataset's
    files are named in a validation split and an archive."""
    return Path(os.path.relpath(path, root)).as_posix()


@dataclass(frozen=True)
class SkippedSample:
    """What ``dataset[i]`` gives for an image found unreadable when it was decoded."""

    path: str
    reason: str
    detail: str = ""


class SkippedFiles:
    """The files a dataset leaves out, each with its reason.

    The first :data:`WARNINGS_PER_REASON` files of each reason get one warning each, naming
    the file; later ones are only counted, so a CSV listing 9 000 missing files does not bury
    the log, and :meth:`summary` says how many went unnamed. :meth:`write_csv` writes them all.
    With ``warn`` False nothing is logged: a scan whose files are read again (a reader's
    ``read_labels`` before its ``read``) records quietly, so each file is warned about once.

    Attributes:
        files: ``{path: reason}`` in the order the files were found.
        details: ``{path: detail}``: the underlying error or the fix, where there is one.
    """

    def __init__(self, warn: bool = True) -> None:
        self.files: Dict[str, str] = {}
        self.details: Dict[str, str] = {}
        self.warn = warn
        self._per_reason: Dict[str, int] = collections.Counter()

    def add(self, path: Union[str, os.PathLike], reason: str, detail: str = "") -> bool:
        """Record ``path`` as skipped for ``reason`` and warn (for the first few of each reason,
        if ``warn``); returns False (and stays silent) if it was recorded before."""
        path = str(path)
        if path in self.files:
            return False
        self.files[path] = reason
        self.details[path] = detail
        self._per_reason[reason] += 1
        if not self.warn:
            return True
        if self._per_reason[reason] <= WARNINGS_PER_REASON:
            logger.warning("Skipping %s: %s%s", path, reason, f" ({detail})" if detail else "")
        if self._per_reason[reason] == WARNINGS_PER_REASON:
            logger.warning("Any more files skipped as '%s' are counted without a warning each.", reason)
        return True

    def counts(self) -> Dict[str, int]:
        """``{reason: number of files}``, most frequent first."""
        return dict(collections.Counter(self.files.values()).most_common())

    def summary(self) -> str:
        """One line, e.g. ``"3 files skipped: 2 not an image, 1 truncated"``, or with more files
        of a reason than were warned about, ``"9222 files skipped: 9222 missing file (5 named
        above, and 9217 more)"``."""
        details = ", ".join(f"{count} {reason}" + (f" ({WARNINGS_PER_REASON} named above, and "
                                                   f"{count - WARNINGS_PER_REASON} more)"
                                                   if count > WARNINGS_PER_REASON else "")
                            for reason, count in self.counts().items())
        return f"{plural(len(self.files), 'file')} skipped" + (f": {details}" if details else "")

    def write_csv(self, table: TextIO, dataset_name: str, header: bool = True) -> None:
        """Write every file to the open text file ``table`` (opened with ``newline=""``) with
        ``dataset``, ``path``, ``reason``, ``detail`` columns, the header row first if ``header``."""
        writer = csv.writer(table)
        if header:
            writer.writerow(["dataset", "path", "reason", "detail"])
        writer.writerows([dataset_name, file, reason, self.details.get(file, "")]
                         for file, reason in self.files.items())

    def __contains__(self, path: object) -> bool:
        return str(path) in self.files

    def __len__(self) -> int:
        return len(self.files)


class ImageDataset(Dataset):
    """A map-style dataset of ``(path, label)`` samples, decoding and transforming with the
    functions it is given (as torchvision's ``DatasetFolder(root, loader, transform=...)``).

    ``dataset[i]`` is ``{"image": FloatTensor (3, height, width), "label": LongTensor ()}``
    (no ``"label"`` for unlabelled samples), or a :class:`SkippedSample` when a lazy
    dataset finds the file unreadable at decode time (recorded in ``skipped_files`` at
    once in the main process; by :class:`~allencv_lite.data.data_loader.ImageDataLoader`
    when a worker finds it). Call :meth:`index_with` with the
    vocabulary before indexing labelled data. A data loader fetches each sample of a batch
    with ``dataset[i]`` too, so a sample has one dtype however it is fetched.

    Args:
        samples: ``(path, label)`` pairs.
        decode: ``path`` -> ``uint8`` ``(height, width, 3)`` RGB, raising
            :class:`~allencv_lite.data.image_loading.UnreadableImageError` for a file it
            cannot use (a reader's ``load_image``).
        transform: a decoded image -> the model's ``float32`` tensor ``(3, H, W)``: the
            augmentation, normalization included (an ``AugmentationPipeline``'s ``transform``).
        lazy: if true, only each file's header is checked now (with ``check``; empty,
            non-image and too-large files are left out) and images are decoded from disk on
            every access, so memory stays flat in the dataset size; if false, every image is
            decoded once now and kept in memory as ``decode`` gives it.
        check: ``path`` -> ``None``, raising ``UnreadableImageError`` for a file whose header
            shows it unreadable (default :func:`~allencv_lite.data.image_loading.check_image`).
        reseed: restarts ``transform``'s random stream from a seed (albumentations keeps its own
            generator; each loader worker calls it with the worker's seed); ``None`` when
            ``transform`` draws from torch's generator, which the loader seeds per worker itself.
        source: where the samples came from (a folder or CSV), named in messages.
        skipped_files: files the reader already left out while scanning; the dataset adds
            the ones it finds unreadable, then logs :meth:`SkippedFiles.summary`.
        pipeline: the :class:`~allencv_lite.data.augmentation_pipeline.AugmentationPipeline`
            that ``decode`` and ``transform`` come from, for the tools that show or check images
            as it prepares them (``plot_samples``, the loader's one-size check); ``None`` for
            other functions. The dataset itself only calls ``decode`` and ``transform``.
        root: the folder the sample paths are relative to (the folder read, a CSV's image
            directory), for :meth:`relative_paths`; ``None`` when there is none.

    Attributes:
        cleaning: what the reader's ``cleaning_file`` changed
            (:class:`~allencv_lite.data.cleaning.AppliedCleaning`), or ``None`` without one.
    """

    def __init__(self, samples: Iterable[Sample], decode: Callable[[str], np.ndarray],
                 transform: Callable[[np.ndarray], torch.Tensor], lazy: bool = True,
                 check: Callable[[str], None] = check_image,
                 reseed: Optional[Callable[[int], None]] = None, source: Optional[Union[str, os.PathLike]] = None,
                 skipped_files: Optional[SkippedFiles] = None,
                 pipeline: Optional["AugmentationPipeline"] = None,
                 root: Optional[Union[str, os.PathLike]] = None) -> None:
        self.decode = decode
        self.transform = transform
        self._reseed = reseed
        self.pipeline = pipeline
        self.root = root
        self.lazy = lazy
        self.source = str(source) if source is not None else "the dataset"
        self.skipped_files = skipped_files if skipped_files is not None else SkippedFiles()
        self.vocab: Optional[Vocabulary] = None
        self.cleaning: Optional["AppliedCleaning"] = None
        self.samples: List[Sample] = []
        images = []
        for path, label in samples:
            try:
                if lazy:
                    check(path)
                else:
                    images.append(decode(path))
            except UnreadableImageError as error:
                self.skipped_files.add(path, error.reason, error.detail)
                continue
            self.samples.append((path, label))
        self._images: Optional[List[np.ndarray]] = None if lazy else images
        if self.skipped_files:
            logger.warning("Read %s from %s; %s.", plural(len(self.samples), "image"), self.source,
                           self.skipped_files.summary())

    @property
    def skipped(self) -> Dict[str, int]:
        """``{reason: number of files}`` left out so far (at the scan and during epochs)."""
        return self.skipped_files.counts()

    def index_with(self, vocab: Vocabulary) -> None:
        """Use ``vocab`` to turn labels into indices.

        Raises:
            ConfigurationError: labels of this dataset are not in ``vocab`` (e.g. a class
                folder in validation that training lacks); names each label, how many
                images carry it, one of them, and the dataset's source.
        """
        known = set(vocab.get_index_to_token_vocabulary(DEFAULT_NAMESPACE).values())
        unknown: Dict[str, List[str]] = collections.defaultdict(list)
        for path, label in self.samples:
            if label is not None and label not in known:
                unknown[label].append(path)
        if unknown:
            details = "; ".join(f"'{label}' ({len(paths)} images, e.g. {paths[0]})" for label, paths in unknown.items())
            raise ConfigurationError(
                f"{self.source} has label(s) that the training data lacks: {details}. The model can only "
                f"predict the training labels {sorted(known)}; add images of these classes to the training "
                "data, or remove them here.")
        self.vocab = vocab

    def reseed(self, seed: int) -> None:
        """Restart the augmentation's random stream from ``seed`` (called in each loader worker)."""
        if self._reseed is not None:
            self._reseed(seed)

    def image_sizes(self) -> Optional[List[Tuple[int, int]]]:
        """``(height, width)`` in pixels of each image kept in memory (as ``decode`` gave it), in
        sample order; ``None`` for a lazy dataset, which has not decoded them."""
        return None if self._images is None else [image.shape[:2] for image in self._images]

    def relative_paths(self) -> List[str]:
        """Each sample's path relative to ``root``, ``/``-separated (``Cat/1.jpg``), in order: how
        a reader's ``read(..., only=...)`` and an archive's ``validation_files.txt`` name files.

        Raises:
            ValueError: the dataset has no ``root``.
        """
        if self.root is None:
            raise ValueError("This dataset has no root folder to name its files relative to.")
        return [relative_path(path, self.root) for path, _ in self.samples]

    @property
    def labels(self) -> List[Optional[str]]:
        """The label of each sample, in order."""
        return [label for _, label in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Instance:
        path, label = self.samples[index]
        if self._images is not None:
            image = self._images[index].copy()  # what the steps give out may share the memory they were given
        elif path in self.skipped_files:
            return SkippedSample(path, self.skipped_files.files[path])
        else:
            try:
                image = self.decode(path)
            except UnreadableImageError as error:
                if torch.utils.data.get_worker_info() is None:  # a worker's copy is thrown away: the loader records it
                    self.skipped_files.add(path, error.reason, error.detail)
                return SkippedSample(path, error.reason, error.detail)
        instance: Dict[str, Any] = {"image": self.transform(image)}
        if label is not None:
            if self.vocab is None:
                raise RuntimeError("Call dataset.index_with(vocab) before reading labelled samples.")
            instance["label"] = torch.tensor(self.vocab.get_token_index(label), dtype=torch.long)
        return instance


def collate_samples(batch: Sequence[Union[Dict[str, torch.Tensor], SkippedSample, None]]
                    ) -> Optional[Dict[str, torch.Tensor]]:
    """Stack instances into a batch: ``image`` ``(batch, 3, H, W)``, ``label`` ``(batch,)``.

    Skipped samples are dropped; a batch with none left is ``None``.
    """
    instances = [instance for instance in batch if isinstance(instance, dict)]
    if not instances:
        return None
    return {key: torch.stack([instance[key] for instance in instances]) for key in instances[0]}
