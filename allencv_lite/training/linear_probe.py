"""Linear probe, then fine-tune (LP-FT): the classification layer fitted on frozen features before training.

Kumar, Raghunathan, Jones, Ma & Liang, "Fine-Tuning can Distort Pretrained Features and
Underperform Out-of-Distribution", ICLR 2022: fine-tuning a pretrained backbone under a randomly
initialised head lets the head's large early gradients distort the features; fitting the head
first as a logistic regression on the frozen backbone's features (the "linear probe"), then
fine-tuning everything, keeps what pretraining learnt (section 4, "LP-FT").

With ``"trainer": {"linear_probe_first": true}`` the trainer calls :func:`fit_linear_probe` once
before its first epoch (not when it resumes a checkpoint): the model's pooled features of every
training image (the training reader's augmentation applied once) and, if there are any, of the
validation images, then a multinomial logistic regression fitted by L-BFGS for each L2 strength of
:data:`L2_STRENGTHS`, keeping the one with the lowest validation negative log-likelihood
(:data:`L2_WITHOUT_VALIDATION` without validation data).
"""
import logging
from dataclasses import dataclass
from typing import Iterable, Optional, Tuple

import torch

from allencv_lite.common.checks import ConfigurationError

logger = logging.getLogger(__name__)

L2_STRENGTHS = (1e-4, 1e-3, 1e-2, 1e-1)  # λ in mean cross-entropy + λ/2 · ||W||², W the weights (not the bias)
L2_WITHOUT_VALIDATION = 1e-2  # the middle of L2_STRENGTHS
MAX_ITERATIONS = 200  # of L-BFGS, on the whole set of features at once


@dataclass
class LinearProbe:
    """What :func:`fit_linear_probe` chose, for the log and ``metrics.json``.

    Attributes:
        l2_strength: λ of the kept fit.
        validation_accuracy: the probe's accuracy on the validation images (``None`` without).
        num_images: training images whose features it was fitted on.
    """

    l2_strength: float
    validation_accuracy: Optional[float]
    num_images: int

    def describe(self) -> str:
        """``Linear probe on 2000 training images (L2 0.001): validation accuracy 0.9920``."""
        scored = "" if self.validation_accuracy is None else f": validation accuracy {self.validation_accuracy:.4f}"
        return f"Linear probe on {self.num_images} training images (L2 {self.l2_strength:g}){scored}"


def pooled_features(model: torch.nn.Module, data_loader: Iterable, device: torch.device
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The model's ``pooled_features`` of every batch in evaluation mode: float32 ``(N, channels)``
    and the labels, long ``(N,)``, both on ``device``. Batches of unreadable images only (``None``) are skipped."""
    features, labels = [], []
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for batch in data_loader:
            if batch is None:
                continue
            features.append(model.pooled_features(batch["image"].to(device)).float())
            labels.append(batch["label"].to(device))
    model.train(was_training)
    return torch.cat(features), torch.cat(labels)


def fit_logistic_regression(features: torch.Tensor, labels: torch.Tensor, num_labels: int, l2_strength: float
                            ) -> torch.nn.Linear:
    """A linear layer ``(channels,) -> (num_labels,)`` minimising ``mean cross-entropy + l2_strength / 2 · ||W||²``
    over ``features`` ``(N, channels)`` and ``labels`` ``(N,)``, by full-batch L-BFGS with a strong-Wolfe
    line search (a convex problem: it converges from zeros)."""
    layer = torch.nn.Linear(features.shape[1], num_labels, device=features.device, dtype=features.dtype)
    torch.nn.init.zeros_(layer.weight)
    torch.nn.init.zeros_(layer.bias)
    optimizer = torch.optim.LBFGS(layer.parameters(), lr=1.0, max_iter=MAX_ITERATIONS, line_search_fn="strong_wolfe")

    def regularised_loss() -> torch.Tensor:
        optimizer.zero_grad()
        loss = (torch.nn.functional.cross_entropy(layer(features), labels)
                + l2_strength / 2 * layer.weight.square().sum())
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(regularised_loss)
    return layer


def fit_linear_probe(model: torch.nn.Module, train_data_loader: Iterable, validation_data_loader: Optional[Iterable],
                     device: torch.device) -> LinearProbe:
    """Replace ``model._classification_layer``'s weights by a logistic regression on the frozen
    model's pooled features (see the module docstring); the backbone is untouched.

    Args:
        model: a model with ``pooled_features(image)`` ``(batch, 3, H, W) -> (batch, channels)`` and a
            ``torch.nn.Linear`` ``_classification_layer`` (:class:`BasicImageClassifier`).
        train_data_loader: batches of ``image`` ``(batch, 3, H, W)`` and ``label`` ``(batch,)``.
        validation_data_loader: the same for choosing the L2 strength (optional).
        device: where the model is.

    Raises:
        ConfigurationError: the model has no ``pooled_features`` or ``_classification_layer``.
    """
    layer = getattr(model, "_classification_layer", None)
    if not hasattr(model, "pooled_features") or not isinstance(layer, torch.nn.Linear):
        raise ConfigurationError(f"trainer.linear_probe_first: the model ({type(model).__name__}) has no pooled "
                                 "features and linear classification layer to fit; use a basic_image_classifier "
                                 "or set linear_probe_first to false.")
    features, labels = pooled_features(model, train_data_loader, device)
    validation = pooled_features(model, validation_data_loader, device) if validation_data_loader else None
    features = features.double()  # float64: L-BFGS's line search and tolerance assume accurate losses
    validation = (validation[0].double(), validation[1]) if validation is not None else None
    if validation is None:
        l2_strength, accuracy = L2_WITHOUT_VALIDATION, None
        fitted = fit_logistic_regression(features, labels, layer.out_features, l2_strength)
    else:
        fits = {l2: fit_logistic_regression(features, labels, layer.out_features, l2) for l2 in L2_STRENGTHS}
        with torch.no_grad():
            logits = {l2: fit(validation[0]) for l2, fit in fits.items()}
        l2_strength = min(logits, key=lambda l2: float(torch.nn.functional.cross_entropy(logits[l2], validation[1])))
        fitted = fits[l2_strength]
        accuracy = float((logits[l2_strength].argmax(-1) == validation[1]).float().mean())
    with torch.no_grad():
        layer.weight.copy_(fitted.weight)
        layer.bias.copy_(fitted.bias)
    probe = LinearProbe(l2_strength, accuracy, len(labels))
    logger.info(probe.describe())
    return probe
