"""A trainer callback that writes TensorBoard event files (``torch.utils.tensorboard``).

``{"type": "tensorboard"}`` in the trainer's ``callbacks`` writes, as AllenNLP's
``TensorBoardCallback`` does, into ``<serialization_dir>/log/train`` and ``.../log/validation``,
so ``tensorboard --logdir SERIALIZATION_DIR`` shows a run, its training and validation curves
on the same charts. Tags (epochs 0-based, as in ``metrics.csv``; batches counted from 1 over
the whole run)::

    epoch/<metric>            both runs, step = epoch     (loss, accuracy, num_images, ...)
    epoch/lr_group_<i>        train run, step = epoch     (the epoch's mean learning rate)
    batch/<metric>            train run, step = batch     (running loss, accuracy of the epoch)
    learning_rate/group_<i>   train run, step = batch
    images/first_batch        train run, step = batch     (once per run: the first batch trained on)
"""
import logging
import os
from pathlib import Path
from typing import Dict, List, Optional, Union

import torch
import torchvision

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.training.callbacks import TrainerCallback

logger = logging.getLogger(__name__)

IMAGES_SHOWN = 16  # of the first batch


@TrainerCallback.register("tensorboard")
class TensorBoardCallback(TrainerCallback):
    """Scalars of every epoch's training and validation metrics and learning rates, running
    metrics and each group's learning rate every ``summary_interval`` batches, and a grid of the
    first batch's images, as TensorBoard event files.

    The images are shown as the model sees them, each rescaled from its own minimum and
    maximum to [0, 1] (torchvision's ``make_grid(normalize=True, scale_each=True)``), which
    undoes any ``normalize`` step of the augmentation whatever its mean and std.

    The event files are opened when training starts (so building a config writes nothing),
    flushed after every epoch and closed at the end. A resumed run (``--recover``) adds new
    event files beside the old ones, and its steps continue from the restored epoch.

    Args:
        serialization_dir: the trainer's (not a config key; see :class:`TrainerCallback`).
        log_dir: where the ``train`` and ``validation`` runs go; default
            ``<serialization_dir>/log``.
        summary_interval: log the running metrics and learning rates every this many batches.
            Each such batch copies the running metrics from the device (see
            :meth:`TrainerCallback.wants_batch_metrics`).

    Raises:
        ConfigurationError: neither ``log_dir`` nor a serialization directory, or
            ``summary_interval`` below 1.
    """

    def __init__(self, serialization_dir: Optional[Union[str, os.PathLike]] = None,
                 log_dir: Optional[Union[str, os.PathLike]] = None, summary_interval: int = 10) -> None:
        if log_dir is None and serialization_dir is None:
            raise ConfigurationError("log_dir: the tensorboard callback needs a log_dir when the trainer has no "
                                     "serialization directory; set \"log_dir\": \"runs/tensorboard\", say.")
        if summary_interval < 1:
            raise ConfigurationError(f"summary_interval: must be at least 1 batch, got {summary_interval}.")
        self.log_dir = Path(log_dir) if log_dir is not None else Path(serialization_dir) / "log"
        self.summary_interval = summary_interval
        self._num_batches_per_epoch = 1
        self._images_logged = False
        self._writers: Dict[str, "torch.utils.tensorboard.SummaryWriter"] = {}

    def _batch_number(self, epoch: int, batch_index: int) -> int:
        """Batches trained since the run began, this one included."""
        return epoch * self._num_batches_per_epoch + batch_index + 1

    def wants_batch_metrics(self, epoch: int, batch_index: int) -> bool:
        return self._batch_number(epoch, batch_index) % self.summary_interval == 0

    def on_train_start(self, num_epochs: int, num_batches_per_epoch: int, first_epoch: int) -> None:
        from torch.utils.tensorboard import SummaryWriter  # imports tensorboard: only when a run uses it

        self._num_batches_per_epoch = num_batches_per_epoch
        self._writers = {run: SummaryWriter(str(self.log_dir / run)) for run in ("train", "validation")}
        logger.info("Writing TensorBoard event files to %s; view them with: tensorboard --logdir %s",
                    self.log_dir, self.log_dir)

    def on_batch_start(self, epoch: int, batch_index: int, batch: Optional[Dict[str, torch.Tensor]]) -> None:
        if self._images_logged or batch is None:
            return
        grid = torchvision.utils.make_grid(batch["image"][:IMAGES_SHOWN].float(), normalize=True, scale_each=True)
        self._writers["train"].add_image("images/first_batch", grid, self._batch_number(epoch, batch_index))
        self._images_logged = True

    def on_batch_end(self, epoch: int, batch_index: int, learning_rates: List[float],
                     metrics: Dict[str, float]) -> None:
        if not metrics:  # not a summary batch
            return
        step = self._batch_number(epoch, batch_index)
        writer = self._writers["train"]
        for name, value in metrics.items():
            if not name.startswith("lr_group_"):
                writer.add_scalar(f"batch/{name}", value, step)
        for group, rate in enumerate(learning_rates):
            writer.add_scalar(f"learning_rate/group_{group}", rate, step)

    def on_epoch_end(self, epoch: int, metrics: Dict[str, float]) -> None:
        for name, value in metrics.items():
            run, _, metric = name.partition("_")
            if run == "training":
                self._writers["train"].add_scalar(f"epoch/{metric}", value, epoch)
            elif run == "validation":
                self._writers["validation"].add_scalar(f"epoch/{metric}", value, epoch)
            elif name != "epoch":  # lr_group_<i>, epoch_duration_seconds
                self._writers["train"].add_scalar(f"epoch/{name}", value, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_end(self, metrics: Dict[str, float]) -> None:
        for writer in self._writers.values():
            writer.close()
