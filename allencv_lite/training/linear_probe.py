"""Linear probe, then fine-tune (LP-FT): the classification layer fitted on frozen features before training.

Kumar, Raghunathan, Jones, Ma & Liang, "Fine-Tuning can Distort Pretrained Features and
Underperform Out-of-Distribution", ICLR 2022: fine-tuning a pretrained backbone under a randomly
initialised head lets the head's large early gradients distort the features; fitting the head
first as a logistic regression on the frozen backbone's features (the "linear probe"), then
fine-tuning everything, keeps what pretraining learnt (section 4, "LP-FT").

With ``"trainer": {"linear_probe_first": true}`` the trainer calls :func:`fit_linear_probe` once
before its first epoch (not when it resumes a checkpoint): the model's pooled features of every
training image (the training reader's augmentation applied once), then scikit-learn's
``LogisticRegressionCV``: an L2-regularised multinomial logistic regression whose strength is
chosen from :data:`L2_STRENGTHS` by the lowest negative log-likelihood over stratified
:data:`CROSS_VALIDATION_FOLDS`-fold cross-validation *on the training features*, then refitted on
all of them. The validation images play no part in the fit, so the trainer can judge the probed
model on them like an epoch (epoch 0, a candidate for the kept weights), and a run of
``num_epochs: 0`` is the probe alone.
"""
import logging
import warnings
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence, Tuple

import numpy as np
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.progress import progress_bar
from allencv_lite.data.vocabulary import DEFAULT_NAMESPACE

logger = logging.getLogger(__name__)

# λ in mean cross-entropy + λ/2 · ||W||² (W the weights, not the bias); scikit-learn's C is 1 / (λ · images).
L2_STRENGTHS = (1e-4, 1e-3, 1e-2, 1e-1)
CROSS_VALIDATION_FOLDS = 5
MAX_ITERATIONS = 2000  # of scikit-learn's L-BFGS solver


@dataclass
class LinearProbe:
    """What :func:`fit_linear_probe` chose, for the log.

    Attributes:
        l2_strength: the chosen λ (see :data:`L2_STRENGTHS`).
        cross_validated_loss: its mean held-out negative log-likelihood (nats per image) over the
            cross-validation folds of the training features.
        num_images: training images whose features it was fitted on.
    """

    l2_strength: float
    cross_validated_loss: float
    num_images: int

    def describe(self) -> str:
        """``Linear probe on 2000 training images: L2 0.001, cross-validated loss 0.0213``."""
        return (f"Linear probe on {self.num_images} training images: L2 {self.l2_strength:g}, "
                f"cross-validated loss {self.cross_validated_loss:.4f}")


def pooled_features(model: torch.nn.Module, data_loader: Iterable, device: torch.device
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The model's ``pooled_features`` of every batch in evaluation mode, under a progress bar:
    float32 ``(N, channels)`` and the labels, long ``(N,)``, both on ``device``. Batches of
    unreadable images only (``None``) are skipped."""
    features, labels = [], []
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for batch in progress_bar(data_loader, "linear probe: features of the training images", dynamic_ncols=True):
            if batch is None:
                continue
            features.append(model.pooled_features(batch["image"].to(device)).float())
            labels.append(batch["label"].to(device))
    model.train(was_training)
    return torch.cat(features), torch.cat(labels)


def check_images_per_label(counts: Mapping[str, int]) -> None:
    """Refuse training images too few for the probe's cross-validation: ``counts`` maps each label
    to its number of training images.

    Raises:
        ConfigurationError: naming each label with fewer than :data:`CROSS_VALIDATION_FOLDS`
            images, and its count.
    """
    short = ", ".join(f"'{label}' has {count}" for label, count in counts.items() if count < CROSS_VALIDATION_FOLDS)
    if short:
        raise ConfigurationError(f"trainer.linear_probe_first: the probe chooses its L2 strength by "
                                 f"{CROSS_VALIDATION_FOLDS}-fold cross-validation on the training images, so every "
                                 f"label needs at least {CROSS_VALIDATION_FOLDS} of them (images held out for "
                                 f"validation do not count); {short}. Add images of each, or in a run with epochs "
                                 "set linear_probe_first to false.")


def fit_logistic_regression(features: np.ndarray, labels: np.ndarray, label_names: Sequence[str]
                            ) -> Tuple[np.ndarray, np.ndarray, LinearProbe]:
    """The weights ``(num_labels, channels)`` and bias ``(num_labels,)`` of the logistic regression
    described in the module docstring, fitted on ``features`` ``(N, channels)`` and ``labels``
    ``(N,)`` (indices into ``label_names``, the ``num_labels`` labels in index order), and what was
    chosen. Two labels give scikit-learn's single logit ``w·x + b``, returned as the equivalent pair
    ``(-w/2, w/2)``, ``(-b/2, b/2)`` (softmax over two logits depends on their difference only).

    Raises:
        ConfigurationError: labels with fewer than :data:`CROSS_VALIDATION_FOLDS` images, none
            included (the probe cannot score a class it never saw): :func:`check_images_per_label`.
    """
    from sklearn.linear_model import LogisticRegressionCV

    num_labels = len(label_names)
    check_images_per_label(dict(zip(label_names, np.bincount(labels, minlength=num_labels).tolist())))
    strengths = np.array(L2_STRENGTHS)
    images_per_fit = len(labels) * (CROSS_VALIDATION_FOLDS - 1) / CROSS_VALIDATION_FOLDS
    probe = LogisticRegressionCV(Cs=1 / (strengths * images_per_fit), cv=CROSS_VALIDATION_FOLDS,
                                 scoring="neg_log_loss", max_iter=MAX_ITERATIONS)
    with warnings.catch_warnings():  # scikit-learn 1.8+ announces changes of defaults this call does not use
        warnings.simplefilter("ignore", FutureWarning)
        probe.fit(features, labels)
    chosen = int(np.flatnonzero(probe.Cs_ == probe.C_[0])[0])
    # scores_: label -> (folds, Cs) of negative log-likelihood, the same array for every label
    loss = -float(next(iter(probe.scores_.values()))[:, chosen].mean())
    weight, bias = probe.coef_, probe.intercept_
    if num_labels == 2:
        weight, bias = np.concatenate([-weight / 2, weight / 2]), np.concatenate([-bias / 2, bias / 2])
    return weight, bias, LinearProbe(float(strengths[chosen]), loss, len(labels))


def fit_linear_probe(model: torch.nn.Module, train_data_loader: Iterable, device: torch.device) -> LinearProbe:
    """Replace ``model._classification_layer``'s weights by a logistic regression on the frozen
    model's pooled features (see the module docstring); the backbone is untouched.

    Args:
        model: a model with ``pooled_features(image)`` ``(batch, 3, H, W) -> (batch, channels)``, a
            ``torch.nn.Linear`` ``_classification_layer`` and the ``vocab`` whose labels an error
            names (:class:`BasicImageClassifier`).
        train_data_loader: batches of ``image`` ``(batch, 3, H, W)`` and ``label`` ``(batch,)``.
        device: where the model is.

    Raises:
        ConfigurationError: the model has no ``pooled_features`` or ``_classification_layer``; too
            few images of a label (:func:`fit_logistic_regression`).
    """
    layer = getattr(model, "_classification_layer", None)
    if not hasattr(model, "pooled_features") or not isinstance(layer, torch.nn.Linear):
        raise ConfigurationError(f"trainer.linear_probe_first: the model ({type(model).__name__}) has no pooled "
                                 "features and linear classification layer to fit; use a basic_image_classifier "
                                 "or set linear_probe_first to false.")
    features, labels = pooled_features(model, train_data_loader, device)
    names = [model.vocab.get_token_from_index(i, DEFAULT_NAMESPACE) for i in range(layer.out_features)]
    # float64: the precision every measurement of the probe used
    weight, bias, probe = fit_logistic_regression(features.double().cpu().numpy(), labels.cpu().numpy(), names)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        layer.bias.copy_(torch.from_numpy(bias))
    logger.info(probe.describe())
    return probe
