"""Small real image files for tests: solid-colour pictures and a JPEG cut short, written where a test says."""
from pathlib import Path
from typing import Tuple

import numpy as np
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
