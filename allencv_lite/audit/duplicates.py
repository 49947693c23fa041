"""Duplicate images: the same bytes (exact) or nearly the same picture (near).

Exact duplicates share the SHA-256 of their file's bytes. Near duplicates are pairs whose
L2-normalised feature vectors have a cosine similarity of at least
:data:`NEAR_DUPLICATE_SIMILARITY`: the same photo re-encoded, resized or lightly edited.
The threshold was chosen by measurement on the 2500 Cats-vs-Dogs photos with EfficientNet-Lite0
features (``benchmarks/audit.py``; ``benchmarks/RESULTS.md``, "Dataset audit"): 20 copies resized
to 90 % and re-encoded at JPEG quality 75 scored 0.9035 to 0.99 against their originals, while the
most similar pair of distinct photos scored 0.863 (99.99 % of pairs are below 0.78); 0.88 lies
between the two.
"""
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from allencv_lite.audit.label_issues import l2_normalise

NEAR_DUPLICATE_SIMILARITY = 0.88
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


def find_duplicates(hashes: Sequence[str], features: np.ndarray,
                    threshold: float = NEAR_DUPLICATE_SIMILARITY) -> List[DuplicatePair]:
    """Every pair of exact duplicates (same content hash) and of near duplicates (cosine similarity
    of ``features`` at least ``threshold``), most similar first.

    Args:
        hashes: the SHA-256 of each image's file.
        features: ``(images, channels)``, in the order of ``hashes``.
        threshold: cosine similarity in [-1, 1] above which two different files are near duplicates.
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
    for start in range(0, len(unit), _BLOCK):
        similarities = unit[start:start + _BLOCK] @ unit.T
        rows, columns = np.nonzero(similarities >= threshold)
        for row, column in zip(rows.tolist(), columns.tolist()):
            first = start + row
            if first < column and (first, column) not in pairs:
                pairs[(first, column)] = DuplicatePair(first, column, float(similarities[row, column]), False)
    return sorted(pairs.values(), key=lambda pair: (-pair.similarity, pair.first, pair.second))


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
