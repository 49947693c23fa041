"""Classify images with a model exported by ``allencv-lite export``, using only numpy, Pillow
and onnxruntime: copy this file (the export writes it beside ``model.onnx``) into your own app.

    python standalone_classify.py model.onnx cat.jpg dog.png

prints one JSON line per image: ``{"image": ..., "label": ..., "probabilities": {label: p}}``.
From Python::

    classifier = OnnxImageClassifier("model.onnx")
    classifier.classify(["cat.jpg"])  # [{"image": "cat.jpg", "label": "Cat", "probabilities": {...}}]

``model.json`` beside ``model.onnx`` says how to prepare an image, and this file does exactly
that, step by step, as allencv-lite does when it predicts:

1. decode: Pillow opens the file, a JPEG is decoded at a reduced scale when ``jpeg_draft_size``
   allows (libjpeg's scaled DCT), the EXIF orientation is applied, transparency is laid on white,
   and the picture becomes RGB ``uint8`` ``(height, width, 3)``;
2. the ``steps``: ``resize`` (to ``height`` x ``width``), ``smallest_max_size`` /
   ``longest_max_size`` (the shorter / longer side to ``max_size``, keeping the aspect ratio),
   ``center_crop``, each resize bilinear without antialiasing (OpenCV's ``INTER_LINEAR``), then
   ``normalize``: ``(pixels - mean * max_pixel_value) / (std * max_pixel_value)`` per channel;
3. the batch ``(batch, 3, height, width)`` float32 goes to onnxruntime; the output ``probs``
   ``(batch, labels)`` is already calibrated (``softmax(logits / temperature)``, the model's
   temperature; ``logits`` is the other output, before it).
"""
import argparse
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import onnxruntime
from PIL import Image, ImageOps


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``uint8`` ``(h, w, 3)`` -> ``(height, width, 3)``, bilinear on pixel centres without
    antialiasing, as OpenCV's ``cv2.resize(..., INTER_LINEAR)`` (which rounds its weights to
    1/2048, so a few pixels may differ by 1)."""
    def source_positions(size: int, source_size: int):
        position = np.clip((np.arange(size) + 0.5) * (source_size / size) - 0.5, 0, source_size - 1)
        low = np.floor(position).astype(np.int64)
        return low, np.minimum(low + 1, source_size - 1), (position - low).astype(np.float32)

    top, bottom, dy = source_positions(height, image.shape[0])
    left, right, dx = source_positions(width, image.shape[1])
    pixels = image.astype(np.float32)
    rows = pixels[top] * (1 - dy)[:, None, None] + pixels[bottom] * dy[:, None, None]
    out = rows[:, left] * (1 - dx)[None, :, None] + rows[:, right] * dx[None, :, None]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def resize_keeping_aspect(image: np.ndarray, side: int, shorter: bool) -> np.ndarray:
    """Scale so that the shorter (or longer) side is ``side`` pixels, rounding the other one."""
    height, width = image.shape[:2]
    scale = side / (min(height, width) if shorter else max(height, width))
    return resize_bilinear(image, max(1, round(height * scale)), max(1, round(width * scale)))


def center_crop(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The central ``height`` x ``width`` pixels (the extra pixel of an odd margin at the end)."""
    top, left = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
    return image[top:top + height, left:left + width]


def apply_step(image: np.ndarray, step: Dict[str, Any]) -> np.ndarray:
    """One step of ``model.json``'s ``preprocessing.steps``."""
    kind = step["type"]
    if kind == "resize":
        return resize_bilinear(image, step["height"], step["width"])
    if kind in ("smallest_max_size", "longest_max_size"):
        return resize_keeping_aspect(image, step["max_size"], shorter=kind == "smallest_max_size")
    if kind == "center_crop":
        return center_crop(image, step["height"], step["width"])
    if kind == "normalize":
        scale = step["max_pixel_value"]
        mean, std = np.float32(step["mean"]) * scale, np.float32(step["std"]) * scale
        return (image.astype(np.float32) - mean) / std
    raise ValueError(f"unknown preprocessing step {kind!r}")


def read_rgb(path: str, draft_size: Optional[Sequence[int]] = None) -> np.ndarray:
    """The picture at ``path`` as upright RGB ``uint8`` ``(height, width, 3)``."""
    with Image.open(path) as image:
        if draft_size and image.format == "JPEG":
            sideways = image.getexif().get(0x0112) in (5, 6, 7, 8)  # EXIF orientation swaps width and height
            image.draft("RGB", tuple(reversed(draft_size)) if sideways else tuple(draft_size))
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
        return np.array(image.convert("RGB"))


class OnnxImageClassifier:
    """``model.onnx`` and the ``model.json`` beside it (or ``description_file``)."""

    def __init__(self, model_file: str, description_file: Optional[str] = None) -> None:
        description_file = description_file or str(Path(model_file).with_suffix(".json"))
        with open(description_file, encoding="utf-8") as file:
            self.description = json.load(file)
        self.labels: List[str] = self.description["labels"]
        self.session = onnxruntime.InferenceSession(model_file, providers=["CPUExecutionProvider"])

    def prepare(self, path: str) -> np.ndarray:
        """One image file as the model's input ``(3, height, width)`` float32."""
        preprocessing = self.description["preprocessing"]
        image = read_rgb(path, preprocessing["jpeg_draft_size"])
        for step in preprocessing["steps"]:
            image = apply_step(image, step)
        return image.transpose(2, 0, 1)  # (height, width, 3) -> (3, height, width)

    def classify(self, paths: Sequence[str]) -> List[Dict[str, Any]]:
        """One record per image file, in one batch: the most probable label and each label's probability."""
        batch = np.stack([self.prepare(path) for path in paths]).astype(np.float32)
        probs = self.session.run([self.description["outputs"]["probs"]],
                                 {self.description["input"]["name"]: batch})[0]
        return [{"image": path, "label": self.labels[int(row.argmax())],
                 "probabilities": {label: float(p) for label, p in zip(self.labels, row)}}
                for path, row in zip(paths, probs)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Classify images with an allencv-lite ONNX export.")
    parser.add_argument("model_file", help="model.onnx, with model.json beside it")
    parser.add_argument("images", nargs="+", help="image files")
    args = parser.parse_args()
    for record in OnnxImageClassifier(args.model_file).classify(args.images):
        print(json.dumps(record))
