"""Fixtures for the web demo tests: the digits predictor and images to upload."""
import io

import numpy as np
import pytest
from PIL import Image

from allencv_lite.models.archival import load_archive
from allencv_lite.predictors import ImagePredictor, Predictor


@pytest.fixture(scope="session")
def digits_predictor(digits_archive) -> ImagePredictor:
    return Predictor.from_archive(load_archive(digits_archive), "default_image")


@pytest.fixture
def digit_pngs(digits_dir) -> list:
    """The bytes of one validation PNG of each digit, 0 to 9."""
    return [sorted((digits_dir / "val" / str(d)).iterdir())[0].read_bytes() for d in range(10)]


@pytest.fixture
def large_png() -> bytes:
    """A 200x200 PNG of noise (about 120 kB, incompressible)."""
    noise = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    return buffer.getvalue()
