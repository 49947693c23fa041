"""Hooks into the training loop, for progress displays and experiment tracking."""
from typing import TYPE_CHECKING, Dict

from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable

if TYPE_CHECKING:
    from allencv_lite.training.trainer import Trainer


class TrainerCallback(Registrable, FromParams):
    """Override any of these; the trainer calls them in this order (in process 0 only, when
    training runs in several processes). A registered callback (``@TrainerCallback.register("name")``)
    can be named in the config's ``trainer.callbacks`` list, ``[{"type": "name", ...}]``; its
    constructor may ask for ``serialization_dir``, which the trainer gives it. Metrics are plain floats: ``loss``, ``accuracy``
    (and with ``training_``/``validation_`` prefixes at the end of an epoch), learning rates
    as ``lr_group_<i>``."""

    def on_train_start(self, trainer: "Trainer") -> None:
        """Once, before the first epoch (after a checkpoint, if any, has been restored)."""

    def on_epoch_start(self, trainer: "Trainer", epoch: int) -> None:
        """Before the first batch of ``epoch`` (0-based)."""

    def on_batch_start(self, trainer: "Trainer", epoch: int, batch_index: int) -> None:
        """Before training batch ``batch_index`` (0-based) of ``epoch``."""

    def on_batch_end(self, trainer: "Trainer", epoch: int, batch_index: int, metrics: Dict[str, float]) -> None:
        """After each training batch's backward pass (and the optimizer step, when the batch
        completes one); ``metrics`` are the running training metrics of the epoch, with
        ``lr_group_<i>`` if the trainer's ``should_log_learning_rate`` is set."""

    def on_epoch_end(self, trainer: "Trainer", epoch: int, metrics: Dict[str, float]) -> None:
        """After validation of ``epoch``; ``metrics`` hold training and validation metrics."""

    def on_end(self, trainer: "Trainer", metrics: Dict[str, float]) -> None:
        """Once, after the last epoch (or early stop)."""
