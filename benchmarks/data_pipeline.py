"""Images per second of allencv-lite's data pipeline versus torchvision's, doing the same work,
and against the decode-only floor.

    python benchmarks/data_pipeline.py                        # ../shared/data/cats_dogs/train
    python benchmarks/data_pipeline.py DATA_DIR --workers 0 2 --size 224 --rounds 2

Every pipeline reads every JPEG of ``DATA_DIR`` (``<label>/<image>`` folders) once per round and
batches 32 images ``(32, 3, size, size)``:

- allencv-lite: ``image_classification_directory`` (lazy) with ``resize``, ``flip``,
  ``normalize`` and its ``DataLoaderFactory``, exactly as a config builds them, with torch's
  threads in the main process set beside the workers as the trainer sets them
  (``training/cpu_threads.py``; torchvision's loader measured the same either way);
- torchvision: ``datasets.ImageFolder`` with ``transforms.v2`` as its documentation
  recommends (``ToImage``, ``Resize(antialias=True)``, ``RandomHorizontalFlip``,
  ``ToDtype(float32, scale=True)``, ``Normalize``) in a plain ``DataLoader``;
- decode floor: the same files decoded by allencv-lite's decoder (``read_image``, with the
  same draft size) and resized with OpenCV, nothing else (no flip, no normalization, ``uint8``),
  through the same ``DataLoader`` settings: the limit no pipeline with this decoder can beat.

To be honest about a shared machine, the benchmark prints the load average before and after,
runs the pipelines interleaved (allencv-lite, torchvision, floor, then again) ``--rounds`` times
and reports each one's median, and prints no ratio when the 1-minute load average at the start,
or at the end less the benchmark's own processes (1 + workers), was above half a process per
core (the other work would decide the ratio).
Timings cover whole passes, worker start-up included, not the folder scans.
"""
import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from torchvision import datasets
from torchvision.transforms import v2

from allencv_lite.data.augmentation import IMAGENET_MEAN, IMAGENET_STD
from allencv_lite.data.data_loader import DataLoaderFactory
from allencv_lite.data.dataset_readers import ImageClassificationDirectoryReader
from allencv_lite.data.image_loading import read_image
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.training import cpu_threads
from machine import load_average  # benchmarks/ is not a package: its folder is on the path

BATCH_SIZE = 32
BUSY_LOAD_PER_CORE = 0.5
DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cats_dogs" / "train"

LoaderMaker = Callable[[], Iterable]


def images_per_second(make_loader: LoaderMaker) -> float:
    """Images delivered per second over one full pass of a fresh loader (workers started inside)."""
    images = 0
    start = time.perf_counter()
    for batch in make_loader():
        images += len(batch["label"] if isinstance(batch, dict) else batch[1])
    return images / (time.perf_counter() - start)


def _augmentation(size: int) -> List[dict]:
    return [{"type": "resize", "height": size, "width": size}, {"type": "flip", "p": 0.5},
            {"type": "normalize", "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)}]


def allencv_loader(data_dir: Path, size: int, num_workers: int) -> LoaderMaker:
    """allencv-lite's reader and loader, as the config ``{"lazy": true, "augmentation": [...]}`` builds them."""
    reader = ImageClassificationDirectoryReader.from_params({"lazy": True, "augmentation": _augmentation(size)})
    dataset = reader.read(data_dir)
    dataset.index_with(Vocabulary.from_labels(dataset.labels))
    factory = DataLoaderFactory(batch_size=BATCH_SIZE, shuffle=True, num_workers=num_workers)

    def batches() -> Iterator:
        with cpu_threads.training_thread_count(num_workers):  # as the trainer does
            yield from factory.build(dataset)

    return batches


def torchvision_loader(data_dir: Path, size: int, num_workers: int) -> LoaderMaker:
    """torchvision's ``ImageFolder`` + ``transforms.v2``, the plain alternative."""
    transform = v2.Compose([v2.ToImage(), v2.Resize((size, size), antialias=True), v2.RandomHorizontalFlip(p=0.5),
                            v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    dataset = datasets.ImageFolder(str(data_dir), transform=transform)
    return lambda: DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True, num_workers=num_workers)


class DecodeOnly(Dataset):
    """``(uint8 tensor (3, size, size), label index)``: decode with allencv-lite's decoder and
    resize with OpenCV, nothing else."""

    def __init__(self, samples: List[tuple], size: int, draft_size) -> None:
        self.samples, self.size, self.draft_size = samples, size, draft_size

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, label = self.samples[index]
        image = cv2.resize(read_image(path, draft_size=self.draft_size), (self.size, self.size),
                           interpolation=cv2.INTER_LINEAR)
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))), label


def decode_floor_loader(data_dir: Path, size: int, num_workers: int) -> LoaderMaker:
    """The decode-only floor over the same files, with the same draft size as allencv-lite's reader."""
    reader = ImageClassificationDirectoryReader.from_params({"lazy": True, "augmentation": _augmentation(size)})
    dataset = reader.read(data_dir)
    labels = {label: index for index, label in enumerate(sorted(set(dataset.labels)))}
    floor = DecodeOnly([(path, labels[label]) for path, label in dataset.samples], size, reader.pipeline.draft_size)
    return lambda: DataLoader(floor, batch_size=BATCH_SIZE, shuffle=True, num_workers=num_workers)


PIPELINES: Dict[str, Callable[[Path, int, int], LoaderMaker]] = {
    "allencv-lite": allencv_loader, "torchvision": torchvision_loader, "decode floor": decode_floor_loader}


def load_per_core() -> float:
    """The 1-minute load average divided by the number of CPUs."""
    return load_average()[0] / (os.cpu_count() or 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path, nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--size", type=int, default=224, help="output height and width in pixels")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved passes of each pipeline; the median counts")
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    load_at_start = load_average()
    print(f"{args.data_dir}, {args.size}x{args.size} px, batch {BATCH_SIZE}, median of {args.rounds} interleaved "
          f"round(s), {cpus} CPUs, load average at start {load_at_start[0]:.2f} {load_at_start[1]:.2f} "
          f"{load_at_start[2]:.2f}", flush=True)
    results: Dict[int, Dict[str, float]] = {}
    for num_workers in args.workers:
        makers = {name: build(args.data_dir, args.size, num_workers) for name, build in PIPELINES.items()}
        rates: Dict[str, List[float]] = {name: [] for name in makers}
        for _ in range(args.rounds):
            for name, make_loader in makers.items():
                rates[name].append(images_per_second(make_loader))
        results[num_workers] = {name: statistics.median(values) for name, values in rates.items()}
    load_at_end = load_average()
    own_processes = 1 + max(args.workers)  # the end's 1-minute average includes the benchmark's own work
    busy = max(load_at_start[0], load_at_end[0] - own_processes) / cpus > BUSY_LOAD_PER_CORE
    print(f"load average at end {load_at_end[0]:.2f} {load_at_end[1]:.2f} {load_at_end[2]:.2f} "
          f"(of which up to {own_processes} from this benchmark's own processes)")
    print(f"{'workers':>7} {'allencv-lite img/s':>19} {'torchvision img/s':>18} {'floor img/s':>12} "
          f"{'vs torchvision':>15} {'floor/ours':>11}")
    for num_workers, median in results.items():
        ours, theirs, floor = median["allencv-lite"], median["torchvision"], median["decode floor"]
        ratios = ("(busy)", "(busy)") if busy else (f"{ours / theirs:.2f}x", f"{floor / ours:.2f}x")
        print(f"{num_workers:>7} {ours:>19.0f} {theirs:>18.0f} {floor:>12.0f} {ratios[0]:>15} {ratios[1]:>11}")
    if busy:
        print(f"warning: the load average was above {BUSY_LOAD_PER_CORE} per core, so other work shared the CPU "
              "and no ratio is printed; run again on an idle machine.")


if __name__ == "__main__":
    main()
