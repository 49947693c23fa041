"""Generated pictures for the audit tests: two classes a pretrained backbone tells apart
(stripes and dots); near copies are made as the benchmark makes them."""
from pathlib import Path
from typing import Dict

import numpy as np
from PIL import Image, ImageDraw

from benchmarks.audit import near_copy  # noqa: F401 - resized to 90 %, JPEG quality 75

SIDE = 96  # pixels
# A fixed near-duplicate threshold for generated pictures: two of one kind are more alike than two
# photos (two dot pictures can score 0.9), so the data's own threshold would miss the planted copy.
PLANTED_THRESHOLD = 0.95


def stripes(rng: np.random.Generator) -> Image.Image:
    """Sinusoidal stripes of random frequency, angle and colours."""
    y, x = np.mgrid[0:SIDE, 0:SIDE] / SIDE
    angle, frequency = rng.uniform(0, np.pi), rng.uniform(3, 9)
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * frequency * (x * np.cos(angle) + y * np.sin(angle)))
    colours = rng.integers(0, 256, (2, 3))
    pixels = wave[..., None] * colours[0] + (1 - wave[..., None]) * colours[1]
    return Image.fromarray(pixels.astype(np.uint8))


def dots(rng: np.random.Generator) -> Image.Image:
    """Random filled circles on a plain background of random colour."""
    image = Image.new("RGB", (SIDE, SIDE), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(4, 12))):
        cx, cy, r = rng.integers(0, SIDE, 2).tolist() + [int(rng.integers(5, 20))]
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return image


def write_dataset(root: Path, per_class: Dict[str, int], seed: int) -> None:
    """``root/<Stripes|Dots>/<n>.jpg``, ``per_class`` images each, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    for label, count in per_class.items():
        draw = stripes if label == "Stripes" else dots
        (root / label).mkdir(parents=True, exist_ok=True)
        for n in range(count):
            draw(rng).save(root / label / f"{label.lower()}{n}.jpg", quality=95)

