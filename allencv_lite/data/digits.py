"""The embedded default dataset: scikit-learn's bundled handwritten digits as image folders.

The digits (Alpaydin & Kaynak, UCI "Optical Recognition of Handwritten Digits"; 1797 scans
of 8×8 pixels, 16 grey levels, 10 classes) ship inside scikit-learn, so this works offline.
:func:`write_digits` writes ``<output_dir>/{train,val}/<digit>/<n>.png`` (a stratified, seeded
split), ``<output_dir>/heldout/`` with one image per class that neither split contains, and
``<output_dir>/heldout.jsonl`` listing them as prediction inputs. The command-line front end
is ``python data_scripts/make_digits_dataset.py OUTPUT_DIR``.
"""
import json
from pathlib import Path
from typing import Dict

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def write_digits(output_dir: Path, validation_fraction: float = 0.2, seed: int = 0) -> Dict[str, int]:
    """Write the tree; returns the number of images per split. Re-running rewrites the same files."""
    digits = load_digits()
    images = (digits.images * (255.0 / 16.0)).round().astype(np.uint8)  # 0..16 grey levels -> 0..255
    labels = digits.target
    heldout = np.array([np.flatnonzero(labels == digit)[-1] for digit in range(10)])
    rest = np.setdiff1d(np.arange(len(labels)), heldout)
    train, val = train_test_split(rest, test_size=validation_fraction, random_state=seed, stratify=labels[rest])
    counts = {}
    for split, indices in (("train", train), ("val", val), ("heldout", heldout)):
        for index in indices:
            folder = output_dir / split / str(labels[index]) if split != "heldout" else output_dir / split
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{index:04d}.png" if split != "heldout" else f"digit{labels[index]}_{index:04d}.png"
            Image.fromarray(images[index], mode="L").save(folder / name)
        counts[split] = len(indices)
    with open(output_dir / "heldout.jsonl", "w", encoding="utf-8") as jsonl:
        for index in heldout:
            path = output_dir / "heldout" / f"digit{labels[index]}_{index:04d}.png"
            jsonl.write(json.dumps({"image_path": str(path)}) + "\n")
    return counts
