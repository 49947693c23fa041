"""Duplicate images: the same bytes (exact) or nearly the same picture (near).

Exact duplicates share the SHA-256 of their file's bytes. Near duplicates are pairs whose
L2-normalised feature vectors have a cosine similarity ``s`` of at least a threshold that each
data set sets for itself (:func:`near_duplicate_threshold`), because "very similar" depends on
the images: two different photos of cats rarely pass 0.86, while two of the 8×8 handwritten
digits, upsampled into an ImageNet backbone, score 0.86 (the median of all pairs) and a digit and
its nearest neighbour 0.97 (a fixed 0.88 made 369 630 near-duplicate pairs of 1787 digits).

The rule: a near duplicate is far closer than images of this data usually are to their nearest
neighbour. Take each image's nearest-neighbour distance ``d = 1 - s``; on a log scale (where
distances near 0 spread out and the distribution is roughly symmetric) find its median ``m`` and
its spread ``σ``, the median absolute deviation scaled to a normal distribution's standard
deviation (robust to the duplicates themselves: Iglewicz & Hoaglin, "How to Detect and Handle
Outliers", 1993). A pair counts when its own ``log d`` lies at least :data:`NEAR_DUPLICATE_Z`
(4.5) spreads below ``m``, and its similarity is at least :data:`NEAR_DUPLICATE_SIMILARITY`
(0.88) whatever the data::

    threshold = max(0.88, 1 - exp(m - 4.5 σ))

Both numbers were measured with EfficientNet-Lite0 features (``benchmarks/audit.py``;
``benchmarks/RESULTS.md``, "Dataset audit"). On the 2500 Cats-vs-Dogs photos the threshold is
0.886: the most similar distinct photos score 0.863 (3.6 spreads), copies resized to 90 % and
re-encoded at JPEG quality 75 score 0.9035 to 0.99 (5.0 spreads and more). On the 1787 digits it
is 0.991, above every pair (the most similar, 0.988, stands 3.4 spreads out): no near duplicate,
rightly, since such features cannot tell a re-encoded copy of a digit (0.90 to 0.98) from another
digit; exact copies are still found by their bytes. Every pair is held to one threshold, rather than
needing to be each other's nearest neighbours, so that three copies of a picture are three pairs.
"""
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from scipy.stats import median_abs_deviation

from allencv_lite.audit.label_issues import l2_normalise

NEAR_DUPLICATE_SIMILARITY = 0.88  # the floor: cosine similarity, measured on photos
NEAR_DUPLICATE_Z = 4.5  # robust z-score of a pair's log cosine distance below the typical nearest neighbour's
SMALLEST_DISTANCE = 1e-6  # 1 - similarity of identical features (float32 rounding), before the logarithm
_BLOCK = 1024  # rows of the similarity matrix computed at once: 1024 × images × 4 bytes


@dataclass(frozen=True)
class DuplicatePair:
    """Two images that are the same picture.

    Attributes:
        first, second: indices into the audited images (``first < second``).
        similarity: cosine similarity of their features (1.0 for exact duplicates).
        exact: whether the files' bytes are identical.
    """

    first: int
    second: int
    similarity: float
    exact: bool


def _similarity_blocks(unit: np.ndarray) -> Iterator[Tuple[int, np.ndarray]]:
    """``(start, block)`` with ``block = unit[start:start + _BLOCK] @ unit.T``, each row's own
    similarity (the diagonal) set to -inf: the similarity matrix a few rows at a time."""
    for start in range(0, len(unit), _BLOCK):
        block = unit[start:start + _BLOCK] @ unit.T
        rows = np.arange(len(block))
        block[rows, start + rows] = -np.inf
        yield start, block


def nearest_neighbour_similarities(unit: np.ndarray) -> np.ndarray:
    """Each image's cosine similarity to its most similar other image, ``(images,)``.

    Args:
        unit: ``(images, channels)`` L2-normalised features, at least two images.
    """
    return np.concatenate([block.max(axis=1) for _, block in _similarity_blocks(unit)])


def near_duplicate_threshold(nearest: np.ndarray, floor: float = NEAR_DUPLICATE_SIMILARITY,
                             z: float = NEAR_DUPLICATE_Z) -> float:
    """The cosine similarity from which two images of this data are near duplicates: the larger
    of ``floor`` and the similarity whose distance ``1 - s`` lies ``z`` robust standard deviations
    below the data's typical nearest-neighbour distance, on a log scale (see the module docstring).

    Args:
        nearest: ``(images,)`` each image's nearest-neighbour similarity
            (:func:`nearest_neighbour_similarities`).
        floor: the lowest threshold, whatever the data.
        z: how many robust standard deviations (the median absolute deviation scaled to a normal
            distribution's) a pair must stand out by.

    Returns:
        a cosine similarity in ``[floor, 1]``; ``floor`` itself when the distances have no spread
        (two images, or more than half with identical features).
    """
    log_distances = np.log(np.clip(1.0 - nearest.astype(np.float64), SMALLEST_DISTANCE, None))
    spread = median_abs_deviation(log_distances, scale="normal")
    if not spread > 0:
        return float(floor)
    return float(max(floor, 1.0 - np.exp(np.median(log_distances) - z * spread)))


def find_duplicates(hashes: Sequence[str], features: np.ndarray,
                    threshold: Optional[float] = None) -> Tuple[List[DuplicatePair], float]:
    """Every pair of exact duplicates (same content hash) and of near duplicates (cosine similarity
    of ``features`` at least ``threshold``), most similar first.

    Args:
        hashes: the SHA-256 of each image's file.
        features: ``(images, channels)``, in the order of ``hashes``.
        threshold: a fixed cosine similarity in [-1, 1]; by default (``None``) this data's
            :func:`near_duplicate_threshold`.

    Returns:
        the pairs, and the threshold they were found with.
    """
    pairs: Dict[tuple, DuplicatePair] = {}
    by_hash: Dict[str, List[int]] = {}
    for index, digest in enumerate(hashes):
        by_hash.setdefault(digest, []).append(index)
    for indices in by_hash.values():
        for position, first in enumerate(indices):
            for second in indices[position + 1:]:
                pairs[(first, second)] = DuplicatePair(first, second, 1.0, True)
    unit = l2_normalise(features.astype(np.float32))
    if threshold is None:
        threshold = near_duplicate_threshold(nearest_neighbour_similarities(unit)) if len(unit) > 1 \
            else NEAR_DUPLICATE_SIMILARITY
    for start, similarities in _similarity_blocks(unit):
        rows, columns = np.nonzero(similarities >= threshold)
        for row, column in zip(rows.tolist(), columns.tolist()):
            first = start + row
            if first < column and (first, column) not in pairs:
                pairs[(first, column)] = DuplicatePair(first, column, float(similarities[row, column]), False)
    return sorted(pairs.values(), key=lambda pair: (-pair.similarity, pair.first, pair.second)), threshold


def nearest_neighbours(features: np.ndarray, queries: Sequence[int], candidates: Sequence[int],
                       k: int = 3) -> Dict[int, List[Tuple[int, float]]]:
    """For each index in ``queries``, the ``k`` indices of ``candidates`` (itself excluded) whose
    features are most cosine-similar, with that similarity, most similar first: the images that
    explain why the audit suggests a label.

    Args:
        features: ``(images, channels)``.
        queries, candidates: indices into ``features``.
    """
    unit = l2_normalise(features.astype(np.float32))
    queries = np.asarray(queries, dtype=int)
    candidates = np.asarray(candidates, dtype=int)
    neighbours: Dict[int, List[Tuple[int, float]]] = {}
    for start in range(0, len(queries), _BLOCK):
        block = queries[start:start + _BLOCK]
        similarities = unit[block] @ unit[candidates].T
        similarities[block[:, None] == candidates[None, :]] = -np.inf  # never its own neighbour
        nearest = np.argsort(-similarities, axis=1, kind="stable")[:, :k]
        for row, query in enumerate(block.tolist()):
            neighbours[query] = [(int(candidates[column]), float(similarities[row, column]))
                                 for column in nearest[row] if np.isfinite(similarities[row, column])]
    return neighbours
