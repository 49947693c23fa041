"""The learning-rate range test: which learning rate to train with, read off a loss curve.

Smith (2017), *Cyclical Learning Rates for Training Neural Networks* (arXiv 1506.01186),
section 3.3, as fastai's ``lr_find`` and Lightning's ``LearningRateFinder`` run it: train for
``num_steps`` real batches while the learning rate grows exponentially from ``start_lr`` to
``end_lr``, record the loss of each batch, and stop once the loss has blown up. The loss falls
where the rate is large enough to learn and rises where it is too large; a good rate lies on
the steepest part of the fall, an order of magnitude below the minimum::

    result = find_learning_rate(model, optimizer, train_data_loader)
    result.suggestions            # {"steepest": 2.3e-03, "valley": 1.1e-03} (empty if declined)
    result.declined               # None, or why no rate is suggested and what to change
    result.warning                # None, or why the suggestions may be off (a sweep short for its smoothing)
    result.plot()                 # the curve with the suggestions marked

The sweep trains a copy of the model and of the optimizer, and puts Python's, NumPy's and
PyTorch's random generators back as they were, so the model, the optimizer (its state and its
groups' learning rates) and every later random draw are exactly what they would have been
without it, and it can run any number of times. :func:`find_learning_rate_from_config` runs it
on an experiment config, as ``allencv-lite find-lr`` does.
"""
import copy
import logging
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.progress import progress_bar
from allencv_lite.models.model import Model
from allencv_lite.training.checkpointing import random_states, restore_random_states

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

# fastai and Lightning: β of the loss's exponential moving average, and "diverged" = 4 × the best.
SMOOTHING = 0.98
DIVERGENCE_FACTOR = 4.0
# Lightning's ``suggestion(skip_begin=10, skip_end=1)``: the first steps are the moving
# average's warm-up, the last one is where it diverged.
SKIP_BEGIN, SKIP_END = 10, 1
MIN_STEPS = 20  # fewer recorded steps than this is too short a curve to read
MIN_RELATIVE_FALL = 0.05  # the smoothed loss must fall by 5 % of its starting value
MIN_SIGNAL_TO_NOISE = 2.0  # ... and by twice the batch-to-batch noise of the loss
SUGGESTION_NAMES = ("valley", "steepest")  # the first is the one to use


def sweep_learning_rate(step: int, num_steps: int, start_lr: float, end_lr: float) -> float:
    """The rate at ``step`` (0-based) of an exponential sweep over ``num_steps`` steps:
    ``start_lr · (end_lr / start_lr) ** (step / (num_steps − 1))``, so step 0 uses
    ``start_lr`` and the last step ``end_lr`` (Smith 2017, section 3.3; fastai's ``lr_find``)."""
    return start_lr * (end_lr / start_lr) ** (step / max(num_steps - 1, 1))


def smooth_losses(losses: List[float], beta: float = SMOOTHING) -> List[float]:
    """The bias-corrected exponential moving average of ``losses`` (fastai's and Lightning's)::

        m_t = β · m_{t−1} + (1 − β) · loss_t,   m_0 = 0
        smoothed_t = m_t / (1 − β^t)            (t = 1, 2, …; Adam's bias correction)

    so ``smoothed_1 = loss_1`` and each value weighs the last ≈ 1 / (1 − β) = 50 losses.
    """
    average, smoothed = 0.0, []
    for step, loss in enumerate(losses, start=1):
        average = beta * average + (1 - beta) * loss
        smoothed.append(average / (1 - beta ** step))
    return smoothed


def steepest_descent_index(learning_rates: List[float], smoothed: List[float]) -> int:
    """Index of the steepest fall of the smoothed loss per decade of learning rate,
    ``argmin d(smoothed) / d(log10 lr)`` (``numpy.gradient``), leaving out the first
    ``SKIP_BEGIN`` and last ``SKIP_END`` points as Lightning's ``suggestion`` does."""
    slopes = np.gradient(np.asarray(smoothed), np.log10(learning_rates))
    end = len(smoothed) - SKIP_END
    return SKIP_BEGIN + int(np.argmin(slopes[SKIP_BEGIN:end]))


def valley_index(smoothed: List[float]) -> int:
    """fastai's ``valley``: the longest stretch over which the smoothed loss keeps falling
    (the longest decreasing subsequence, ending at ``end``, starting ``length`` steps before),
    and from it the point ``length / 3 + length / 6`` steps past its start, i.e. half-way
    down the middle third of the valley."""
    longest = [1] * len(smoothed)  # longest decreasing subsequence ending at each index
    start, end = 0, 0
    for i in range(1, len(smoothed)):
        for j in range(i):
            if smoothed[i] < smoothed[j] and longest[i] < longest[j] + 1:
                longest[i] = longest[j] + 1
        if longest[end] < longest[i]:
            end, start = i, i - longest[i]
    third = (end - start) / 3
    return start + int(third) + int(third / 2)


def batch_noise(losses: List[float]) -> float:
    """The batch-to-batch noise of the loss, from successive differences, which a smooth trend
    hardly changes: σ ≈ 1.4826 · MAD(Δloss) / √2 (the median absolute deviation, scaled to a
    standard deviation for normal noise; √2 because a difference holds two batches' noise)."""
    differences = np.diff(np.asarray(losses))
    if differences.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(differences - np.median(differences))) / math.sqrt(2))


@dataclass
class LearningRateFinderResult:
    """The loss curve of a learning-rate range test and what it suggests.

    Attributes:
        learning_rates: the top group's rate at each recorded step (the other groups had it
            times ``group_ratios``).
        losses: each step's training loss (of one batch).
        smoothed_losses: :func:`smooth_losses` of ``losses``.
        suggestions: ``{"valley": rate, "steepest": rate}``, rates of the top group, or
            empty when the curve gives no answer (see ``declined``). ``valley`` is the one to use.
        declined: why nothing is suggested, or ``None``.
        stopped: why the sweep ended before ``num_steps`` (the loss diverged), or ``None``.
        group_ratios: each parameter group's rate divided by the top (last) group's, kept
            fixed during the sweep (discriminative learning rates).
        start_lr, end_lr, num_steps: the sweep asked for.
        smoothing: β of :func:`smooth_losses`.
        divergence_factor: the sweep stopped once the smoothed loss exceeded this × its lowest.
        suggestion_steps: the index into the lists above of each suggestion.
        warning: why the suggestions may be off although given (a sweep short for its
            smoothing, see :func:`suggest_learning_rates`), or ``None``.
    """

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
        """The rate to train with (the ``valley`` suggestion), or ``None`` if declined."""
        return self.suggestions.get(SUGGESTION_NAMES[0])

    def to_json(self) -> Dict[str, Any]:
        """Everything as JSON-serialisable values (what ``lr_find.json`` holds)."""
        return {**asdict(self), "suggestion": self.suggestion}

    def plot(self, axes: Optional[Any] = None) -> "Figure":
        """The smoothed loss (line) and each batch's loss (dots) against the learning rate on a
        log axis, each suggestion marked and named; a declined curve says why in its title.

        Args:
            axes: a matplotlib ``Axes`` to draw on (default: a new figure).
        """
        from matplotlib import pyplot

        if axes is None:
            _, axes = pyplot.subplots(figsize=(8, 4))
        axes.plot(self.learning_rates, self.losses, ".", color="0.75", markersize=4, label="loss of each batch")
        axes.plot(self.learning_rates, self.smoothed_losses, color="C0", label=f"smoothed (β = {self.smoothing})")
        for index, name in enumerate(SUGGESTION_NAMES):
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


def steps_for_smoothing(beta: float) -> int:
    """The fewest steps a sweep smoothed with ``beta`` should have: 2 / (1 − β), twice the
    ≈ 1 / (1 − β) steps the moving average remembers (100 for β = 0.98, the pairing of fastai's
    and Lightning's defaults). A shorter sweep's smoothed curve is little more than the running
    mean of all its losses, which lags the loss of each batch and can hide its fall."""
    return math.ceil(round(2 / (1 - beta), 6))


def smoothing_for_steps(num_steps: int) -> float:
    """The largest β that suits a sweep of ``num_steps`` steps, 1 − 2 / ``num_steps`` (at
    least 0), the inverse of :func:`steps_for_smoothing`: 0.9 for 20 steps, 0.98 for 100."""
    return max(0.0, 1 - 2 / num_steps)


def _fall_after_warm_up(losses: List[float], curve: List[float]) -> Tuple[float, int]:
    """``(start, lowest)``: the mean loss of the first ``SKIP_BEGIN`` steps (the moving
    average's warm-up), and the index of the lowest point of ``curve`` after them."""
    return float(np.mean(losses[:SKIP_BEGIN])), SKIP_BEGIN + int(np.argmin(curve[SKIP_BEGIN:]))


def _falls_clearly(start: float, lowest: float, noise: float) -> bool:
    """Whether a fall from ``start`` to ``lowest`` is at least ``MIN_RELATIVE_FALL`` of
    ``start`` and ``MIN_SIGNAL_TO_NOISE`` times the batch noise."""
    fall = start - lowest
    return fall >= MIN_RELATIVE_FALL * abs(start) and fall >= MIN_SIGNAL_TO_NOISE * noise


def suggest_learning_rates(learning_rates: List[float], losses: List[float], beta: float = SMOOTHING,
                           num_steps: Optional[int] = None
                           ) -> Tuple[Dict[str, float], Dict[str, int], Optional[str], Optional[str]]:
    """Read a range test's curve: ``(suggestions, suggestion_steps, declined, warning)``.

    ``num_steps`` is the length of the sweep asked for (default: the steps recorded); below
    :func:`steps_for_smoothing` ``(beta)`` the sweep is *short* for its smoothing. It declines
    (empty ``suggestions``, ``declined`` the reason, with the fix) when the curve has fewer than
    ``MIN_STEPS`` points; when the smoothed loss after the first ``SKIP_BEGIN`` steps never
    falls below their mean loss by ``MIN_RELATIVE_FALL`` of it, saying the smoothing hides the
    fall if the loss of each batch (up to the smoothed curve's lowest point) does fall that much
    and by ``MIN_SIGNAL_TO_NOISE`` times the batch noise, or if the sweep is short, and that the
    model does not learn otherwise; or when the smoothed fall is less than ``MIN_SIGNAL_TO_NOISE``
    times the batch noise (:func:`batch_noise`). Otherwise it gives :func:`valley_index` and
    :func:`steepest_descent_index`, as rates and as step indices, and, for a short sweep, a
    ``warning`` that the smoothed curve lags the loss of each batch, so the suggestions can sit
    at too high a rate. fastai's ``lr_find`` smooths as here but never warns; Lightning declines
    only below a few points; Smith (2017) sweeps over whole epochs, where none of this arises.
    """
    num_steps = len(losses) if num_steps is None else num_steps
    if len(losses) < MIN_STEPS:
        where = f" (at lr {learning_rates[-1]:.2g})" if learning_rates else ""
        return {}, {}, (f"only {len(losses)} steps before the loss diverged{where}; a curve needs at least "
                        f"{MIN_STEPS}: lower start_lr, or raise num_steps"), None
    smoothed = smooth_losses(losses, beta)
    start, lowest = _fall_after_warm_up(losses, smoothed)
    noise = batch_noise(losses)
    enough_steps = steps_for_smoothing(beta)
    short = num_steps < enough_steps
    window = f"β = {beta:g} averages the loss over about {1 / (1 - beta):.0f} steps"
    too_short = f"{num_steps} steps are too short a sweep for its smoothing ({window})"
    more_steps = (f"raise num_steps to 2 / (1 − β) = {enough_steps} (--num-steps {enough_steps})" if short else
                  f"raise num_steps to {2 * num_steps} (--num-steps {2 * num_steps}), so that the fall spans more steps")
    if start - smoothed[lowest] < MIN_RELATIVE_FALL * abs(start):
        lowest_batch = int(np.argmin(losses[:lowest + 1]))  # before the smoothed curve turns up
        batches_fall = lowest_batch >= SKIP_BEGIN and _falls_clearly(start, losses[lowest_batch], noise)
        lowest_smoothed = f"lowest {smoothed[lowest]:.3g}, at lr {learning_rates[lowest]:.2g}"
        flat = (f"its mean over the first {SKIP_BEGIN} steps is {start:.3g}, and after them neither its smoothed "
                f"value ({lowest_smoothed}) nor the loss of any batch falls clearly below that")
        if not (batches_fall or short):
            return {}, {}, (f"the loss never falls: {flat}: the model does not learn at any of these rates; check "
                            "the labels and the data, or widen the range"), None
        if not batches_fall:
            return {}, {}, (f"the loss does not fall within this short sweep: {flat}; but {too_short}, and train too "
                            f"little to tell whether the model learns: {more_steps}; if the loss still never falls, "
                            "check the labels and the data"), None
        lighter = smoothing_for_steps(num_steps)
        lighter_curve = smooth_losses(losses, lighter)
        if lighter < beta and _falls_clearly(start, lighter_curve[_fall_after_warm_up(losses, lighter_curve)[1]], noise):
            more_steps += f", or keep {num_steps} steps and lower smoothing to {lighter:g} (--smoothing {lighter:g})"
        return {}, {}, (f"the smoothing hides the fall: the loss of each batch falls from {start:.3g} (the mean of the "
                        f"first {SKIP_BEGIN} steps) to {losses[lowest_batch]:.3g} (at lr "
                        f"{learning_rates[lowest_batch]:.2g}), but its smoothed value only to {smoothed[lowest]:.3g}, "
                        f"since {too_short if short else window + ', longer than the fall lasts'}: {more_steps}"), None
    fall = start - smoothed[lowest]
    if fall < MIN_SIGNAL_TO_NOISE * noise:
        return {}, {}, (f"the curve is too noisy: the loss falls by {fall:.3g} but varies by {noise:.3g} from batch "
                        "to batch; use larger batches or more num_steps"), None
    steps = {"valley": valley_index(smoothed), "steepest": steepest_descent_index(learning_rates, smoothed)}
    warning = None
    if short:
        lighter = smoothing_for_steps(num_steps)
        warning = (f"{too_short}, so the smoothed curve lags the loss of each batch and the suggestions can sit at "
                   f"too high a rate; for a curve to trust, {more_steps}, or lower smoothing to {lighter:g} "
                   f"(--smoothing {lighter:g})")
    return {name: learning_rates[step] for name, step in steps.items()}, steps, None, warning


def _copy_for_sweep(model: Model, optimizer: torch.optim.Optimizer) -> Tuple[Model, torch.optim.Optimizer]:
    """A deep copy of ``model`` and an optimizer of the same class, options and state over
    the copy's parameters."""
    model_copy = copy.deepcopy(model)
    parameter_of = {id(original): duplicate for original, duplicate in zip(model.parameters(), model_copy.parameters())}
    groups = [{**{key: value for key, value in group.items() if key != "params"},
               "params": [parameter_of[id(parameter)] for parameter in group["params"]]}
              for group in optimizer.param_groups]
    optimizer_copy = type(optimizer)(groups)
    optimizer_copy.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    return model_copy, optimizer_copy


def _batches(data_loader: Iterable) -> Iterator[Dict[str, torch.Tensor]]:
    """The loader's batches, pass after pass (a small dataset has fewer batches than steps),
    without the ``None`` of a batch whose images were all unreadable."""
    while True:
        yielded = False
        for batch in data_loader:
            if batch is not None:
                yielded = True
                yield batch
        if not yielded:
            raise ConfigurationError("The learning-rate finder got no batch from the training data loader "
                                     "(no training images, or none readable).")


def find_learning_rate(model: Model, optimizer: torch.optim.Optimizer, data_loader: Iterable,
                       start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100,
                       divergence_factor: float = DIVERGENCE_FACTOR, smoothing: float = SMOOTHING,
                       device: Optional[torch.device] = None, progress: bool = True) -> LearningRateFinderResult:
    """Run the learning-rate range test (Smith 2017, section 3.3) on a copy of ``model``.

    Step t (0-based) of ``num_steps`` trains on one batch with the top (last) parameter
    group's rate :func:`sweep_learning_rate` ``(t)``, and every other group's rate that times its
    ratio to the top group's rate in ``optimizer`` now, so discriminative learning rates move
    together. The sweep stops early when the loss is not finite or its smoothed value
    (:func:`smooth_losses`, β = ``smoothing``) exceeds ``divergence_factor`` × the lowest so far.
    The parameters that train are those with ``requires_grad`` now.

    ``model`` and ``optimizer`` are left untouched (the sweep trains copies), and the random
    generators of Python, NumPy and PyTorch (CPU and CUDA) are restored afterwards. The
    data loader's dataset has its augmentation stream advanced; the trainer reseeds it from
    PyTorch's generator at every epoch, so a training run after the sweep is the same as one
    without it; every sweep starts the stream from the same seed, drawn from PyTorch's generator,
    so the same sweep twice gives the same curve.

    Args:
        model: a model whose ``forward(**batch)`` returns ``"loss"``.
        optimizer: an optimizer over ``model``'s parameters (any state, any groups).
        data_loader: batches ``{"image": (batch, 3, height, width), "label": (batch,)}``;
            reiterated if it has fewer than ``num_steps`` batches.
        start_lr, end_lr: the top group's rate at the first and the last step.
        num_steps: batches to train on (at most).
        divergence_factor: stop once the smoothed loss is this many times its lowest value.
        smoothing: β of the loss's moving average; it remembers about 1 / (1 − β) steps (50 for
            0.98, fastai's and Lightning's β for 100 steps), by which the smoothed curve lags the
            raw one; a sweep should have at least 2 / (1 − β) steps (:func:`steps_for_smoothing`),
            so a shorter one needs a smaller β (:func:`smoothing_for_steps`).
        device: where to train (default: where ``model``'s parameters are).
        progress: show a progress bar.

    Returns:
        The curve and the suggestions (see :class:`LearningRateFinderResult`), for the top group.

    Raises:
        ConfigurationError: ``start_lr`` not in (0, ``end_lr``), ``num_steps`` below 2, ``smoothing``
            not in [0, 1),
            ``divergence_factor`` not above 1, the top group's rate is 0 (no ratios), or the
            loader gives no batch.
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
    saved_random_states = random_states()
    try:
        dataset = getattr(data_loader, "dataset", None)
        if hasattr(dataset, "reseed"):  # as the trainer does each epoch: the same augmentations every sweep
            dataset.reseed(int(torch.randint(2**31 - 1, ())))
        sweep_model, sweep_optimizer = _copy_for_sweep(model, optimizer)
        sweep_model.to(device).train()
        learning_rates: List[float] = []
        losses: List[float] = []
        stopped, average, lowest = None, 0.0, math.inf
        batches = _batches(data_loader)
        for step in progress_bar(range(num_steps), "learning-rate sweep", disable=not progress, unit="batch"):
            rate = sweep_learning_rate(step, num_steps, start_lr, end_lr)
            for group, ratio in zip(sweep_optimizer.param_groups, group_ratios):
                group["lr"] = rate * ratio
            batch = {key: value.to(device) for key, value in next(batches).items()}
            loss = sweep_model(**batch)["loss"]
            sweep_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            sweep_optimizer.step()
            value = loss.item()
            learning_rates.append(rate)
            losses.append(value)
            average = smoothing * average + (1 - smoothing) * value
            smoothed = average / (1 - smoothing ** (step + 1))
            lowest = min(lowest, smoothed)
            if not math.isfinite(value) or smoothed > divergence_factor * lowest:
                stopped = (f"the loss diverged at step {step + 1} (lr {rate:.2g}): smoothed {smoothed:.3g} > "
                           f"{divergence_factor:g} × the lowest {lowest:.3g}")
                break
    finally:
        restore_random_states(saved_random_states)
    finite = [(rate, loss) for rate, loss in zip(learning_rates, losses) if math.isfinite(loss)]
    learning_rates, losses = [rate for rate, _ in finite], [loss for _, loss in finite]
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
