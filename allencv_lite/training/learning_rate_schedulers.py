"""Learning-rate schedulers by name, and a plan of the learning rates they will set.

The trainer calls a scheduler at three moments, and asks it one question::

    scheduler.on_epoch_start(epoch)           # before the first batch of each epoch (0-based)
    scheduler.trainable_groups(epoch)         # which parameter groups train; the trainer freezes the others
    scheduler.step_batch()                    # after each optimizer step
    scheduler.step_epoch()                    # after each epoch's validation

A scheduler never touches ``requires_grad`` itself: freezing is the trainer's step (as fastai's
``fine_tune`` composes ``freeze``, a schedule and ``unfreeze``, keeping them separate ideas).

Registered: ``slanted_triangular`` (ULMFiT, with gradual unfreezing and discriminative
fine-tuning), ``linear_with_warmup``, and torch's own ``step``, ``multi_step``,
``exponential``, ``cosine`` (stepped once per epoch) and ``one_cycle`` (stepped once per
optimizer step). A block's keys are the constructor's arguments (for torch's schedulers,
torch's argument names: ``step_size``, ``gamma``, ``milestones``, ``T_max``, ``max_lr``…).
Every scheduler is also given the ``optimizer`` and the trainer's :class:`TrainingLength`,
which are not config keys.

:func:`plan_learning_rates` runs a schedule on a stand-in optimizer and returns the learning
rate of every group at every step, and which groups train, for plotting.
"""
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

import pandas as pd
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable
from allencv_lite.common.text import plural
from allencv_lite.training.optimizers import NAMES_KEY, REGEXES_KEY, is_default_group, unmatched_parameters_by_module

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)


def optimizer_steps_per_epoch(num_batches: int, num_gradient_accumulation_steps: int) -> int:
    """Optimizer steps in an epoch of ``num_batches`` batches (a last, partial group makes one)."""
    return -(-num_batches // num_gradient_accumulation_steps)


@dataclass(frozen=True)
class TrainingLength:
    """How long the trainer will train, given to every scheduler (not a config key).

    Attributes:
        num_epochs: the trainer's ``num_epochs``.
        num_steps_per_epoch: optimizer steps the training data loader makes per epoch (measured
            on it, in this process if distributed); ``None`` where there is no loader to measure.
    """

    num_epochs: int
    num_steps_per_epoch: Optional[int] = None

    def epochs(self, configured: Optional[int]) -> int:
        """The epochs a schedule spans: ``configured`` (its block's ``num_epochs``) if given,
        with a warning when it differs from the trainer's, else the trainer's."""
        if configured is not None and configured != self.num_epochs:
            logger.warning("The learning-rate schedule's num_epochs is %d but the trainer runs %d epochs; the schedule "
                           "is planned for %d.", configured, self.num_epochs, configured)
        return self.num_epochs if configured is None else configured

    def steps_per_epoch(self, configured: Optional[int]) -> Optional[int]:
        """The measured optimizer steps per epoch, always (a different ``configured`` value,
        its block's ``num_steps_per_epoch``, gets a warning), so that the schedule fits the data
        actually seen; ``configured`` when nothing was measured."""
        if self.num_steps_per_epoch is None:
            return configured
        if configured is not None and configured != self.num_steps_per_epoch:
            logger.warning("The schedule's num_steps_per_epoch is %d, but the training data loader makes %d optimizer "
                           "steps per epoch; using %d.", configured, self.num_steps_per_epoch, self.num_steps_per_epoch)
        return self.num_steps_per_epoch


def _schedule_length(training_length: Optional[TrainingLength], num_epochs: Optional[int],
                     num_steps_per_epoch: Optional[int]) -> tuple:
    """``(num_epochs, num_steps_per_epoch)`` of a schedule from its block's keys and the trainer's length.

    Raises:
        ConfigurationError: either is unknown (no trainer, and no key in the block).
    """
    if training_length is not None:
        num_epochs, num_steps_per_epoch = (training_length.epochs(num_epochs),
                                           training_length.steps_per_epoch(num_steps_per_epoch))
    for name, value in (("num_epochs", num_epochs), ("num_steps_per_epoch", num_steps_per_epoch)):
        if value is None:
            raise ConfigurationError(f"{name}: missing; give it, or build the schedule through a trainer, which "
                                     "measures it.")
    return num_epochs, num_steps_per_epoch


class LearningRateScheduler(Registrable, FromParams):
    """Sets ``optimizer.param_groups[i]["lr"]`` as training proceeds.

    Subclasses override the hooks they need; ``state_dict``/``load_state_dict`` hold what a
    checkpoint must keep to resume the schedule exactly. Built from a config with
    ``LearningRateScheduler.from_params(block, path, optimizer=..., training_length=...)``.
    """

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer

    def on_epoch_start(self, epoch: int) -> None:
        """Before the first batch of ``epoch`` (0-based)."""

    def trainable_groups(self, epoch: int) -> Optional[List[bool]]:
        """Whether each of the optimizer's parameter groups trains in ``epoch`` (0-based); the
        trainer sets ``requires_grad`` accordingly. ``None`` (the default): no request, every
        group trains."""
        return None

    def step_batch(self) -> None:
        """After each optimizer step."""

    def step_epoch(self) -> None:
        """After each epoch (training and validation)."""

    def state_dict(self) -> Dict[str, Any]:
        return {}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


class TorchScheduler(LearningRateScheduler):
    """One of torch's ``torch.optim.lr_scheduler`` schedulers, stepped once per optimizer step
    (``per_batch``) or once per epoch."""

    def __init__(self, scheduler: torch.optim.lr_scheduler.LRScheduler, per_batch: bool) -> None:
        super().__init__(scheduler.optimizer)
        self.scheduler = scheduler
        self.per_batch = per_batch

    def step_batch(self) -> None:
        if self.per_batch:
            self.scheduler.step()

    def step_epoch(self) -> None:
        if not self.per_batch:
            self.scheduler.step()

    def state_dict(self) -> Dict[str, Any]:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state)


# torch's schedulers, as small factories with torch's argument names; each returns a TorchScheduler.

@LearningRateScheduler.register("step")
def step_lr(optimizer: torch.optim.Optimizer, step_size: int, gamma: float = 0.1) -> TorchScheduler:
    """``torch.optim.lr_scheduler.StepLR``: each rate times ``gamma`` every ``step_size`` epochs."""
    return TorchScheduler(torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma), per_batch=False)


@LearningRateScheduler.register("multi_step")
def multi_step_lr(optimizer: torch.optim.Optimizer, milestones: List[int], gamma: float = 0.1) -> TorchScheduler:
    """``torch.optim.lr_scheduler.MultiStepLR``: each rate times ``gamma`` at each epoch of ``milestones``."""
    return TorchScheduler(torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma), per_batch=False)


@LearningRateScheduler.register("exponential")
def exponential_lr(optimizer: torch.optim.Optimizer, gamma: float) -> TorchScheduler:
    """``torch.optim.lr_scheduler.ExponentialLR``: each rate times ``gamma`` every epoch."""
    return TorchScheduler(torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma), per_batch=False)


@LearningRateScheduler.register("cosine")
def cosine_lr(optimizer: torch.optim.Optimizer, training_length: TrainingLength, T_max: Optional[int] = None,
              eta_min: float = 0.0) -> TorchScheduler:
    """``torch.optim.lr_scheduler.CosineAnnealingLR``, stepped per epoch: half a cosine from each
    rate to ``eta_min`` over ``T_max`` epochs (default: the trainer's ``num_epochs``)."""
    T_max = training_length.num_epochs if T_max is None else T_max
    return TorchScheduler(torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max, eta_min), per_batch=False)


@LearningRateScheduler.register("one_cycle")
def one_cycle_lr(optimizer: torch.optim.Optimizer, training_length: TrainingLength,
                 max_lr: Optional[Union[float, List[float]]] = None, total_steps: Optional[int] = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float = 0.85, max_momentum: float = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False) -> TorchScheduler:
    """``torch.optim.lr_scheduler.OneCycleLR`` (Smith & Topin 2019, *Super-Convergence*, arXiv 1708.07120), stepped per optimizer
    step: ``max_lr`` defaults to each group's ``lr``, ``total_steps`` to the trainer's epochs ×
    optimizer steps per epoch. The other arguments are torch's.

    Raises:
        ConfigurationError: ``total_steps`` missing where the trainer measured no steps per epoch.
    """
    if total_steps is None:
        num_epochs, steps = _schedule_length(training_length, None, None)
        total_steps = num_epochs * steps
    max_lr = [group["lr"] for group in optimizer.param_groups] if max_lr is None else max_lr
    return TorchScheduler(torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr, total_steps, pct_start=pct_start, anneal_strategy=anneal_strategy,
        cycle_momentum=cycle_momentum, base_momentum=base_momentum, max_momentum=max_momentum,
        div_factor=div_factor, final_div_factor=final_div_factor, three_phase=three_phase), per_batch=True)


def _base_learning_rates(optimizer: torch.optim.Optimizer) -> List[float]:
    """Each group's ``initial_lr`` (set as torch's schedulers do: from ``lr`` if absent)."""
    for group in optimizer.param_groups:
        group.setdefault("initial_lr", group["lr"])
    return [group["initial_lr"] for group in optimizer.param_groups]


def slanted_triangular_multiplier(step: int, num_steps: int, cut_frac: float, ratio: float) -> float:
    """The slanted triangular learning rate as a fraction of the peak rate, at ``step`` of ``num_steps``.

    Howard & Ruder (2018), *Universal Language Model Fine-tuning for Text Classification*
    (ULMFiT), section 3.2, equation 3, with T = ``num_steps`` and t = ``step``::

        cut = ⌊T · cut_frac⌋
        p   = t / cut                                   if t < cut
              1 − (t − cut) / (cut · (1/cut_frac − 1))  otherwise
        η_t = η_max · (1 + p · (ratio − 1)) / ratio

    so η rises linearly from η_max/ratio to η_max over the first ``cut`` steps, then falls
    linearly back towards η_max/ratio. This function returns η_t / η_max. Two guards the
    paper does not need for its long runs: ``cut`` is at least 1 step, and ``p`` is clamped
    at 0, because ``cut · (1/cut_frac − 1)`` equals T − cut only when T · cut_frac is whole
    (with 125 steps the unclamped formula would give negative rates in the last 4 steps).
    Steps past ``num_steps`` keep the final value.
    """
    num_steps = max(num_steps, 1)
    cut = max(math.floor(num_steps * cut_frac), 1)
    step = min(step, num_steps)
    if step < cut:
        p = step / cut
    else:
        p = max(1 - (step - cut) / (cut * (1 / cut_frac - 1)), 0.0)
    return (1 + p * (ratio - 1)) / ratio


@LearningRateScheduler.register("slanted_triangular")
class SlantedTriangular(LearningRateScheduler):
    """ULMFiT's schedule for fine-tuning (Howard & Ruder 2018), as AllenNLP's ``slanted_triangular``.

    The optimizer's parameter groups are the network's layers, bottom (group 0) to top (the
    last group); see :mod:`allencv_lite.training.optimizers`. Each group's peak learning rate
    is its ``initial_lr`` (its ``lr`` if absent).

    * **Slanted triangle** (:func:`slanted_triangular_multiplier`): the rate rises linearly
      for the first ``cut_frac`` of the steps, then decays linearly to peak / ``ratio``.
    * **Discriminative fine-tuning** (ULMFiT section 3.2): the peak of each group is the
      peak of the group above it times ``decay_factor`` (η^{l−1} = η^l / 2.6 in the paper; 0.38 ≈ 1/2.6).
    * **Gradual unfreezing** (section 3.3): epoch 0 (logged as epoch 1) trains only the top group, each later
      epoch unfreezes one more group downward (:meth:`trainable_groups` says which; the
      trainer sets ``requires_grad``), so with G groups all train from epoch G − 1. While
      groups are still frozen each epoch runs its own triangle over its steps; from epoch
      G − 1 one triangle spans the remaining epochs (as AllenNLP and fastai's per-stage
      one-cycle do).

    Args:
        optimizer: the optimizer, with ``parameter_groups`` for unfreezing/discriminative rates
            (given by the trainer, not a config key).
        training_length: the trainer's epochs and measured steps per epoch (not a config key).
        num_epochs: epochs the schedule spans (default: the trainer's).
        num_steps_per_epoch: optimizer steps per epoch; the trainer's measured value is used
            whenever there is one (see :meth:`TrainingLength.steps_per_epoch`).
        cut_frac: fraction of the steps spent increasing the rate (0.1 in the paper).
        ratio: how much smaller the lowest rate is than the peak (32 in the paper).
        gradual_unfreezing: unfreeze one group per epoch from the top.
        discriminative_fine_tuning: lower groups get smaller rates (``decay_factor`` per group).
        decay_factor: ratio between the peak rates of neighbouring groups.

    Raises:
        ConfigurationError: gradual unfreezing or discriminative fine-tuning with fewer than
            two groups; gradual unfreezing with parameters outside every group (listed by
            module, with the fix); ``cut_frac`` not in (0, 1); ``ratio`` < 1.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, training_length: Optional[TrainingLength] = None,
                 num_epochs: Optional[int] = None, num_steps_per_epoch: Optional[int] = None,
                 cut_frac: float = 0.1, ratio: float = 32, gradual_unfreezing: bool = False,
                 discriminative_fine_tuning: bool = False, decay_factor: float = 0.38) -> None:
        super().__init__(optimizer)
        num_epochs, num_steps_per_epoch = _schedule_length(training_length, num_epochs, num_steps_per_epoch)
        if not 0 < cut_frac < 1:
            raise ConfigurationError(f"cut_frac: must be in (0, 1), got {cut_frac}.")
        if ratio < 1:
            raise ConfigurationError(f"ratio: must be at least 1, got {ratio}.")
        self.num_epochs = num_epochs
        self.num_steps_per_epoch = num_steps_per_epoch
        self.cut_frac = cut_frac
        self.ratio = ratio
        self.gradual_unfreezing = gradual_unfreezing
        groups = optimizer.param_groups
        if (gradual_unfreezing or discriminative_fine_tuning) and len(groups) < 2:
            raise ConfigurationError(
                "gradual_unfreezing and discriminative_fine_tuning need "
                "the optimizer's parameter_groups with at least two groups, ordered from the bottom of the "
                "network to the top, e.g. [[[\"^_im2im_encoder\\\\.\"]], [[\"^_classification_layer\"]]].")
        if gradual_unfreezing and is_default_group(groups[-1]):
            names = groups[-1].get(NAMES_KEY, [])
            raise ConfigurationError(
                f"gradual_unfreezing: {len(names)} parameter(s) match no regex of "
                "the optimizer's parameter_groups, so no epoch would ever freeze them: "
                f"{unmatched_parameters_by_module(names)}. Add their modules to a group (or a new group) in "
                "the optimizer's parameter_groups, e.g. [[\"^" + names[0].rpartition(".")[0].replace(".", "\\\\.")
                + "\\\\.\"]], or freeze them in the model config.")
        self.base_learning_rates = _base_learning_rates(optimizer)
        if discriminative_fine_tuning:  # the top group keeps its rate; each lower one is decay_factor times smaller
            self.base_learning_rates = [rate * decay_factor ** (len(groups) - 1 - index)
                                        for index, rate in enumerate(self.base_learning_rates)]
        self.num_groups = len(groups)
        self.epoch, self.step_in_epoch = 0, 0
        if gradual_unfreezing and num_epochs < self.num_groups:
            never = [f"group {index} {groups[index].get(REGEXES_KEY)}" for index in range(self.num_groups - num_epochs)]
            logger.warning("Gradual unfreezing with %d parameter groups unfreezes the last group in epoch %d, but the "
                           "schedule has %s: %s would never train. Set num_epochs to at least %d, or merge groups.",
                           self.num_groups, self.num_groups, plural(num_epochs, "epoch"), ", ".join(never),
                           self.num_groups)
        self._set_learning_rates()

    @property
    def first_epoch_of_one_triangle(self) -> int:
        """The epoch from which one triangle spans the rest of training (all groups train)."""
        return self.num_groups - 1 if self.gradual_unfreezing else 0

    def multiplier(self, epoch: int, step_in_epoch: int) -> float:
        """η / η_max for optimizer step ``step_in_epoch`` of ``epoch`` (both 0-based)."""
        steps = self.num_steps_per_epoch
        if epoch < self.first_epoch_of_one_triangle:
            return slanted_triangular_multiplier(step_in_epoch, steps, self.cut_frac, self.ratio)
        first = self.first_epoch_of_one_triangle
        return slanted_triangular_multiplier((epoch - first) * steps + step_in_epoch,
                                             (self.num_epochs - first) * steps, self.cut_frac, self.ratio)

    def trainable_groups(self, epoch: int) -> Optional[List[bool]]:
        """With gradual unfreezing, the top ``epoch + 1`` groups train in ``epoch``; without it,
        ``None`` (no request: all train)."""
        if not self.gradual_unfreezing:
            return None
        return [index >= self.num_groups - 1 - epoch for index in range(self.num_groups)]

    def _set_learning_rates(self) -> None:
        multiplier = self.multiplier(self.epoch, self.step_in_epoch)
        for group, base in zip(self.optimizer.param_groups, self.base_learning_rates):
            group["lr"] = base * multiplier

    def on_epoch_start(self, epoch: int) -> None:
        self.epoch, self.step_in_epoch = epoch, 0
        self._set_learning_rates()

    def step_batch(self) -> None:
        self.step_in_epoch += 1
        self._set_learning_rates()

    def state_dict(self) -> Dict[str, Any]:
        return {"epoch": self.epoch, "step_in_epoch": self.step_in_epoch}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.epoch, self.step_in_epoch = state["epoch"], state["step_in_epoch"]
        self._set_learning_rates()


@LearningRateScheduler.register("linear_with_warmup")
class LinearWithWarmup(LearningRateScheduler):
    """Linear warm-up, then linear decay to zero (AllenNLP's ``linear_with_warmup``).

    For optimizer step t of T = ``num_epochs`` × ``num_steps_per_epoch``, each group's rate is
    η · t / ``warmup_steps`` while t < ``warmup_steps``, then η · (T − t) / (T − ``warmup_steps``),
    where η is the group's ``initial_lr`` (its ``lr`` if absent).

    ``optimizer`` and ``training_length`` come from the trainer; ``num_epochs`` and
    ``num_steps_per_epoch`` are as for :class:`SlantedTriangular`.

    Raises:
        ConfigurationError: ``warmup_steps`` negative or not smaller than T.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, training_length: Optional[TrainingLength] = None,
                 num_epochs: Optional[int] = None, num_steps_per_epoch: Optional[int] = None,
                 warmup_steps: int = 100) -> None:
        super().__init__(optimizer)
        num_epochs, num_steps_per_epoch = _schedule_length(training_length, num_epochs, num_steps_per_epoch)
        self.total_steps = num_epochs * num_steps_per_epoch
        if not 0 <= warmup_steps < self.total_steps:
            raise ConfigurationError(f"warmup_steps: must be in [0, {self.total_steps}) "
                                     f"(the run's optimizer steps), got {warmup_steps}.")
        self.warmup_steps = warmup_steps
        self.base_learning_rates = _base_learning_rates(optimizer)
        self.step = 0
        self._set_learning_rates()

    def multiplier(self, step: int) -> float:
        """η_t / η at optimizer step ``step`` (0-based)."""
        if step < self.warmup_steps:
            return step / self.warmup_steps
        return max(self.total_steps - step, 0) / (self.total_steps - self.warmup_steps)

    def _set_learning_rates(self) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_learning_rates):
            group["lr"] = base * self.multiplier(self.step)

    def step_batch(self) -> None:
        self.step += 1
        self._set_learning_rates()

    def state_dict(self) -> Dict[str, Any]:
        return {"step": self.step}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.step = state["step"]
        self._set_learning_rates()


@dataclass
class LearningRatePlan:
    """What a schedule will do, step by step.

    Attributes:
        learning_rates: one row per optimizer step (index ``step``, 0-based), column ``epoch``
            and one column ``lr_group_<i>`` per parameter group: the rate used for that step.
        trainable: same rows, one boolean column ``group_<i>`` per group: whether it trains.
    """

    learning_rates: pd.DataFrame
    trainable: pd.DataFrame

    @property
    def unfreezing_epochs(self) -> Dict[int, Optional[int]]:
        """For each group index, the first epoch in which it trains (``None``: never)."""
        epochs = self.learning_rates["epoch"]
        return {index: (int(epochs[column].iloc[0]) if column.any() else None)
                for index, column in enumerate(self.trainable[name] for name in self.trainable.columns)}

    def plot(self, axes: Optional[Any] = None) -> "Figure":
        """Each group's learning rate per optimizer step, drawn only while the group trains, on a
        log scale, with a dotted line where it starts to train.

        Args:
            axes: a matplotlib ``Axes`` to draw on (default: a new 9 × 3.5 inch figure).

        Returns:
            the ``Figure``, left open: a notebook shows it once at the end of the cell (write
            ``figure = plan.plot()`` so that it is not also shown as the cell's value), and
            ``figure.savefig("plan.png")`` or ``pyplot.savefig`` saves it.
        """
        from matplotlib import pyplot

        if axes is None:
            _, axes = pyplot.subplots(figsize=(9, 3.5))
        steps_per_epoch = int((self.learning_rates["epoch"] == 0).sum())
        for group, first_epoch in self.unfreezing_epochs.items():
            rates = self.learning_rates[f"lr_group_{group}"].where(self.trainable[f"group_{group}"])
            line, = axes.plot(rates.index, rates, label=f"group {group}")
            if first_epoch is not None:
                axes.axvline(first_epoch * steps_per_epoch, color=line.get_color(), linestyle=":")
        axes.set(xlabel="optimizer step", ylabel="learning rate (only while the group trains)", yscale="log")
        axes.legend()
        return axes.figure


def plan_learning_rates(scheduler_params: Dict[str, Any], optimizer: torch.optim.Optimizer, num_epochs: int,
                        num_steps_per_epoch: int) -> LearningRatePlan:
    """Run the schedule ``scheduler_params`` describes, without training, and record it.

    The schedule runs on a stand-in: an optimizer of the same class whose groups have the same
    options as ``optimizer``'s but one scalar parameter each, so ``optimizer`` and the model
    are untouched. For example, for a notebook plot::

        optimizer = Optimizer.from_params(config["trainer"]["optimizer"],
                                          model_parameters=list(model.named_parameters()))
        plan = plan_learning_rates(config["trainer"]["learning_rate_scheduler"], optimizer, 5, 125)
        figure = plan.plot()  # or plan.learning_rates.plot(x="epoch", ...) for your own

    Args:
        scheduler_params: a ``learning_rate_scheduler`` block.
        optimizer: the optimizer the schedule would drive.
        num_epochs: epochs to plan.
        num_steps_per_epoch: optimizer steps per epoch.

    Raises:
        ConfigurationError: the block does not fit its scheduler; the message names the key.
    """
    stand_in_groups = [{**{key: value for key, value in group.items() if key != "params"},
                        "params": [torch.nn.Parameter(torch.zeros(()))]} for group in optimizer.param_groups]
    stand_in = type(optimizer)(stand_in_groups)
    scheduler = LearningRateScheduler.from_params(scheduler_params, "learning_rate_scheduler", optimizer=stand_in,
                                                  training_length=TrainingLength(num_epochs, num_steps_per_epoch))
    rates, trainable = [], []
    for epoch in range(num_epochs):
        scheduler.on_epoch_start(epoch)
        trainable_this_epoch = scheduler.trainable_groups(epoch) or [True] * len(stand_in.param_groups)
        for _ in range(num_steps_per_epoch):
            rates.append([epoch] + [group["lr"] for group in stand_in.param_groups])
            trainable.append(trainable_this_epoch)
            stand_in.step()  # no gradients, so nothing changes; keeps torch's schedulers' step order
            scheduler.step_batch()
        scheduler.step_epoch()
    group_indices = range(len(stand_in.param_groups))
    learning_rates = pd.DataFrame(rates, columns=["epoch"] + [f"lr_group_{i}" for i in group_indices])
    learning_rates.index.name = "step"
    return LearningRatePlan(learning_rates, pd.DataFrame(trainable, columns=[f"group_{i}" for i in group_indices]))
