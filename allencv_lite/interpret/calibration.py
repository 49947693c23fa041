"""Are the probabilities honest? Calibration measured, and temperature scaling to fix it.

A model is *calibrated* when, of the images it gives probability 0.8, 80 % are right. Modern
networks rarely are; Guo et al. 2017, "On Calibration of Modern Neural Networks" (ICML), measure
it and fix it with one number::

    temperature = fit_temperature(validation_logits, validation_targets)   # section 4.2
    model.set_temperature(temperature)        # probs = softmax(logits / temperature) from now on
    calibration_scores(logits, targets, temperature)   # {"ece": ..., "nll": ..., "brier": ...}

Dividing every logit by the same T > 0 never changes which label is most probable, so accuracy is
untouched; only the confidence moves (T > 1 softens, T < 1 sharpens). ``train_model`` fits T on
the validation images after training (:func:`calibrate_model`) unless the trainer block says
``"calibrate": false``, and keeps it only when a T fitted on half of them lowers the NLL of the
other half (:func:`choose_temperature`).
"""
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Tuple

import torch

from allencv_lite.common.checks import ConfigurationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from allencv_lite.models.basic_image_classifier import BasicImageClassifier

logger = logging.getLogger(__name__)

NUM_BINS = 15  # the equal-width confidence bins of Guo et al. 2017 (their figures and tables use M = 15)


def checked_logits_and_targets(caller: str, logits: torch.Tensor, targets: torch.Tensor
                               ) -> Tuple[torch.Tensor, torch.Tensor]:
    """``logits`` ``(N, C)`` as float64 and ``targets`` ``(N,)`` as long, both on the CPU and detached.

    Raises:
        ConfigurationError: no samples, or shapes that do not match (naming ``caller``).
    """
    if logits.ndim != 2 or targets.shape != (logits.shape[0],) or not len(targets):
        raise ConfigurationError(f"{caller} needs logits (N, C) and targets (N,) with N > 0, got "
                                 f"{tuple(logits.shape)} and {tuple(targets.shape)}.")
    return logits.detach().double().cpu(), targets.detach().long().cpu()


def fit_temperature(logits: torch.Tensor, targets: torch.Tensor, max_iterations: int = 100) -> float:
    """The temperature T > 0 that minimises the negative log-likelihood
    ``mean(cross_entropy(logits / T, targets))`` of held-out samples: temperature scaling, Guo et
    al. 2017, "On Calibration of Modern Neural Networks", section 4.2, optimised with L-BFGS as
    in their code. T is found as ``exp(log T)`` so that it stays positive.

    Args:
        logits: float ``(N, C)``, the model's raw scores on images it was not trained on (the
            validation images).
        targets: long ``(N,)``, the actual label indices.
        max_iterations: L-BFGS iterations (with a strong-Wolfe line search; it converges in a few).

    Raises:
        ConfigurationError: no samples, or shapes that do not match.
    """
    logits, targets = checked_logits_and_targets("fit_temperature", logits, targets)
    log_temperature = torch.zeros((), dtype=torch.double, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_temperature], lr=1.0, max_iter=max_iterations, line_search_fn="strong_wolfe")

    def negative_log_likelihood() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_temperature.exp(), targets)
        loss.backward()
        return loss

    optimizer.step(negative_log_likelihood)
    return float(log_temperature.detach().exp())


@dataclass
class ReliabilityBins:
    """Samples grouped by confidence (the top label's probability) into ``M`` equal-width bins
    ``B_m = ((m-1)/M, m/M]`` (Guo et al. 2017, section 2), each tensor ``(M,)``.

    Attributes:
        edges: float ``(M + 1,)``, 0 to 1.
        confidence: mean confidence in each bin (0 where empty).
        accuracy: fraction of each bin's samples whose top label is right (0 where empty).
        count: samples in each bin.
    """

    edges: torch.Tensor
    confidence: torch.Tensor
    accuracy: torch.Tensor
    count: torch.Tensor

    @property
    def expected_calibration_error(self) -> float:
        """``ECE = sum_m |B_m| / n · |acc(B_m) - conf(B_m)|``, Guo et al. 2017, equation 3: the
        gap between confidence and accuracy, averaged over samples; 0 is perfectly calibrated.
        A fraction (0.019 is 1.9 %)."""
        return float(((self.accuracy - self.confidence).abs() * self.count).sum() / self.count.sum())


def reliability_bins(probabilities: torch.Tensor, targets: torch.Tensor, num_bins: int = NUM_BINS) -> ReliabilityBins:
    """Bin ``probabilities`` ``(N, C)`` by their largest value; ``targets`` ``(N,)`` the label indices.

    Agrees with torchmetrics' ``multiclass_calibration_error(norm="l1")`` except for a confidence
    exactly on an edge, which torchmetrics puts in the bin above (so a confidence of exactly 1.0
    gets a bin of its own there, and the last bin here, as in the paper).
    """
    confidence, predictions = probabilities.detach().double().cpu().max(dim=-1)
    correct = predictions.eq(targets.cpu()).double()
    edges = torch.linspace(0, 1, num_bins + 1, dtype=torch.double)
    index = (torch.bucketize(confidence, edges, right=False) - 1).clamp(0, num_bins - 1)  # (lo, hi]
    count = torch.zeros(num_bins, dtype=torch.double).index_add_(0, index, torch.ones_like(confidence))
    sums = [torch.zeros(num_bins, dtype=torch.double).index_add_(0, index, values) for values in (confidence, correct)]
    mean_confidence, accuracy = (torch.nan_to_num(total / count) for total in sums)
    return ReliabilityBins(edges=edges, confidence=mean_confidence, accuracy=accuracy, count=count)


def brier_score(probabilities: torch.Tensor, targets: torch.Tensor) -> float:
    """``mean_i sum_k (p_ik - y_ik)^2``, with ``y`` the one-hot actual label (Brier 1950,
    "Verification of forecasts expressed in terms of probability", equation 1, averaged over
    samples): 0 is perfect, 2 the worst; it rewards both being right and being honest about it."""
    one_hot = torch.nn.functional.one_hot(targets.long(), probabilities.shape[-1]).to(probabilities.dtype)
    return float(((probabilities - one_hot) ** 2).sum(dim=-1).mean())


def calibration_scores(logits: torch.Tensor, targets: torch.Tensor, temperature: float = 1.0) -> Dict[str, float]:
    """How calibrated ``softmax(logits / temperature)`` is on these samples.

    Args:
        logits: float ``(N, C)``, raw scores; targets: long ``(N,)`` label indices.

    Returns:
        ``{"ece": ..., "nll": ..., "brier": ...}``: the expected calibration error over
        :data:`NUM_BINS` bins (:class:`ReliabilityBins`, a fraction), the negative
        log-likelihood (mean cross-entropy, nats per image) and the :func:`brier_score`.
    """
    scaled = logits.detach().double().cpu() / temperature
    probabilities = torch.softmax(scaled, dim=-1)
    return {"ece": reliability_bins(probabilities, targets).expected_calibration_error,
            "nll": float(torch.nn.functional.cross_entropy(scaled, targets.cpu())),
            "brier": brier_score(probabilities, targets.cpu())}


def plot_reliability_diagram(bins: ReliabilityBins, ax: Optional["Axes"] = None, title: str = "") -> "Figure":
    """The reliability diagram of Guo et al. 2017, figure 1 (bottom): one bar per bin at its
    accuracy, the diagonal where a calibrated model's bars would end, and the gap between each
    bar and its bin's mean confidence in red (above the bar: over-confident). Empty bins have no bar.

    Args:
        ax: draw into these axes (e.g. one of two side by side); by default a new figure.
        title: the axes' title; the ECE is added to it.

    Returns:
        the matplotlib ``Figure``, left open as the other plot helpers leave theirs (see
        :meth:`~allencv_lite.interpret.interpretation.ClassificationInterpretation.plot_confusion_matrix`);
        ``figure.savefig("reliability.png")`` saves it.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.2))
    filled = bins.count > 0
    lefts, width = bins.edges[:-1][filled].numpy(), float(bins.edges[1] - bins.edges[0])
    accuracy, confidence = bins.accuracy[filled].numpy(), bins.confidence[filled].numpy()
    ax.bar(lefts, accuracy, width=width, align="edge", color="#1976d2", edgecolor="white", label="accuracy")
    ax.bar(lefts, confidence - accuracy, bottom=accuracy, width=width, align="edge", color="#e53935", alpha=0.35,
           edgecolor="#e53935", label="gap to confidence")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top label's probability)", ylabel="accuracy",
           title=f"{title}{' · ' if title else ''}ECE {bins.expected_calibration_error:.1%}")
    ax.legend(loc="upper left", fontsize=8)
    ax.figure.tight_layout()
    return ax.figure


def model_temperature(model: torch.nn.Module) -> float:
    """The temperature its ``probs`` divide the logits by: the ``temperature`` buffer of a
    :class:`~allencv_lite.models.basic_image_classifier.BasicImageClassifier`, 1.0 for a model without one."""
    temperature = getattr(model, "temperature", None)
    return 1.0 if temperature is None else float(temperature)


def model_logits(model: torch.nn.Module, batches: Iterable) -> Tuple[torch.Tensor, torch.Tensor]:
    """The raw ``logits`` ``(N, C)`` and ``label`` ``(N,)`` of every batch (``image`` ``(batch,
    3, height, width)`` and ``label`` ``(batch,)``, or ``None`` for a batch with no readable
    image), with the model in eval mode and without gradients, on the CPU."""
    device = next(model.parameters()).device
    model.eval()
    logits, targets = [], []
    with torch.inference_mode():
        for batch in batches:
            if batch is None:
                continue
            logits.append(model(image=batch["image"].to(device))["logits"].float().cpu())
            targets.append(batch["label"].cpu())
    if not logits:
        raise ConfigurationError("No validation image could be read, so there is nothing to calibrate on.")
    return torch.cat(logits), torch.cat(targets)


def cross_fitting_halves(num_samples: int, seed: int = 0) -> List[torch.Tensor]:
    """The two halves of two-fold cross-fitting: the indices ``0 .. num_samples - 1`` shuffled by
    ``torch.randperm`` with ``seed``, then cut in two (the second half takes the odd one out); two
    long tensors ``(num_samples // 2,)`` and ``(num_samples - num_samples // 2,)``."""
    order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed))
    return [order[: num_samples // 2], order[num_samples // 2:]]


def out_of_sample_temperatures(logits: torch.Tensor, targets: torch.Tensor, seed: int = 0
                               ) -> Tuple[torch.Tensor, List[float]]:
    """Two-fold cross-fitting (as scikit-learn's ``cross_val_predict``): each half of
    :func:`cross_fitting_halves` gets the temperature :func:`fit_temperature` fits on the other
    half, so every image is scaled by a temperature that was fitted without it.

    Args:
        logits: float ``(N, C)``; targets: long ``(N,)``; seed: the shuffle that splits them.

    Returns:
        the temperature for each image, double ``(N,)`` (``logits.double() / temperatures[:, None]``
        scales them), and the two fitted temperatures ``[fitted on the second half (applied to
        the first), fitted on the first half (applied to the second)]``.

    Raises:
        ConfigurationError: from :func:`fit_temperature`, for fewer than 2 samples (a half would
            be empty) or shapes that do not match.
    """
    halves = cross_fitting_halves(len(targets), seed)
    temperatures = torch.empty(len(targets), dtype=torch.double)
    fitted = []
    for measured, fitted_on in (halves, halves[::-1]):
        fitted.append(fit_temperature(logits[fitted_on], targets[fitted_on]))
        temperatures[measured] = fitted[-1]
    return temperatures, fitted


@dataclass
class TemperatureChoice:
    """What :func:`choose_temperature` decided, and the numbers it decided on.

    Attributes:
        temperature: the temperature to set: ``fitted`` when ``applied``, else 1.0.
        applied: whether the fitted temperature is kept.
        reason: why it was not, one clause for the log line; ``""`` when applied.
        fitted: T fitted on all the validation images; ``None`` when it was not fitted (a half
            without a mistake).
        mistakes_per_half: wrong top labels in each half of :func:`cross_fitting_halves`.
        out_of_sample_nll_before: the NLL at T = 1 (nats per image; nothing fitted, so out of sample).
        out_of_sample_nll_after: the NLL with each half scaled by the T fitted on the other
            (:func:`out_of_sample_temperatures`); ``None`` when not fitted.
    """

    temperature: float
    applied: bool
    reason: str
    fitted: Optional[float]
    mistakes_per_half: Tuple[int, int]
    out_of_sample_nll_before: float
    out_of_sample_nll_after: Optional[float]

    def metrics(self) -> Dict[str, Any]:
        """The choice as ``metrics.json`` entries: ``temperature``, ``temperature_applied``,
        ``temperature_fitted``, ``validation_mistakes_per_half`` and ``out_of_sample_nll_{before,after}``."""
        return {"temperature": self.temperature, "temperature_applied": self.applied,
                "temperature_fitted": self.fitted, "validation_mistakes_per_half": list(self.mistakes_per_half),
                "out_of_sample_nll_before": self.out_of_sample_nll_before,
                "out_of_sample_nll_after": self.out_of_sample_nll_after}


def choose_temperature(logits: torch.Tensor, targets: torch.Tensor, seed: int = 0) -> TemperatureChoice:
    """Fit a temperature on the validation logits, and keep it only where it is shown to help on
    images it was not fitted on.

    Guo et al. 2017, "On Calibration of Modern Neural Networks", fit T on held-out data (the
    validation set, section 4.2) and judge it on other images (the test set, section 5). Here the
    validation images are the only held-out ones, and a T fitted on a set with few mistakes comes
    out too small (with none, the NLL falls as T falls to 0): the model's rare mistakes then get
    probabilities near 1. So the validation images are split in two halves
    (:func:`cross_fitting_halves`), and T fitted on all of them is applied only if

    1. each half holds at least one mistake (else a half's fit has nothing to rest on), and
    2. the two-fold cross-fitted NLL (each half scaled by the T fitted on the other,
       :func:`out_of_sample_temperatures`) is lower than the NLL at T = 1.

    Otherwise the temperature stays 1.0 and ``reason`` says why.

    Args:
        logits: float ``(N, C)``, the model's raw scores on the validation images.
        targets: long ``(N,)``, the actual label indices.
        seed: the shuffle that splits the images in halves.

    Raises:
        ConfigurationError: no images, or shapes that do not match.
    """
    logits, targets = checked_logits_and_targets("choose_temperature", logits, targets)
    wrong = logits.argmax(dim=-1) != targets
    mistakes = tuple(int(wrong[half].sum()) for half in cross_fitting_halves(len(targets), seed))
    nll_before = float(torch.nn.functional.cross_entropy(logits, targets))
    if min(mistakes) == 0:
        why = (f"the {len(targets)} validation images hold no mistake, and with none the NLL falls as T falls to 0"
               if not sum(mistakes) else
               f"the {len(targets)} validation images hold {sum(mistakes)} mistake{'s' * (sum(mistakes) > 1)} "
               f"({mistakes[0]} and {mistakes[1]} in the two halves), and a temperature fitted on a half without "
               f"a mistake cannot be judged on the other")
        return TemperatureChoice(1.0, False, why, None, mistakes, nll_before, None)
    temperatures, _ = out_of_sample_temperatures(logits, targets, seed)
    nll_after = float(torch.nn.functional.cross_entropy(logits / temperatures[:, None], targets))
    fitted = fit_temperature(logits, targets)
    if nll_after < nll_before:
        return TemperatureChoice(fitted, True, "", fitted, mistakes, nll_before, nll_after)
    why = (f"T = {fitted:.3f} did not help on images it was not fitted on (2-fold cross-fitted NLL {nll_after:.4f}, "
           f"at T = 1 {nll_before:.4f})")
    return TemperatureChoice(1.0, False, why, fitted, mistakes, nll_before, nll_after)


def calibrate_model(model: "BasicImageClassifier", validation_batches: Iterable, seed: int = 0) -> Dict[str, Any]:
    """Temperature scaling after training, guarded: :func:`choose_temperature` fits T on the
    validation batches and keeps it only when it lowers the NLL of images it was not fitted on
    (Guo et al. 2017 fit T on held-out data); the model's temperature is set to it, or to 1.0.
    Logs one line: T and the ECE and NLL before and after, or why T stays 1 and what would help.

    Args:
        model: has ``set_temperature`` and returns ``{"logits": (batch, C)}`` for ``image``.
        validation_batches: ``{"image": (batch, 3, height, width), "label": (batch,)}`` dicts.
        seed: the shuffle that splits the validation images in halves.

    Returns:
        :meth:`TemperatureChoice.metrics` (``temperature``, ``temperature_applied``, the
        out-of-sample NLL before and after, ...) and ``validation_{ece,nll,brier}_{before,after}``
        on all the validation images with the temperature set (the same before and after when
        it stays 1; see :func:`calibration_scores`).

    Raises:
        ConfigurationError: no validation image could be read.
    """
    logits, targets = model_logits(model, validation_batches)
    choice = choose_temperature(logits, targets, seed)
    model.set_temperature(choice.temperature)
    before, after = calibration_scores(logits, targets), calibration_scores(logits, targets, choice.temperature)
    if choice.applied:
        logger.info("Temperature scaling: T = %.3f on %d validation images (%d wrong); ECE %.2f%% -> %.2f%%, "
                    "NLL %.4f -> %.4f (out of sample, 2-fold: %.4f -> %.4f)", choice.temperature, len(targets),
                    sum(choice.mistakes_per_half), 100 * before["ece"], 100 * after["ece"], before["nll"],
                    after["nll"], choice.out_of_sample_nll_before, choice.out_of_sample_nll_after)
    else:
        logger.info("Temperature scaling not applied (T stays 1): %s. More validation images, with mistakes among "
                    "them, would help; \"calibrate\": false in the trainer block silences this line.", choice.reason)
    return {**choice.metrics(), **{f"validation_{name}_before": value for name, value in before.items()},
            **{f"validation_{name}_after": value for name, value in after.items()}}
