"""Batching: how a dataset becomes a ``torch.utils.data.DataLoader``.

Worker processes get a copy of the dataset. Under the ``fork`` start method (Linux's
default) that copy is inherited; under ``spawn`` (macOS's and Windows' default) and
``forkserver`` it is pickled, which fails for objects defined in a notebook cell (a
``lambda``, or a class or function of the interactive ``__main__`` that a worker cannot
import). The factory checks this first and, if so, loads in the main process with one
warning saying why, instead of letting every worker crash.
"""
import io
import logging
import multiprocessing
import pickle
import sys
import types
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import torch
from torch.utils.data import DataLoader

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable
from allencv_lite.data.augmentation_checks import output_size
from allencv_lite.data.dataset import ImageDataset, SkippedSample, collate_samples

logger = logging.getLogger(__name__)

Batch = Optional[dict]


def _start_worker(worker_id: int) -> None:
    """Keep each worker on one thread and give it its own, reproducible augmentation stream.

    Each worker is one busy process, so its libraries must not start threads of their own
    (torch already sets its worker threads to 1; OpenCV, which albumentations resizes with,
    would use one per core). ``cv2.setNumThreads(0)`` makes OpenCV run sequentially; ``1``
    would hang a forked worker whose parent had already used OpenCV's thread pool. torch
    seeds worker ``i`` with ``base_seed + i``, where ``base_seed`` comes from the main
    process' torch generator.
    """
    cv2.setNumThreads(0)
    info = torch.utils.data.get_worker_info()
    if info is not None and isinstance(info.dataset, ImageDataset):
        info.dataset.reseed(torch.initial_seed() % 2**32)


def _collate_keeping_skips(batch: Sequence[Any]) -> Tuple[Batch, List[SkippedSample]]:
    """``collate_samples`` plus the skipped samples, so the main process can record them."""
    return collate_samples(batch), [sample for sample in batch if isinstance(sample, SkippedSample)]


class ImageDataLoader(DataLoader):
    """A ``DataLoader`` over an :class:`ImageDataset` whose batches leave out images found
    unreadable while decoding, in any worker, recording each once in the dataset's
    ``skipped_files`` (which the next epochs then pass over without decoding).

    Yields ``{"image": float32 (batch, 3, H, W), "label": (batch,)}``, or ``None`` for a batch
    whose images were all unreadable.
    """

    def __iter__(self) -> Iterator[Batch]:  # type: ignore[override]
        newly_skipped = 0
        for batch, skipped in super().__iter__():
            for sample in skipped:
                newly_skipped += self.dataset.skipped_files.add(sample.path, sample.reason, sample.detail)
            yield batch
        if newly_skipped:
            logger.warning("%d unreadable image(s) found during this pass over %s were skipped; in all, %s.",
                           newly_skipped, self.dataset.source, self.dataset.skipped_files.summary())


class _NullWriter(io.RawIOBase):
    def write(self, data: Any) -> int:
        return len(data)


class _SpawnPickler(pickle.Pickler):
    """Pickles as a worker start would, and refuses what a spawned worker cannot import:
    classes and functions of an interactive ``__main__`` (a notebook)."""

    def reducer_override(self, obj: Any) -> Any:
        main = sys.modules.get("__main__")
        if isinstance(obj, (type, types.FunctionType)) and obj.__module__ == "__main__" \
                and not hasattr(main, "__file__"):
            raise pickle.PicklingError(f"{getattr(obj, '__qualname__', obj)!s} is defined in the interactive "
                                       "session (a notebook cell), which worker processes cannot import")
        return NotImplemented


def why_workers_cannot_receive(dataset: Any) -> Optional[str]:
    """Why ``dataset`` cannot be sent to ``spawn``/``forkserver`` workers, or ``None`` if it can."""
    try:
        _SpawnPickler(_NullWriter(), protocol=pickle.HIGHEST_PROTOCOL).dump(dataset)
    except Exception as error:  # noqa: BLE001 - any pickling failure means the same: no workers
        return f"{type(error).__name__}: {error}"
    return None


def check_one_size_per_batch(dataset: ImageDataset, batch_size: int) -> None:
    """Refuse, before training, batches of images that would come out of the augmentation in
    different sizes (``torch.stack`` would stop the epoch with "stack expects each tensor to be
    equal size"): with no resize or crop to one size in the pipeline, the decoded images of an
    eager dataset must give one output size. A lazy dataset has not decoded its images, so it is
    not checked here.

    Raises:
        ConfigurationError: naming two files whose output sizes differ, and the fix.
    """
    pipeline = dataset.pipeline
    sizes = dataset.image_sizes()
    if batch_size == 1 or pipeline is None or pipeline.output_size is not None or sizes is None:
        return
    steps_left = pipeline.transforms[pipeline.working_size_steps:]  # the kept images are at the working size
    first_of_size: dict = {}
    for (path, _), (height, width) in zip(dataset.samples, sizes):
        first_of_size.setdefault(output_size(steps_left, height, width), path)
        if len(first_of_size) > 1:
            (size_a, path_a), (size_b, path_b) = first_of_size.items()
            raise ConfigurationError(
                f"batch_size: {batch_size} images per batch must come out of the augmentation in one size, but the "
                f"augmentation has no resize or crop to one size and {dataset.source} holds images that give "
                f"{size_a[1]}x{size_a[0]} ({path_a}) and {size_b[1]}x{size_b[0]} ({path_b}) (width x height). Add "
                "{\"type\": \"resize\", \"height\": 224, \"width\": 224} to the reader's augmentation, or use "
                "batch_size 1.")


class DataLoaderFactory(Registrable, FromParams):
    """The config's ``"iterator"`` (AllenNLP 0.9) or ``"data_loader"`` block.

    Args:
        batch_size: images per batch.
        shuffle: reshuffle the training data each epoch (validation is never shuffled).
        num_workers: background processes decoding images (0 = in the main process). They
            are kept alive across epochs, since starting them is slow under ``spawn``.
        start_method: how workers start: ``"fork"``, ``"spawn"`` or ``"forkserver"``;
            ``None`` uses Python's default for the platform.
        pin_memory: put batches in page-locked memory, so that copies to a GPU can overlap
            computation (the trainer copies with ``non_blocking=True``); ``None`` pins when
            CUDA is available.

    Raises:
        ConfigurationError: a negative ``num_workers`` or batch size, a start method this
            platform lacks, or (in a distributed run, where each of W processes loads
            ``batch_size / W`` images per step) a batch size that is not a multiple of W.
    """

    default_implementation = "basic"

    def __init__(self, batch_size: int = 32, shuffle: bool = True, num_workers: int = 0,
                 start_method: Optional[str] = None, pin_memory: Optional[bool] = None) -> None:
        if batch_size < 1:
            raise ConfigurationError(f"batch_size: must be at least 1, got {batch_size}.")
        processes = torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1
        if batch_size % processes:
            raise ConfigurationError(f"batch_size: {batch_size} images per step cannot be split evenly over {processes} "
                                     f"processes; use a multiple of {processes}.")
        if num_workers < 0:
            raise ConfigurationError(f"num_workers: must be 0 (main process) or more, got {num_workers}.")
        if start_method is not None and start_method not in multiprocessing.get_all_start_methods():
            raise ConfigurationError(f"start_method: '{start_method}' is not available here; choose one of "
                                     f"{multiprocessing.get_all_start_methods()}.")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.num_workers = num_workers
        self.start_method = start_method
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else pin_memory

    def build(self, dataset: ImageDataset, for_training: bool = True) -> ImageDataLoader:
        """An :class:`ImageDataLoader` yielding ``image`` ``(batch, 3, H, W)``, ``label`` ``(batch,)``.

        For training, a last batch that would hold a single image (of batches meant to be
        larger) is left out of every epoch (``drop_last``), with one warning: batch norm in
        training mode cannot normalize one image (a channel may hold a single value, PyTorch's
        "Expected more than 1 value per channel when training"), and even where it can, one
        image's statistics are noise. Shuffled, a different image waits each epoch. (In a
        distributed run the ``DistributedSampler`` pads the data instead.)

        Raises:
            ConfigurationError: batches of several images that would not stack (see
                :func:`check_one_size_per_batch`).

        Falls back to ``num_workers=0``, with one warning, when the start method must
        pickle the dataset and it cannot be (see the module's docstring).
        """
        check_one_size_per_batch(dataset, self.batch_size)
        distributed = torch.distributed.is_initialized() and torch.distributed.get_world_size() > 1  # pads instead
        drop_last = (for_training and not distributed and len(dataset) > self.batch_size > 1
                     and len(dataset) % self.batch_size == 1)
        if drop_last:
            logger.warning("Leaving out the last training batch of each epoch, a lone image: batch norm in training mode "
                           "needs at least 2 images per batch. %d training images in batches of %d leave 1 over; add or "
                           "remove an image, or change the batch size, to train on every image.",
                           len(dataset), self.batch_size)
        num_workers = self.num_workers
        context: Union[None, multiprocessing.context.BaseContext] = None
        if num_workers > 0:
            context = multiprocessing.get_context(self.start_method)
            if context.get_start_method() != "fork":
                problem = why_workers_cannot_receive(dataset)
                if problem is not None:
                    logger.warning(
                        "Loading %s in the main process (num_workers=0 instead of %d): the '%s' start method "
                        "sends the dataset to worker processes by pickling it, and %s. Define custom "
                        "transforms in an importable .py module to use workers.",
                        dataset.source, num_workers, context.get_start_method(), problem)
                    num_workers, context = 0, None
        return ImageDataLoader(dataset, batch_size=self.batch_size, shuffle=self.shuffle and for_training,
                               num_workers=num_workers, collate_fn=_collate_keeping_skips,
                               worker_init_fn=_start_worker if num_workers else None,
                               multiprocessing_context=context, persistent_workers=num_workers > 0,
                               pin_memory=self.pin_memory, drop_last=drop_last)


DataLoaderFactory.register("basic")(DataLoaderFactory)
