"""The near-duplicate threshold each data set gets from its own nearest-neighbour similarities.

The distributions are drawn as measured with EfficientNet-Lite0 (benchmarks/RESULTS.md, "Dataset
audit"): on the shared photos the nearest-neighbour distance ``1 - similarity`` has a median of
0.298 and a spread of 0.214 in its logarithm; on the handwritten digits 0.0325 and 0.292.
"""
import numpy as np
import pytest

from allencv_lite.audit.duplicates import NEAR_DUPLICATE_SIMILARITY, find_duplicates, near_duplicate_threshold


def nearest_similarities(median_distance: float, log_spread: float, images: int) -> np.ndarray:
    """Nearest-neighbour similarities whose distances are log-normal, seeded."""
    log_distances = np.random.default_rng(0).normal(np.log(median_distance), log_spread, images)
    return 1 - np.exp(log_distances)


def test_on_photos_the_threshold_stays_between_distinct_photos_and_resized_reencoded_copies():
    threshold = near_duplicate_threshold(nearest_similarities(0.298, 0.214, 2500))
    assert threshold == pytest.approx(1 - np.exp(np.log(0.298) - 4.5 * 0.214), abs=2e-3)  # 0.886
    assert 0.863 < threshold < 0.9035  # the most similar distinct photos; the least similar near copy


def test_the_threshold_is_never_below_the_floor_measured_on_photos():
    assert near_duplicate_threshold(nearest_similarities(0.6, 0.3, 2500)) == NEAR_DUPLICATE_SIMILARITY == 0.88


def test_on_images_all_alike_the_threshold_rises_above_every_nearest_neighbour():
    nearest = nearest_similarities(0.0325, 0.292, 1787)
    threshold = near_duplicate_threshold(nearest)
    assert threshold == pytest.approx(1 - np.exp(np.log(0.0325) - 4.5 * 0.292), abs=1e-3)  # 0.9913
    assert nearest.max() < threshold


def test_without_spread_the_floor_alone_decides():
    assert near_duplicate_threshold(np.array([0.95, 0.95])) == NEAR_DUPLICATE_SIMILARITY


def test_a_copy_among_alike_images_stands_out_and_only_it_is_found():
    rng = np.random.default_rng(0)
    centre = rng.normal(size=64)
    features = centre + 0.3 * rng.normal(size=(200, 64))  # all alike: each pair about 0.9 similar
    features = np.vstack([features, features[7] + 0.001 * rng.normal(size=64)])  # a near copy of image 7
    hashes = [str(n) for n in range(len(features))]
    found, threshold = find_duplicates(hashes, features)
    assert [(pair.first, pair.second, pair.exact) for pair in found] == [(7, 200, False)]
    fixed, _ = find_duplicates(hashes, features, threshold=NEAR_DUPLICATE_SIMILARITY)
    assert len(fixed) > 10_000 and threshold > 0.95
