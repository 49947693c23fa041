"""Label issues from out-of-sample probabilities: confident learning on K-fold predictions.

Each image's class probabilities come from a logistic regression that never saw it
(scikit-learn's ``cross_val_predict`` over stratified K folds, seeded), trained on L2-normalised
features. cleanlab then flags the images whose given label the rest of the data contradicts
(``cleanlab.filter.find_label_issues``, pruning by the estimated noise rate) and scores every
image's label by the probability of its given label (``self_confidence``): Northcutt, Jiang &
Chuang, "Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 70 (2021),
sections 3.1-3.2.
"""
from typing import TYPE_CHECKING, List, Sequence

import numpy as np

from allencv_lite.common.checks import ConfigurationError

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

DEFAULT_FOLDS = 5
DEFAULT_REGULARIZATION = 1.0  # scikit-learn's C (inverse L2 strength) on unit-length features
MAX_ITERATIONS = 2000  # of scikit-learn's L-BFGS solver


def fit_linear_probe(features: np.ndarray, labels: Sequence[str],
                     regularization: float = DEFAULT_REGULARIZATION) -> "LogisticRegression":
    """A logistic regression (scikit-learn, L2, ``C = regularization``) fitted on the L2-normalised
    ``features`` ``(images, channels)`` and their ``labels``; predict with ``l2_normalise``d features."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=regularization, max_iter=MAX_ITERATIONS).fit(l2_normalise(features), list(labels))


def l2_normalise(features: np.ndarray) -> np.ndarray:
    """Each row ``(channels,)`` of ``features`` ``(images, channels)`` divided by its Euclidean length
    (rows of zeros stay zero): scikit-learn's ``preprocessing.normalize``."""
    from sklearn.preprocessing import normalize

    return normalize(features, norm="l2")


def out_of_sample_probabilities(features: np.ndarray, labels: Sequence[int], num_classes: int,
                                folds: int = DEFAULT_FOLDS, seed: int = 0, normalise: bool = True,
                                regularization: float = DEFAULT_REGULARIZATION) -> np.ndarray:
    """Class probabilities ``(images, num_classes)`` for each image from a logistic regression
    trained on the other folds (stratified K-fold, shuffled with ``seed``).

    Args:
        features: ``(images, channels)``.
        labels: the class index of each image, in ``[0, num_classes)``.
        folds: K; every class needs at least K images.
        normalise: L2-normalise the features first (see :func:`l2_normalise`); raw features rank
            label errors worse (see ``benchmarks/RESULTS.md``, "Dataset audit").
        regularization: scikit-learn's ``C`` (smaller is stronger L2 regularisation).

    Raises:
        ConfigurationError: fewer than two classes, or a class with fewer images than folds.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    labels = np.asarray(labels)
    counts = np.bincount(labels, minlength=num_classes)
    if np.count_nonzero(counts) < 2:
        raise ConfigurationError("Out-of-sample probabilities need at least two classes with images.")
    if counts.min() < folds:
        raise ConfigurationError(f"A class has {counts.min()} images, fewer than the {folds} folds; add images "
                                 "or lower --folds.")
    inputs = l2_normalise(features) if normalise else features
    classifier = LogisticRegression(C=regularization, max_iter=MAX_ITERATIONS)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return cross_val_predict(classifier, inputs, labels, cv=splitter, method="predict_proba")


def rank_label_issues(labels: Sequence[int], probabilities: np.ndarray) -> List[int]:
    """The indices of the images cleanlab flags as likely mislabelled, worst first (lowest label
    quality score first).

    Args:
        labels: the given class index of each image.
        probabilities: ``(images, classes)`` out-of-sample probabilities.
    """
    from cleanlab.filter import find_label_issues

    return find_label_issues(np.asarray(labels), probabilities,
                             return_indices_ranked_by="self_confidence").tolist()


def label_quality_scores(labels: Sequence[int], probabilities: np.ndarray) -> np.ndarray:
    """Each image's label quality in [0, 1] ``(images,)``: the out-of-sample probability of its given
    label (cleanlab's ``self_confidence``); lower is more suspicious."""
    from cleanlab.rank import get_label_quality_scores

    return get_label_quality_scores(np.asarray(labels), probabilities, method="self_confidence")
