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
``"calibrate": false``.
"""
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Iterable, Optional, Tuple

import torch

from allencv_lite.common.checks import ConfigurationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from allencv_lite.models.basic_image_classifier import BasicImageClassifier

logger = logging.getLogger(__name__)

NUM_BINS = 15  # the equal-width confidence bins of Guo et al. 2017 (their figures and tables use M = 15)


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
    if logits.ndim != 2 or targets.shape != (logits.shape[0],) or not len(targets):
        raise ConfigurationError(f"fit_temperature needs logits (N, C) and targets (N,) with N > 0, got "
                                 f"{tuple(logits.shape)} and {tuple(targets.shape)}.")
    logits, targets = logits.detach().double().cpu(), targets.detach().long().cpu()
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


def calibrate_model(model: "BasicImageClassifier", validation_batches: Iterable) -> Dict[str, float]:
    """Fit the model's temperature on the validation batches (:func:`fit_temperature`), set it,
    and log one line with T and the validation ECE and NLL before and after.

    Returns:
        ``{"temperature": T, "validation_ece_before": ..., "validation_ece_after": ...}`` and the
        same for ``nll`` and ``brier`` (see :func:`calibration_scores`).

    Raises:
        ConfigurationError: no validation image could be read.
    """
    logits, targets = model_logits(model, validation_batches)
    temperature = fit_temperature(logits, targets)
    model.set_temperature(temperature)
    before, after = calibration_scores(logits, targets), calibration_scores(logits, targets, temperature)
    # The fit rests on the mistakes: with none, the NLL falls as T falls to 0; with few, T comes out too small.
    mistakes = int((logits.argmax(dim=-1) != targets).sum())
    logger.info("Temperature scaling: T = %.3f on %d validation images (%d wrong); ECE %.2f%% -> %.2f%%, "
                "NLL %.4f -> %.4f", temperature, len(targets), mistakes, 100 * before["ece"], 100 * after["ece"],
                before["nll"], after["nll"])
    return {"temperature": temperature, **{f"validation_{name}_before": value for name, value in before.items()},
            **{f"validation_{name}_after": value for name, value in after.items()}}
