"""Helpers for the data tests: small real image files written into tmp_path (fixtures re-exported by conftest.py)."""
import logging
from pathlib import Path
from typing import Callable, Tuple

import numpy as np
import pytest
from PIL import Image

RED, BLUE = (220, 20, 20), (20, 20, 220)


def write_image(path: Path, size: Tuple[int, int] = (12, 8), color=RED, mode: str = "RGB",
                format: str = None, **save_options) -> Path:
    """Save a ``size`` = (width, height) image filled with ``color`` in Pillow ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path, format=format, **save_options)
    return path


def write_truncated_jpeg(path: Path) -> Path:
    """A JPEG whose header is valid but whose body stops half way (a download cut short)."""
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(noise).save(path, format="JPEG", quality=95)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.fixture
def image_folder(tmp_path) -> Callable[..., Path]:
    """``image_folder({"Cat/a.jpg": RED, ...})``: a class-per-folder tree of small JPEG/PNG/... images."""
    def build(files: dict, root_name: str = "data") -> Path:
        root = tmp_path / root_name
        for relative, color in files.items():
            write_image(root / relative, color=color)
        return root
    return build


@pytest.fixture
def skip_warnings(caplog) -> Callable[[], list]:
    """The messages of the ``Skipping <file>: <reason>`` warnings logged so far."""
    caplog.set_level(logging.WARNING, logger="allencv_lite")
    return lambda: [r.getMessage() for r in caplog.records if r.getMessage().startswith("Skipping ")]
