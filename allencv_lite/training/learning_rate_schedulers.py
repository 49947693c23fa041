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

:func:`plan_learning_rates` runs a schedule on a stand-in optimizer and returns the learning
rate of every group at every step, and which groups train, for plotting.
"""
import inspect
import logging
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import pandas as pd
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.from_params import construct_from_signature
from allencv_lite.common.registrable import Registrable
from allencv_lite.training.optimizers import NAMES_KEY, REGEXES_KEY, is_default_group, unmatched_parameters_by_module

logger = logging.getLogger(__name__)


class LearningRateScheduler(Registrable):
    """Sets ``optimizer.param_groups[i]["lr"]`` as training proceeds.

    Subclasses override the hooks they need; ``state_dict``/``load_state_dict`` hold what a
    checkpoint must keep to resume the schedule exactly.
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

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "learning_rate_scheduler", *,
                    optimizer: torch.optim.Optimizer, num_epochs: int, num_steps_per_epoch: Optional[int],
                    **extras: Any) -> "LearningRateScheduler":
        """Build the scheduler named by ``params["type"]`` over ``optimizer``.

        ``num_epochs`` (the trainer's) fills a missing ``num_epochs`` key; a different value in
        the block is kept, with a warning. ``num_steps_per_epoch`` is the number of optimizer
        steps the training data loader makes per epoch: it is always used (a different value
        in the block is reported with a warning), so the schedule fits the data actually seen.
        Torch's schedulers get the same defaults: ``T_max`` = epochs, ``total_steps`` = epochs ×
        steps per epoch, ``max_lr`` = each group's ``lr``.

        Raises:
            ConfigurationError: unknown type or key, a missing required key, or what the
                scheduler itself rejects (see :class:`SlantedTriangular`).
        """
        name = params.get("type")
        factory, params = cls.resolve(params, path)
        accepted = inspect.signature(factory.__init__).parameters
        if "num_epochs" in accepted:
            if "num_epochs" in params and params["num_epochs"] != num_epochs:
                logger.warning("%s.num_epochs is %s but the trainer runs %d epochs; the schedule is planned for %s.",
                               path, params["num_epochs"], num_epochs, params["num_epochs"])
            params.setdefault("num_epochs", num_epochs)
        if "num_steps_per_epoch" in accepted and num_steps_per_epoch is not None:
            given = params.get("num_steps_per_epoch")
            if given is not None and given != num_steps_per_epoch:
                logger.warning("%s.num_steps_per_epoch is %s, but the training data loader makes %d optimizer steps "
                               "per epoch; using %d.", path, given, num_steps_per_epoch, num_steps_per_epoch)
            params["num_steps_per_epoch"] = num_steps_per_epoch
        if inspect.isclass(factory) and issubclass(factory, LearningRateScheduler):
            return construct_from_signature(factory, params, path, {"optimizer": optimizer})
        per_batch = name in PER_BATCH_TORCH_SCHEDULERS
        steps = num_steps_per_epoch or params.get("steps_per_epoch")
        defaults = {"T_max": num_epochs, "max_lr": [group["lr"] for group in optimizer.param_groups],
                    "total_steps": num_epochs * steps if steps else None}
        for key, value in defaults.items():
            if key in accepted and key not in params and value is not None:
                params[key] = value
        return TorchScheduler(construct_from_signature(factory, params, path, {"optimizer": optimizer}), per_batch)


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


TORCH_SCHEDULERS = {"step": torch.optim.lr_scheduler.StepLR, "multi_step": torch.optim.lr_scheduler.MultiStepLR,
                    "exponential": torch.optim.lr_scheduler.ExponentialLR,
                    "cosine": torch.optim.lr_scheduler.CosineAnnealingLR,
                    "one_cycle": torch.optim.lr_scheduler.OneCycleLR}
PER_BATCH_TORCH_SCHEDULERS = {"one_cycle"}


def _register_torch_schedulers() -> None:
    for name, scheduler_class in TORCH_SCHEDULERS.items():
        LearningRateScheduler.register(name)(scheduler_class)


_register_torch_schedulers()


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
        optimizer: the optimizer, with ``parameter_groups`` for unfreezing/discriminative rates.
        num_epochs: epochs the schedule spans.
        num_steps_per_epoch: optimizer steps per epoch (the trainer measures it on the data loader).
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

    def __init__(self, optimizer: torch.optim.Optimizer, num_epochs: int, num_steps_per_epoch: int,
                 cut_frac: float = 0.1, ratio: float = 32, gradual_unfreezing: bool = False,
                 discriminative_fine_tuning: bool = False, decay_factor: float = 0.38) -> None:
        super().__init__(optimizer)
        if not 0 < cut_frac < 1:
            raise ConfigurationError(f"trainer.learning_rate_scheduler.cut_frac: must be in (0, 1), got {cut_frac}.")
        if ratio < 1:
            raise ConfigurationError(f"trainer.learning_rate_scheduler.ratio: must be at least 1, got {ratio}.")
        self.num_epochs = num_epochs
        self.num_steps_per_epoch = num_steps_per_epoch
        self.cut_frac = cut_frac
        self.ratio = ratio
        self.gradual_unfreezing = gradual_unfreezing
        groups = optimizer.param_groups
        if (gradual_unfreezing or discriminative_fine_tuning) and len(groups) < 2:
            raise ConfigurationError(
                "trainer.learning_rate_scheduler: gradual_unfreezing and discriminative_fine_tuning need "
                "trainer.optimizer.parameter_groups with at least two groups, ordered from the bottom of the "
                "network to the top, e.g. [[[\"^_im2im_encoder\\\\.\"]], [[\"^_classification_layer\"]]].")
        if gradual_unfreezing and is_default_group(groups[-1]):
            names = groups[-1].get(NAMES_KEY, [])
            raise ConfigurationError(
                f"trainer.learning_rate_scheduler.gradual_unfreezing: {len(names)} parameter(s) match no regex of "
                "trainer.optimizer.parameter_groups, so no epoch would ever freeze them: "
                f"{unmatched_parameters_by_module(names)}. Add their modules to a group (or a new group) in "
                "trainer.optimizer.parameter_groups, e.g. [[\"^" + names[0].rpartition(".")[0].replace(".", "\\\\.")
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
                           "schedule has %d epochs: %s would never train. Set num_epochs to at least %d, or merge "
                           "groups.",
                           self.num_groups, self.num_groups, num_epochs, ", ".join(never), self.num_groups)
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

    Raises:
        ConfigurationError: ``warmup_steps`` negative or not smaller than T.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, num_epochs: int, num_steps_per_epoch: int,
                 warmup_steps: int = 100) -> None:
        super().__init__(optimizer)
        self.total_steps = num_epochs * num_steps_per_epoch
        if not 0 <= warmup_steps < self.total_steps:
            raise ConfigurationError(f"trainer.learning_rate_scheduler.warmup_steps: must be in [0, {self.total_steps}) "
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


def plan_learning_rates(scheduler_params: Dict[str, Any], optimizer: torch.optim.Optimizer, num_epochs: int,
                        num_steps_per_epoch: int) -> LearningRatePlan:
    """Run the schedule ``scheduler_params`` describes, without training, and record it.

    The schedule runs on a stand-in: an optimizer of the same class whose groups have the same
    options as ``optimizer``'s but one scalar parameter each, so ``optimizer`` and the model
    are untouched. For example, for a notebook plot::

        optimizer = Optimizer.from_params(config["trainer"]["optimizer"],
                                          model_parameters=list(model.named_parameters()))
        plan = plan_learning_rates(config["trainer"]["learning_rate_scheduler"], optimizer, 5, 125)
        plan.learning_rates.plot(x="epoch" ...)  # or plan.learning_rates.where(plan.trainable.values)

    Args:
        scheduler_params: a ``learning_rate_scheduler`` block.
        optimizer: the optimizer the schedule would drive.
        num_epochs: epochs to plan.
        num_steps_per_epoch: optimizer steps per epoch.

    Raises:
        ConfigurationError: as :meth:`LearningRateScheduler.from_params`.
    """
    stand_in_groups = [{**{key: value for key, value in group.items() if key != "params"},
                        "params": [torch.nn.Parameter(torch.zeros(()))]} for group in optimizer.param_groups]
    stand_in = type(optimizer)(stand_in_groups)
    scheduler = LearningRateScheduler.from_params(scheduler_params, optimizer=stand_in, num_epochs=num_epochs,
                                                  num_steps_per_epoch=num_steps_per_epoch)
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
