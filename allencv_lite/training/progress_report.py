"""What a person watching training sees: a progress bar per epoch, an estimate of the time
left, one log line per epoch. The trainer adds :class:`ProgressReport` in front of its
callbacks (in process 0), so the loop itself never draws or logs progress.
"""
import logging
import time
from typing import Any, Dict, List, Optional

from allencv_lite.common.progress import progress_bar
from allencv_lite.common.text import format_duration, format_learning_rate, plural
from allencv_lite.training.callbacks import TrainerCallback

logger = logging.getLogger(__name__)

PROGRESS_REFRESH_SECONDS = 0.5
TIME_ESTIMATE_BATCHES = 5  # batches timed, after the first (which also starts loader workers), for the estimate


def format_epoch_metrics(metrics: Dict[str, Any]) -> str:
    """``training_loss 0.4123, ..., lr_group_0 1.44e-05``: learning rates in scientific notation,
    other numbers to 4 decimals, the 0-based ``epoch`` key left out (the log line says the epoch)."""
    return ", ".join(f"{name} {format_learning_rate(value) if name.startswith('lr_group_') else round(value, 4)}"
                     for name, value in metrics.items() if name != "epoch")


class ProgressReport(TrainerCallback):
    """A bar per epoch of training with the running metrics (refreshed at most every
    :data:`PROGRESS_REFRESH_SECONDS`), once per run an estimate of the time left from the speed
    of batches 2 to 1 + :data:`TIME_ESTIMATE_BATCHES` of the first epoch trained, and a log
    line per epoch (``epoch 2/3: training_loss 0.41, ...``)."""

    def __init__(self) -> None:
        self.num_epochs = self.num_batches = 0
        self.bar: Optional[Any] = None
        self.last_refresh = self.first_batch_end = 0.0
        self.time_estimated = False

    def on_train_start(self, num_epochs: int, num_batches_per_epoch: int, first_epoch: int) -> None:
        self.num_epochs, self.num_batches = num_epochs, num_batches_per_epoch

    def on_epoch_start(self, epoch: int) -> None:
        self.bar = progress_bar(None, f"epoch {epoch + 1}/{self.num_epochs} train", total=self.num_batches,
                                dynamic_ncols=True)
        self.last_refresh = time.monotonic()

    def wants_batch_metrics(self, epoch: int, batch_index: int) -> bool:
        return time.monotonic() - self.last_refresh > PROGRESS_REFRESH_SECONDS

    def on_batch_end(self, epoch: int, batch_index: int, learning_rates: List[float],
                     metrics: Dict[str, float]) -> None:
        now = time.monotonic()
        if batch_index == 0:
            self.first_batch_end = now
        elif batch_index == TIME_ESTIMATE_BATCHES and not self.time_estimated:
            self._log_time_estimate(epoch, (now - self.first_batch_end) / TIME_ESTIMATE_BATCHES)
        if metrics:
            self.bar.set_postfix({name: f"{value:.4g}" for name, value in metrics.items()}, refresh=False)
            self.last_refresh = now
        self.bar.update()
        if batch_index == self.num_batches - 1:
            self._close_bar()  # before validation draws its own

    def on_epoch_end(self, epoch: int, metrics: Dict[str, float]) -> None:
        logger.info("epoch %d/%d: %s", epoch + 1, self.num_epochs, format_epoch_metrics(metrics))

    def on_end(self, metrics: Dict[str, float]) -> None:
        self._close_bar()  # still open when Ctrl-C stopped an epoch

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _log_time_estimate(self, epoch: int, seconds_per_batch: float) -> None:
        epoch_seconds = seconds_per_batch * self.num_batches
        logger.info("Time estimate from batches 2-%d of epoch %d: about %s per epoch of training (%s), %s for the %s "
                    "left, validation not included; a busy machine takes longer.", TIME_ESTIMATE_BATCHES + 1,
                    epoch + 1, format_duration(epoch_seconds), plural(self.num_batches, "batch", "batches"),
                    format_duration(epoch_seconds * (self.num_epochs - epoch)),
                    plural(self.num_epochs - epoch, "epoch"))
        self.time_estimated = True
