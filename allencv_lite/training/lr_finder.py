"""The learning-rate range test (Smith 2017, *Cyclical Learning Rates for Training Neural Networks*, section
3.3, as fastai's ``lr_find`` and Lightning's ``LearningRateFinder`` run it): train while the rate grows
exponentially, stop once the loss blows up, and read a rate off the fall (:mod:`.loss_curve`); on an
experiment config, :func:`find_learning_rate_from_config` (what ``allencv-lite find-lr`` runs)."""
import copy
import json
import logging
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Union

import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.files import atomic_writer, write_text_atomically
from allencv_lite.common.progress import progress_bar
from allencv_lite.models.model import Model
from allencv_lite.training.checkpointing import random_states, restore_random_states
from allencv_lite.training.loss_curve import SMOOTHING, smooth_losses, suggest_learning_rates
from allencv_lite.training.from_config import build_trainer, check_top_level

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

DIVERGENCE_FACTOR = 4.0  # fastai's and Lightning's: the sweep stops at 4 × the lowest smoothed loss
RESULT_NAME, PLOT_NAME = "lr_find.json", "lr_find.png"


def sweep_learning_rate(step: int, num_steps: int, start_lr: float, end_lr: float) -> float:
    """The rate at ``step`` (from 0) of ``num_steps``: ``start_lr · (end_lr / start_lr) ** (step / (num_steps-1))``."""
    return start_lr * (end_lr / start_lr) ** (step / max(num_steps - 1, 1))


@dataclass
class LearningRateFinderResult:
    """A range test's curve and what it suggests: the top (last) group's ``learning_rates`` (the others' are
    that times ``group_ratios``), each batch's loss and its :func:`smooth_losses`; ``suggestions`` ``{"valley":
    rate, "steepest": rate}`` at ``suggestion_steps``, or empty when ``declined`` says why; ``stopped`` why
    the sweep ended early; ``warning`` why given suggestions may be off; the rest are the sweep's arguments."""

    learning_rates: List[float]
    losses: List[float]
    smoothed_losses: List[float]
    suggestions: Dict[str, float]
    declined: Optional[str]
    stopped: Optional[str]
    group_ratios: List[float]
    start_lr: float
    end_lr: float
    num_steps: int
    smoothing: float = SMOOTHING
    divergence_factor: float = DIVERGENCE_FACTOR
    suggestion_steps: Dict[str, int] = field(default_factory=dict)
    warning: Optional[str] = None

    @property
    def suggestion(self) -> Optional[float]:
        """The rate to train with (``valley``), or ``None`` if declined."""
        return self.suggestions.get("valley")

    def plot(self, axes: Optional[Any] = None) -> "Figure":
        """Each batch's loss (dots) and the smoothed loss against the rate (log axis), the suggestions
        marked, on matplotlib ``axes`` (default: a new figure); a declined curve says why in its title."""
        from matplotlib import pyplot

        axes = axes or pyplot.subplots(figsize=(8, 4))[1]
        axes.plot(self.learning_rates, self.losses, ".", color="0.75", markersize=4, label="loss of each batch")
        axes.plot(self.learning_rates, self.smoothed_losses, color="C0", label=f"smoothed (β = {self.smoothing})")
        for index, name in enumerate(("valley", "steepest")):
            if name in self.suggestions:
                step = self.suggestion_steps[name]
                axes.plot(self.learning_rates[step], self.smoothed_losses[step], "o", color=f"C{index + 1}",
                          markersize=9, label=f"{name}: {self.suggestions[name]:.2g}")
        if self.losses:  # every batch's loss, but not so high that the diverged tail squashes the rest
            low, high = min(self.losses + self.smoothed_losses), max(self.losses + self.smoothed_losses)
            high = min(high, low + 2.5 * (self.smoothed_losses[0] - low))
            axes.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
        axes.set(xscale="log", xlabel="learning rate (top parameter group)", ylabel="training loss",
                 title=f"No suggestion: {self.declined}" if self.declined else "Learning-rate range test")
        axes.title.set_wrap(True)
        axes.legend()
        return axes.figure

    def save(self, directory: Union[str, os.PathLike]) -> None:
        """Write ``lr_find.json`` (every field and the ``suggestion``) and ``lr_find.png`` (:meth:`plot`) into
        ``directory``, each atomically."""
        from matplotlib import pyplot

        write_text_atomically(json.dumps({**asdict(self), "suggestion": self.suggestion}, indent=2),
                              Path(directory) / RESULT_NAME)
        figure = self.plot()
        with atomic_writer(Path(directory) / PLOT_NAME, binary=True) as file:
            figure.savefig(file, format="png", dpi=100, bbox_inches="tight")
        pyplot.close(figure)


def _batches(data_loader: Iterable) -> Iterator[Dict[str, torch.Tensor]]:
    """The loader's batches pass after pass, skipping the ``None`` of a batch with no readable image."""
    while True:
        yielded = False
        for batch in filter(None, data_loader):
            yielded = True
            yield batch
        if not yielded:
            raise ConfigurationError("The learning-rate finder got no batch from the training data loader "
                                     "(no training images, or none readable).")


def find_learning_rate(model: Model, optimizer: torch.optim.Optimizer, data_loader: Iterable,
                       start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100,
                       divergence_factor: float = DIVERGENCE_FACTOR, smoothing: float = SMOOTHING,
                       device: Optional[torch.device] = None, progress: bool = True) -> LearningRateFinderResult:
    """Run the range test on copies of ``model`` and ``optimizer`` (both stay as they were, as do the random
    generators of Python, NumPy and PyTorch). Step t trains on one batch of ``data_loader`` (``{"image":
    (batch, 3, height, width), "label": (batch,)}``, passed over again when short) with the top (last) group's
    rate :func:`sweep_learning_rate` ``(t)`` and every other group's at its present ratio to it, so
    discriminative rates move together. It stops when the loss is not finite or its smoothed value (β =
    ``smoothing``; a sweep wants 2 / (1 − β) steps) exceeds ``divergence_factor`` × its lowest. The dataset is
    first reseeded from PyTorch's generator, as the trainer does each epoch, so every sweep sees the same
    augmentations. ``device``: the model's if not given. Returns the curve, and suggestions for the top group.

    Raises:
        ConfigurationError: ``start_lr`` not in (0, ``end_lr``), ``num_steps`` below 2, ``smoothing`` not
            in [0, 1), ``divergence_factor`` not above 1, a top group's rate of 0, or a loader with no batch.
    """
    if not 0 <= smoothing < 1:
        raise ConfigurationError(f"smoothing must be in [0, 1) (0.98 is usual), got {smoothing:g}.")
    if not 0 < start_lr < end_lr:
        raise ConfigurationError(f"The learning-rate sweep needs 0 < start_lr < end_lr, got start_lr={start_lr:g}, "
                                 f"end_lr={end_lr:g}.")
    if num_steps < 2:
        raise ConfigurationError(f"The learning-rate sweep needs num_steps >= 2, got {num_steps}.")
    if divergence_factor <= 1:
        raise ConfigurationError(f"divergence_factor must be above 1 (4 is usual), got {divergence_factor:g}.")
    top_rate = optimizer.param_groups[-1]["lr"]
    if top_rate <= 0:
        raise ConfigurationError(f"The top parameter group's learning rate is {top_rate:g}, so the other groups' "
                                 "rates cannot be expressed relative to it; give it a positive lr.")
    group_ratios = [group["lr"] / top_rate for group in optimizer.param_groups]
    device = device or next(model.parameters()).device
    saved_random_states, learning_rates, losses, stopped = random_states(), [], [], None
    try:
        if hasattr(getattr(data_loader, "dataset", None), "reseed"):
            data_loader.dataset.reseed(int(torch.randint(2**31 - 1, ())))  # type: ignore[attr-defined]
        sweep_model, sweep_optimizer = copy.deepcopy((model, optimizer))  # one copy: its optimizer holds its model
        sweep_model.to(device).train()
        step_numbers = progress_bar(range(num_steps), "learning-rate sweep", disable=not progress, unit="batch")
        for step, batch in zip(step_numbers, _batches(data_loader)):  # zip asks for a batch only after each step number
            rate = sweep_learning_rate(step, num_steps, start_lr, end_lr)
            for group, ratio in zip(sweep_optimizer.param_groups, group_ratios):
                group["lr"] = rate * ratio
            loss = sweep_model(**{key: value.to(device) for key, value in batch.items()})["loss"]
            sweep_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            sweep_optimizer.step()
            learning_rates.append(rate)
            losses.append(loss.item())
            smoothed = smooth_losses(losses, smoothing)
            if not math.isfinite(losses[-1]) or smoothed[-1] > divergence_factor * min(smoothed):
                stopped = (f"the loss diverged at step {step + 1} (lr {rate:.2g}): smoothed {smoothed[-1]:.3g} > "
                           f"{divergence_factor:g} × the lowest {min(smoothed):.3g}")
                break
    finally:
        restore_random_states(saved_random_states)
    finite = [index for index, loss in enumerate(losses) if math.isfinite(loss)]
    learning_rates, losses = [learning_rates[index] for index in finite], [losses[index] for index in finite]
    suggestions, steps, declined, warning = suggest_learning_rates(learning_rates, losses, smoothing, num_steps)
    if declined:
        logger.warning("The learning-rate finder suggests nothing: %s.", declined)
    if warning:
        logger.warning("Learning-rate finder: %s.", warning)
    return LearningRateFinderResult(
        learning_rates=learning_rates, losses=losses, smoothed_losses=smooth_losses(losses, smoothing),
        suggestions=suggestions, declined=declined, stopped=stopped, group_ratios=group_ratios, start_lr=start_lr,
        end_lr=end_lr, num_steps=num_steps, smoothing=smoothing, divergence_factor=divergence_factor,
        suggestion_steps=steps, warning=warning)


def find_learning_rate_from_config(config: Dict[str, Any], start_lr: float = 1e-7, end_lr: float = 10.0,
                                   num_steps: int = 100, smoothing: Optional[float] = None,
                                   progress: bool = True) -> LearningRateFinderResult:
    """:func:`find_learning_rate` on what ``config`` trains first, built as ``allencv-lite train`` builds it
    (seeds, training data, augmentation, batches, model, optimizer, parameter groups) and in the state of its
    first optimizer step (with ``gradual_unfreezing`` only the top group trains); validation data is not read.
    The suggestions are for the top group's peak rate: ``trainer.optimizer.lr`` unless the last
    ``parameter_groups`` entry sets its own. ``smoothing`` ``None`` is 0.98.

    Raises:
        ConfigurationError: any config error, or a bad sweep argument.
    """
    check_top_level(config)
    trainer, _, _ = build_trainer({**config, "validation_data_path": None})
    trainer.prepare_epoch(0)  # the first step's learning rates and, with gradual unfreezing, trainable groups
    return find_learning_rate(trainer.model, trainer.optimizer, trainer.train_data_loader, start_lr, end_lr,
                              num_steps, device=trainer.device, progress=progress,
                              smoothing=SMOOTHING if smoothing is None else smoothing)
