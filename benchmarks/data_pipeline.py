"""Images per second of allencv-lite's data pipeline versus torchvision's, doing the same work.

    python benchmarks/data_pipeline.py                        # ../shared/data/cats_dogs/train
    python benchmarks/data_pipeline.py DATA_DIR --workers 0 2 --size 224 --epochs 1

Both read every JPEG of ``DATA_DIR`` (``<label>/<image>`` folders) once per epoch, resize it
to ``size`` x ``size`` pixels, flip it horizontally with probability 0.5, normalize it with
ImageNet's mean and std, and batch 32 float32 tensors ``(32, 3, size, size)``:

- allencv-lite: ``image_classification_directory`` (lazy) with ``resize``, ``flip``,
  ``normalize`` (Pillow decoding, in draft mode when the resize shrinks enough;
  albumentations/OpenCV transforms) and its ``DataLoaderFactory``;
- torchvision: ``datasets.ImageFolder`` with ``transforms.v2`` as its documentation
  recommends (``ToImage``, ``Resize(antialias=True)``, ``RandomHorizontalFlip``,
  ``ToDtype(float32, scale=True)``, ``Normalize``) in a plain ``DataLoader``.

Timings cover whole epochs, worker start-up included, not the folder scans. The machine's
other work shares the CPU, so compare the ratio rather than the absolute numbers.
"""
import argparse
import os
import time
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.transforms import v2

from allencv_lite.data.augmentation import IMAGENET_MEAN, IMAGENET_STD
from allencv_lite.data.data_loader import DataLoaderFactory
from allencv_lite.data.dataset_readers import ImageClassificationDirectoryReader
from allencv_lite.data.vocabulary import Vocabulary

BATCH_SIZE = 32
DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cats_dogs" / "train"


def images_per_second(make_loader: Callable[[], Iterable], epochs: int) -> float:
    """Images delivered per second over ``epochs`` full passes of a fresh loader."""
    loader = make_loader()
    images = 0
    start = time.perf_counter()
    for _ in range(epochs):
        for batch in loader:
            images += len(batch["label"] if isinstance(batch, dict) else batch[1])
    return images / (time.perf_counter() - start)


def allencv_loader(data_dir: Path, size: int, num_workers: int) -> Callable[[], Iterable]:
    reader = ImageClassificationDirectoryReader.from_params({"lazy": True, "augmentation": [
        {"type": "resize", "height": size, "width": size}, {"type": "flip", "p": 0.5},
        {"type": "normalize", "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)}]})
    dataset = reader.read(data_dir)
    dataset.index_with(Vocabulary.from_labels(dataset.labels))
    return lambda: DataLoaderFactory(batch_size=BATCH_SIZE, shuffle=True, num_workers=num_workers).build(dataset)


def torchvision_loader(data_dir: Path, size: int, num_workers: int) -> Callable[[], Iterable]:
    transform = v2.Compose([v2.ToImage(), v2.Resize((size, size), antialias=True), v2.RandomHorizontalFlip(p=0.5),
                            v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    dataset = datasets.ImageFolder(str(data_dir), transform=transform)
    return lambda: DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True, num_workers=num_workers,
                              persistent_workers=num_workers > 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path, nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--size", type=int, default=224, help="output height and width in pixels")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    print(f"{args.data_dir}, {args.size}x{args.size} px, batch {BATCH_SIZE}, {args.epochs} epoch(s), "
          f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at start)")
    print(f"{'workers':>7} {'allencv-lite img/s':>19} {'torchvision img/s':>18} {'ratio':>6}")
    for num_workers in args.workers:
        ours = images_per_second(allencv_loader(args.data_dir, args.size, num_workers), args.epochs)
        theirs = images_per_second(torchvision_loader(args.data_dir, args.size, num_workers), args.epochs)
        print(f"{num_workers:>7} {ours:>19.0f} {theirs:>18.0f} {ours / theirs:>5.2f}x", flush=True)


if __name__ == "__main__":
    main()
