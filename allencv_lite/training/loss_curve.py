"""Reading a learning-rate range test's loss curve: smoothing it, the suggested rates, and why none.

Pure functions of the rates and losses a sweep recorded (:mod:`allencv_lite.training.lr_finder` runs
the sweep), after fastai's ``lr_find`` and Lightning's ``LearningRateFinder.suggestion``.
"""
import math
from typing import Dict, List, Optional, Tuple

import numpy as np

SMOOTHING = 0.98  # fastai's and Lightning's β of the loss's moving average
SKIP_BEGIN, SKIP_END = 10, 1  # Lightning's suggestion(skip_begin=10, skip_end=1): the average's warm-up; the blow-up
MIN_STEPS = 20  # a shorter curve is too short to read
MIN_RELATIVE_FALL, MIN_SIGNAL_TO_NOISE = 0.05, 2.0  # a clear fall: 5 % of the start, and twice the batch noise


def smooth_losses(losses: List[float], beta: float = SMOOTHING) -> List[float]:
    """fastai's and Lightning's bias-corrected moving average: ``m_t = β · m_{t−1} + (1 − β) · loss_t``
    (``m_0 = 0``), smoothed ``m_t / (1 − β^t)`` (Adam's correction); it weighs the last ≈ 1 / (1 − β) losses."""
    average, smoothed = 0.0, []
    for step, loss in enumerate(losses, start=1):
        average = beta * average + (1 - beta) * loss
        smoothed.append(average / (1 - beta ** step))
    return smoothed


def steps_for_smoothing(beta: float) -> int:
    """The fewest steps for ``beta``, 2 / (1 − β): twice what the average remembers (100 for 0.98)."""
    return math.ceil(round(2 / (1 - beta), 6))


def smoothing_for_steps(num_steps: int) -> float:
    """The largest β for ``num_steps``, the inverse of :func:`steps_for_smoothing`: 0.9 for 20 steps."""
    return max(0.0, 1 - 2 / num_steps)


def steepest_descent_index(learning_rates: List[float], smoothed: List[float]) -> int:
    """``argmin d(smoothed) / d(log10 lr)`` past ``SKIP_BEGIN`` and before the last ``SKIP_END`` (Lightning)."""
    slopes = np.gradient(np.asarray(smoothed), np.log10(learning_rates))
    return SKIP_BEGIN + int(np.argmin(slopes[SKIP_BEGIN:len(smoothed) - SKIP_END]))


def valley_index(smoothed: List[float]) -> int:
    """fastai's ``valley``: in the longest decreasing subsequence of ``smoothed`` (``start`` to ``end``),
    the point ``length / 3 + length / 6`` past its start, half-way down the middle third."""
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
    """The loss's batch-to-batch noise, σ ≈ 1.4826 · MAD(Δloss) / √2: the median absolute deviation of
    successive differences (which a smooth trend hardly moves) as a normal σ, over √2 batches per difference."""
    differences = np.diff(np.asarray(losses))
    if differences.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(differences - np.median(differences))) / math.sqrt(2))


def _falls_clearly(start: float, lowest: float, noise: float) -> bool:
    return start - lowest >= MIN_RELATIVE_FALL * abs(start) and start - lowest >= MIN_SIGNAL_TO_NOISE * noise


def suggest_learning_rates(learning_rates: List[float], losses: List[float], beta: float = SMOOTHING,
                           num_steps: Optional[int] = None
                           ) -> Tuple[Dict[str, float], Dict[str, int], Optional[str], Optional[str]]:
    """Read a curve: ``(suggestions, suggestion_steps, declined, warning)``. A sweep of ``num_steps`` (default:
    those recorded) under :func:`steps_for_smoothing` ``(beta)`` is *short*. It declines, saying what to change,
    a curve under ``MIN_STEPS``; one whose smoothed loss after the first ``SKIP_BEGIN`` steps never falls clearly
    below their mean (the smoothing hides the fall when a batch's loss does fall clearly or the sweep is short,
    else the model does not learn); one whose fall is within the batch noise (:func:`batch_noise`). Otherwise
    it gives :func:`valley_index` and :func:`steepest_descent_index`, and for a short sweep a ``warning`` that
    the smoothed curve lags. fastai smooths so but never warns; Lightning declines only below a few points."""
    num_steps = len(losses) if num_steps is None else num_steps
    if len(losses) < MIN_STEPS:
        where = f" (at lr {learning_rates[-1]:.2g})" if learning_rates else ""
        return {}, {}, (f"only {len(losses)} steps before the loss diverged{where}; a curve needs at least "
                        f"{MIN_STEPS}: lower start_lr, or raise num_steps"), None
    smoothed, lighter = smooth_losses(losses, beta), smoothing_for_steps(num_steps)
    start, lowest, noise = float(np.mean(losses[:SKIP_BEGIN])), min(smoothed[SKIP_BEGIN:]), batch_noise(losses)
    enough_steps, lowest_step = steps_for_smoothing(beta), SKIP_BEGIN + int(np.argmin(smoothed[SKIP_BEGIN:]))
    short = num_steps < enough_steps
    window = f"β = {beta:g} averages the loss over about {1 / (1 - beta):.0f} steps"
    too_short = f"{num_steps} steps are too short a sweep for its smoothing ({window})"
    more_steps = (f"raise num_steps to 2 / (1 − β) = {enough_steps} (--num-steps {enough_steps})" if short else
                  f"raise num_steps to {2 * num_steps} (--num-steps {2 * num_steps}), so that the fall spans more "
                  "steps")
    if not _falls_clearly(start, lowest, noise=0.0):
        lowest_batch = int(np.argmin(losses[:lowest_step + 1]))  # before the smoothed curve turns up
        batches_fall = lowest_batch >= SKIP_BEGIN and _falls_clearly(start, losses[lowest_batch], noise)
        flat = (f"its mean over the first {SKIP_BEGIN} steps is {start:.3g}, and after them neither its smoothed value "
                f"(lowest {lowest:.3g}, at lr {learning_rates[lowest_step]:.2g}) nor the loss of any batch falls "
                "clearly below that")
        if not (batches_fall or short):
            return {}, {}, (f"the loss never falls: {flat}: the model does not learn at any of these rates; check "
                            "the labels and the data, or widen the range"), None
        if not batches_fall:
            return {}, {}, (f"the loss does not fall within this short sweep: {flat}; but {too_short}, and train too "
                            f"little to tell whether the model learns: {more_steps}; if the loss still never falls, "
                            "check the labels and the data"), None
        if lighter < beta and _falls_clearly(start, min(smooth_losses(losses, lighter)[SKIP_BEGIN:]), noise):
            more_steps += f", or keep {num_steps} steps and lower smoothing to {lighter:g} (--smoothing {lighter:g})"
        return {}, {}, (f"the smoothing hides the fall: the loss of each batch falls from {start:.3g} (the mean of the "
                        f"first {SKIP_BEGIN} steps) to {losses[lowest_batch]:.3g} (at lr "
                        f"{learning_rates[lowest_batch]:.2g}), but its smoothed value only to {lowest:.3g}, "
                        f"since {too_short if short else window + ', longer than the fall lasts'}: {more_steps}"), None
    if not _falls_clearly(start, lowest, noise):
        return {}, {}, (f"the curve is too noisy: the loss falls by {start - lowest:.3g} but varies by {noise:.3g} "
                        "from batch to batch; use larger batches or more num_steps"), None
    steps = {"valley": valley_index(smoothed), "steepest": steepest_descent_index(learning_rates, smoothed)}
    warning = (f"{too_short}, so the smoothed curve lags the loss of each batch and the suggestions can sit at too "
               f"high a rate; for a curve to trust, {more_steps}, or lower smoothing to {lighter:g} "
               f"(--smoothing {lighter:g})") if short else None
    return {name: learning_rates[step] for name, step in steps.items()}, steps, None, warning
