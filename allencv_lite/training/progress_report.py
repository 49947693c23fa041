"""What a person watching training sees: a progress bar per epoch, estimates of the time left,
a line per epoch and, at the end, which epoch's weights were kept. The trainer puts
:class:`ProgressReport` in front of its callbacks (in process 0), so the loop itself never
draws or logs progress.

The time estimate times a few batches and scales them by each epoch's planned cost. With gradual
unfreezing (ULMFiT, :class:`~allencv_lite.training.learning_rate_schedulers.SlantedTriangular`)
later epochs train more layers and take longer: an epoch whose fraction ``f`` of the model's
weights trains costs about ``1 + 2 f`` forward passes per batch (the forward pass runs through
every layer; the backward pass, about twice a forward's work where it computes input and weight
gradients, runs through the trained part: Kaplan et al. 2020, "Scaling Laws for Neural Language
Models", section 2.1, count 2 N operations forward and 4 N backward). The fraction of weights
stands in for the fraction of computation, so the estimate is made again, from measured batches,
in each epoch whose planned cost changes.
"""
import logging
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from allencv_lite.common.progress import progress_bar
from allencv_lite.common.text import format_duration, plural
from allencv_lite.training.callbacks import TrainerCallback

logger = logging.getLogger(__name__)

PROGRESS_REFRESH_SECONDS = 0.5
TIME_ESTIMATE_BATCHES = 5  # batches timed, after the first (which also starts loader workers), for an estimate
NOT_IN_LINES = ("num_images", "images_per_second", "num_skipped_files")  # in metrics.csv, not in the log lines


def epoch_costs(group_sizes: Sequence[int], total_weights: int,
                trainable_per_epoch: Sequence[Optional[Sequence[bool]]]) -> List[float]:
    """Each epoch's cost per batch, in forward passes: ``1 + 2 f``, ``f`` the fraction of the
    model's ``total_weights`` in the optimizer's parameter groups that train in it
    (``group_sizes``: weights per group; an entry of ``trainable_per_epoch`` is a scheduler's
    ``trainable_groups(epoch)``, ``None`` meaning every group trains)."""
    costs = []
    for trainable in trainable_per_epoch:
        trained = sum(size for index, size in enumerate(group_sizes) if trainable is None or trainable[index])
        costs.append(1 + 2 * trained / max(total_weights, 1))
    return costs


def planned_epoch_costs(model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
                        num_epochs: int) -> List[float]:
    """:func:`epoch_costs` of the ``num_epochs`` epochs ``scheduler`` (a
    :class:`~allencv_lite.training.learning_rate_schedulers.LearningRateScheduler` or ``None``) plans."""
    group_sizes = [sum(parameter.numel() for parameter in group["params"]) for group in optimizer.param_groups]
    plan = [scheduler.trainable_groups(epoch) if scheduler is not None else None for epoch in range(num_epochs)]
    return epoch_costs(group_sizes, sum(parameter.numel() for parameter in model.parameters()), plan)


def estimate_training_seconds(seconds_per_batch: float, num_batches: int, costs: Sequence[float],
                              epoch: int) -> Tuple[float, float]:
    """``(this epoch's, the rest of the run's)`` training seconds, from ``seconds_per_batch``
    measured in ``epoch`` (0-based): each epoch ``e`` from ``epoch`` on takes ``num_batches``
    batches of ``seconds_per_batch * costs[e] / costs[epoch]`` seconds. Validation not included."""
    this_epoch = seconds_per_batch * num_batches
    return this_epoch, this_epoch * sum(costs[epoch:]) / costs[epoch]


def format_metrics(metrics: Dict[str, float], first: str = "") -> str:
    """``accuracy 0.881 loss 0.412``: 3 decimals, ``first`` (a name) first, counts left out."""
    names = sorted((name for name in metrics if name not in NOT_IN_LINES), key=lambda name: name != first)
    return " ".join(f"{name} {metrics[name]:.3f}" for name in names)


def format_epoch_line(epoch: int, num_epochs: int, metrics: Dict[str, Any]) -> str:
    """``epoch 2/4 · training loss 0.412 accuracy 0.881 · validation loss 0.301 accuracy 0.950 · 12.3 s``
    (about 100 columns with a model's accuracy), and ``· 1 file skipped`` when files were left
    out. Epoch -1 is the linear probe: ``epoch 0/4 (linear probe) · validation ...``. Learning
    rates and image counts are in ``metrics.csv``."""
    parts = [f"epoch {epoch + 1}/{num_epochs}" + (" (linear probe)" if epoch < 0 else "")]
    for split in ("training", "validation"):
        split_metrics = {name[len(split) + 1:]: value for name, value in metrics.items() if name.startswith(split + "_")}
        if split_metrics:
            parts.append(f"{split} {format_metrics(split_metrics, 'loss')}")
    skipped = metrics.get("training_num_skipped_files", 0) + metrics.get("validation_num_skipped_files", 0)
    if skipped:
        parts.append(f"{plural(skipped, 'file')} skipped")
    parts.append(format_duration(metrics["epoch_duration_seconds"]))
    return " · ".join(parts)


def describe_kept_epoch(final: Dict[str, Any], metric_name: str = "", keeps_best: bool = True) -> str:
    """The end of a run in a line, from its final metrics (``metrics.json``): ``kept epoch 3 of 4:
    validation accuracy 0.994 loss 0.031 (last epoch: accuracy 0.990 loss 0.040)``. Epochs count
    from 1, of those trained so far; epoch 0 is the linear probe (``kept epoch 0 of 2 (the linear
    probe): ...``). ``metric_name`` (the tracked metric) comes first; without validation data,
    training metrics are shown. ``keeps_best`` false (no ``serialization_dir``,
    so no ``best.th``): the model keeps the last epoch's weights, and the line says so."""
    if "best_epoch" not in final:
        return "no epoch finished, so no weights were kept"
    split = "validation" if any(name.startswith("best_validation_") for name in final) else "training"
    best = {name[len(f"best_{split}_"):]: value for name, value in final.items()
            if name.startswith(f"best_{split}_") and name[len(f"best_{split}_"):] not in NOT_IN_LINES}
    last = {name: final[f"{split}_{name}"] for name in best}
    kept, trained = final["best_epoch"] + 1, final["epoch"] + 1
    if trained == 0:
        return f"kept the linear probe (no epoch trained): {split} {format_metrics(best, metric_name)}"
    if not keeps_best:
        return (f"the model holds the last epoch, {trained}: {split} {format_metrics(last, metric_name)} (best, epoch "
                f"{kept}: {format_metrics(best, metric_name)})")
    kept_name = f"epoch {kept} of {trained}" + ("" if kept else " (the linear probe)")
    return f"kept {kept_name}: {split} {format_metrics(best, metric_name)}" + (
        f" (last epoch: {format_metrics(last, metric_name)})" if kept != trained else " (the last)")


class ProgressReport(TrainerCallback):
    """A bar per epoch of training with the running metrics (refreshed at most every
    :data:`PROGRESS_REFRESH_SECONDS`); an estimate of the time left from batches 2 to
    1 + :data:`TIME_ESTIMATE_BATCHES` of the first epoch trained and of each epoch whose planned
    cost changes; a line per epoch (:func:`format_epoch_line`); and at the end, Ctrl-C included,
    :func:`describe_kept_epoch`.

    Args:
        metric_name: the trainer's tracked metric (``accuracy``), shown first.
        costs: each epoch's planned cost (:func:`planned_epoch_costs`); ``None``: all alike.
        keeps_best: whether the model ends with the best epoch's weights (a ``serialization_dir``).
    """

    def __init__(self, metric_name: str = "", costs: Optional[Sequence[float]] = None, keeps_best: bool = True) -> None:
        self.metric_name, self.costs, self.keeps_best = metric_name, costs, keeps_best
        self.num_epochs = self.num_batches = 0
        self.bar: Optional[Any] = None
        self.last_refresh = self.first_batch_end = 0.0
        self.estimated_cost: Optional[float] = None  # the cost of the epoch last estimated from
        self.estimate_due = False

    def on_train_start(self, num_epochs: int, num_batches_per_epoch: int, first_epoch: int) -> None:
        self.num_epochs, self.num_batches = num_epochs, num_batches_per_epoch
        self.costs = list(self.costs) if self.costs is not None else [1.0] * num_epochs

    def on_epoch_start(self, epoch: int) -> None:
        self.bar = progress_bar(None, f"epoch {epoch + 1}/{self.num_epochs} train", total=self.num_batches,
                                dynamic_ncols=True)
        self.last_refresh = time.monotonic()
        self.estimate_due = self.costs[epoch] != self.estimated_cost

    def wants_batch_metrics(self, epoch: int, batch_index: int) -> bool:
        return time.monotonic() - self.last_refresh > PROGRESS_REFRESH_SECONDS

    def on_batch_end(self, epoch: int, batch_index: int, learning_rates: List[float],
                     metrics: Dict[str, float]) -> None:
        now = time.monotonic()
        if batch_index == 0:
            self.first_batch_end = now
        elif batch_index == TIME_ESTIMATE_BATCHES and self.estimate_due:
            self._log_time_estimate(epoch, (now - self.first_batch_end) / TIME_ESTIMATE_BATCHES)
        if metrics:
            self.bar.set_postfix({name: f"{value:.4g}" for name, value in metrics.items()}, refresh=False)
            self.last_refresh = now
        self.bar.update()
        if batch_index == self.num_batches - 1:
            self._close_bar()  # before validation draws its own

    def on_epoch_end(self, epoch: int, metrics: Dict[str, float]) -> None:
        logger.info(format_epoch_line(epoch, self.num_epochs, metrics))

    def on_end(self, metrics: Dict[str, float]) -> None:
        self._close_bar()  # still open when Ctrl-C stopped an epoch
        logger.info(describe_kept_epoch(metrics, self.metric_name, self.keeps_best))

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _log_time_estimate(self, epoch: int, seconds_per_batch: float) -> None:
        this_epoch, left = estimate_training_seconds(seconds_per_batch, self.num_batches, self.costs, epoch)
        later_costlier = any(cost > self.costs[epoch] for cost in self.costs[epoch + 1:])
        logger.info("Time estimate from batches 2-%d of epoch %d: about %s for this epoch's training (%s), %s for the "
                    "%s left%s, validation not included; a busy machine takes longer.", TIME_ESTIMATE_BATCHES + 1,
                    epoch + 1, format_duration(this_epoch), plural(self.num_batches, "batch", "batches"),
                    format_duration(left), plural(self.num_epochs - epoch, "epoch"),
                    " (later ones train more layers)" if later_costlier else "")
        self.estimated_cost, self.estimate_due = self.costs[epoch], False
