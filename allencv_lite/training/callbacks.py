"""Hooks into the training loop, for progress displays and experiment tracking."""
from typing import TYPE_CHECKING, Dict

if TYPE_CHECKING:
    from allencv_lite.training.trainer import Trainer


class TrainerCallback:
    """Override any of these; the trainer calls them in order. Metrics are plain floats
    (``loss``, ``accuracy``, and with ``validation_`` prefixes; learning rates as
    ``lr_group_<i>``)."""

    def on_epoch_start(self, trainer: "Trainer", epoch: int) -> None:
        """Before the first batch of ``epoch`` (0-based)."""

    def on_batch_end(self, trainer: "Trainer", epoch: int, batch_index: int, metrics: Dict[str, float]) -> None:
        """After each optimizer step; ``metrics`` are the running training metrics of the epoch."""

    def on_epoch_end(self, trainer: "Trainer", epoch: int, metrics: Dict[str, float]) -> None:
        """After validation of ``epoch``; ``metrics`` hold training and validation metrics."""

    def on_end(self, trainer: "Trainer", metrics: Dict[str, float]) -> None:
        """Once, after the last epoch (or early stop)."""
