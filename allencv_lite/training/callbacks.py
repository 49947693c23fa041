"""Hooks into the training loop, for progress displays and experiment tracking.

A config names callbacks in the trainer block (AllenNLP's ``callbacks`` key)::

    "trainer": {..., "callbacks": [{"type": "tensorboard"}]}

and Python code passes instances (``train_model(config, "runs/x", callbacks=[LiveTrainingCurves()])``);
the trainer calls both, after its own
:class:`~allencv_lite.training.progress_report.ProgressReport`. Registered: ``tensorboard``
(:class:`~allencv_lite.training.tensorboard.TensorBoardCallback`) and ``live_training_curves``
(:class:`~allencv_lite.widgets.live_training_curves.LiveTrainingCurves`), each imported when a
config first names it.
"""
from typing import Dict, List, Optional

import torch

from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable


class TrainerCallback(Registrable, FromParams):
    """Override any of these hooks; the trainer calls them in this order, in process 0 only
    when training runs in several processes::

        on_train_start(num_epochs, num_batches_per_epoch, first_epoch)
        for each epoch:       on_epoch_start(epoch)
            for each batch:   on_batch_start(epoch, batch_index, batch)
                              on_batch_end(epoch, batch_index, learning_rates, metrics)
            on_epoch_end(epoch, metrics)
        on_end(metrics)

    Every hook gets what it needs as arguments, so a callback never reads the trainer's
    attributes. Epochs and batch indices count from 0. Metrics are plain floats: ``loss``,
    ``accuracy`` (with ``training_``/``validation_`` prefixes at the end of an epoch), learning
    rates as ``lr_group_<i>``.

    A constructor argument named ``serialization_dir`` is not a config key: the trainer's
    serialization directory is passed to it (``None`` without one), as in AllenNLP.
    """

    def wants_batch_metrics(self, epoch: int, batch_index: int) -> bool:
        """Whether :meth:`on_batch_end` of this batch should get the epoch's running metrics.

        Computing them copies the loss and the model's metrics from the device (``.item()``),
        which waits for the GPU to finish its queued work, so the trainer does it only for
        batches some callback asks for. The default: never."""
        return False

    def on_train_start(self, num_epochs: int, num_batches_per_epoch: int, first_epoch: int) -> None:
        """Once, before the first epoch: ``num_epochs`` the run trains in all,
        ``num_batches_per_epoch`` (this process's share, if distributed), and ``first_epoch``,
        above 0 when a checkpoint has been restored."""

    def on_epoch_start(self, epoch: int) -> None:
        """Before the first batch of ``epoch``."""

    def on_batch_start(self, epoch: int, batch_index: int, batch: Optional[Dict[str, torch.Tensor]]) -> None:
        """Before training batch ``batch_index`` of ``epoch``: ``batch`` as the data loader gave
        it, ``image`` ``(batch, 3, height, width)`` (normalized, on the CPU) and ``label``
        ``(batch,)``; ``None`` when every image of the batch was unreadable."""

    def on_batch_end(self, epoch: int, batch_index: int, learning_rates: List[float],
                     metrics: Dict[str, float]) -> None:
        """After the batch's backward pass (the last batch of an optimizer step is followed by
        the step). ``learning_rates``: each parameter group's rate for this batch's step.
        ``metrics``: the epoch's running training metrics (with ``lr_group_<i>`` if the
        trainer's ``should_log_learning_rate`` is set) when :meth:`wants_batch_metrics` said so
        for this batch, else empty."""

    def on_epoch_end(self, epoch: int, metrics: Dict[str, float]) -> None:
        """After validation of ``epoch`` and its checkpoint; ``metrics`` hold training and
        validation metrics, each group's mean ``lr_group_<i>`` and ``epoch_duration_seconds``."""

    def on_end(self, metrics: Dict[str, float]) -> None:
        """Once, after the last epoch (or early stop), with the run's final metrics; also when
        Ctrl-C stops training (with the metrics of the epochs finished so far), before the
        ``KeyboardInterrupt`` goes on."""


# The built-in callbacks, each imported when a config first names it.
TrainerCallback.register_lazily("tensorboard", "allencv_lite.training.tensorboard")
TrainerCallback.register_lazily("live_training_curves", "allencv_lite.widgets.live_training_curves")
