"""Fixtures for the audit tests: a generated dataset with planted problems, audited once per session."""
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.generated_pictures import PLANTED_THRESHOLD, dots, near_copy, write_dataset


@pytest.fixture(scope="session")
def planted_folder(tmp_path_factory) -> Path:
    """``train/`` (20 stripes, 20 dots) and ``val/`` (6 each) with planted problems:

    * ``train/Stripes/flipped.jpg`` is a picture of dots (a flipped label);
    * ``train/Dots/dots0_copy.jpg`` is a byte copy of ``dots0.jpg`` (an exact duplicate);
    * ``train/Stripes/stripes1_small.jpg`` is ``stripes1.jpg`` at 90 %, JPEG q75 (a near duplicate);
    * ``val/Dots/leaked.jpg`` is a byte copy of ``train/Dots/dots2.jpg`` (leakage);
    * ``train/Dots/broken.jpg`` is truncated and ``train/Dots/notes.jpg`` is text (skipped).
    """
    root = tmp_path_factory.mktemp("planted")
    write_dataset(root / "train", {"Stripes": 20, "Dots": 20}, seed=0)
    write_dataset(root / "val", {"Stripes": 6, "Dots": 6}, seed=1)
    dots(np.random.default_rng(99)).save(root / "train" / "Stripes" / "flipped.jpg", quality=95)
    shutil.copy(root / "train/Dots/dots0.jpg", root / "train/Dots/dots0_copy.jpg")
    (root / "train/Stripes/stripes1_small.jpg").write_bytes(near_copy(root / "train/Stripes/stripes1.jpg"))
    shutil.copy(root / "train/Dots/dots2.jpg", root / "val/Dots/leaked.jpg")
    whole = (root / "train/Dots/dots3.jpg").read_bytes()
    (root / "train/Dots/broken.jpg").write_bytes(whole[: len(whole) // 3])
    (root / "train/Dots/notes.jpg").write_text("not a picture")
    return root


@pytest.fixture(scope="session")
def feature_cache(tmp_path_factory) -> Path:
    """One feature cache for the test session: each generated picture is computed once."""
    return tmp_path_factory.mktemp("feature_cache")


@pytest.fixture(scope="session")
def planted_report(planted_folder, feature_cache):
    """The audit of :func:`planted_folder` (about 60 forward passes of EfficientNet-Lite0).

    Its near-duplicate threshold is fixed at 0.95: generated pictures of one kind are all alike (two
    dot pictures can score 0.9), so the data's own threshold (0.99 here) is above the planted near
    copy, as it is above every pair of the handwritten digits."""
    from allencv_lite.audit import audit

    return audit(planted_folder, cache_folder=feature_cache, progress=False, near_duplicate_similarity=PLANTED_THRESHOLD)
