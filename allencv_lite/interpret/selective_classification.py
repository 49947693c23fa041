"""Answer only when confident enough: accuracy against coverage (selective classification).

A classifier that may say "not sure" below a confidence threshold (its top label's probability)
trades *coverage*, the fraction of images it answers, for *accuracy* on those it answers; the
risk-coverage curve of Geifman & El-Yaniv 2017, "Selective Classification for Deep Neural
Networks" (NeurIPS), section 3, with the softmax response as the confidence. The predictors'
``min_confidence`` applies a threshold; this module chooses one on labelled images::

    accuracy_at_thresholds(probabilities, targets)          # one row per threshold
    threshold_for_accuracy(probabilities, targets, 0.99)    # the lowest one reaching 99 %

An image is answered when its confidence is at least the threshold (``>=``), as the predictors do.
The probabilities should be the ones people will see (the calibrated ``probs``), and the images
ones the model was not trained on.
"""
from typing import Dict, List, Optional, Sequence

import torch

DEFAULT_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def _answered(confidence: torch.Tensor, correct: torch.Tensor, answered: torch.Tensor, threshold: float
              ) -> Dict[str, Optional[float]]:
    count = int(answered.sum())
    return {"min_confidence": threshold, "answered": count, "coverage": count / len(confidence),
            "accuracy": float(correct[answered].double().mean()) if count else None}


def accuracy_at_thresholds(probabilities: torch.Tensor, targets: torch.Tensor,
                           thresholds: Sequence[float] = DEFAULT_THRESHOLDS) -> List[Dict[str, Optional[float]]]:
    """For each threshold, the images whose top probability reaches it.

    Args:
        probabilities: float ``(N, C)``; targets: long ``(N,)`` label indices.

    Returns:
        one ``{"min_confidence", "answered", "coverage", "accuracy"}`` per threshold, in order:
        ``answered`` images (of ``N``), ``coverage`` = answered / N, ``accuracy`` among them
        (``None`` when none is answered).
    """
    confidence, predictions = probabilities.detach().cpu().max(dim=-1)
    correct = predictions.eq(targets.cpu())
    return [_answered(confidence, correct, confidence >= threshold, threshold) for threshold in thresholds]


def threshold_for_accuracy(probabilities: torch.Tensor, targets: torch.Tensor,
                           target_accuracy: float) -> Optional[Dict[str, Optional[float]]]:
    """The lowest threshold (so the most images answered) whose answered images are at least
    ``target_accuracy`` right: the confidences are sorted, most confident first, and the longest
    prefix ending between two different confidences that is accurate enough is kept.

    Returns:
        ``{"min_confidence", "answered", "coverage", "accuracy"}`` (as
        :func:`accuracy_at_thresholds`) with ``min_confidence`` the least confidence answered,
        or ``None`` when no threshold reaches ``target_accuracy``.
    """
    confidence, predictions = probabilities.detach().cpu().max(dim=-1)
    correct = predictions.eq(targets.cpu())
    order = torch.argsort(confidence, descending=True, stable=True)
    sorted_confidence = confidence[order]
    running_accuracy = correct[order].double().cumsum(0) / torch.arange(1, len(order) + 1)
    # A threshold answers every image of its confidence, so a prefix may only end where the confidence drops.
    ends_a_group = torch.ones(len(order), dtype=torch.bool)
    ends_a_group[:-1] = sorted_confidence[:-1] > sorted_confidence[1:]
    reaching = torch.nonzero(ends_a_group & (running_accuracy >= target_accuracy)).flatten()
    if not len(reaching):
        return None
    threshold = float(sorted_confidence[reaching[-1]])
    return _answered(confidence, correct, confidence >= threshold, threshold)
