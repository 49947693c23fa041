"""What the predictor costs on top of the model: latency for one image, throughput for batches of 32.

    python benchmarks/predict.py runs/cats_dogs_cpu/model.tar.gz           # ../shared/data/cats_dogs/val
    python benchmarks/predict.py ARCHIVE IMAGE_DIR --images 64 --repeats 3

Both sides do the same work on the same files, with the archive's validation reader:

- predictor: ``predictor.predict_json({"image_path": path})`` (one image) and
  ``predictor.predict_batch_json([...32 inputs...])`` (a batch), JSON output included;
- direct: ``reader.load_image(path)`` (decode), ``reader.image_to_tensor`` (resize,
  normalize), ``torch.stack`` and ``model(image=...)`` under ``torch.inference_mode()``.

The two are interleaved image by image (batch by batch), so drifts in the machine's load hit
both alike; the medians are reported. The direct side is also split into decoding +
preprocessing and the forward pass alone. Target: the predictor's single-image overhead is at
most 20 % over decoding + preprocessing + forward. Other work sharing the CPU moves the
absolute numbers, so read the ratio.
"""
import argparse
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, List

import torch

from allencv_lite.data.image_loading import IMAGE_EXTENSIONS
from allencv_lite.models.archival import load_archive
from allencv_lite.predictors import Predictor

BATCH_SIZE = 32
DEFAULT_IMAGES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cats_dogs" / "val"


def seconds(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archive", type=Path, help="model.tar.gz from allencv-lite train")
    parser.add_argument("image_dir", type=Path, nargs="?", default=DEFAULT_IMAGES,
                        help="folder searched recursively for images")
    parser.add_argument("--images", type=int, default=96, help="distinct images to use (a multiple of 32)")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the images")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    archive = load_archive(args.archive)
    predictor = Predictor.from_archive(archive, "default_image")
    model, reader = archive.model, archive.dataset_reader
    paths = sorted(str(p) for p in args.image_dir.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)[: args.images]
    if len(paths) < BATCH_SIZE:
        raise SystemExit(f"Need at least {BATCH_SIZE} images under {args.image_dir}, found {len(paths)}.")

    def preprocess(batch: List[str]) -> torch.Tensor:
        return torch.stack([reader.image_to_tensor(reader.load_image(path)) for path in batch])

    def forward(images: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return model(image=images)["probs"]

    for path in paths[:4]:  # warm-up: first calls allocate and pick kernels
        predictor.predict_json({"image_path": path})
        forward(preprocess([path]))

    single: Dict[str, List[float]] = {"predictor": [], "direct": [], "preprocess": [], "forward": []}
    for _ in range(args.repeats):
        for path in paths:
            single["predictor"].append(seconds(lambda: predictor.predict_json({"image_path": path})))
            single["direct"].append(seconds(lambda: forward(preprocess([path]))))
            prepared: Dict[str, torch.Tensor] = {}
            single["preprocess"].append(seconds(lambda: prepared.setdefault("x", preprocess([path]))))
            single["forward"].append(seconds(lambda: forward(prepared["x"])))

    batched: Dict[str, List[float]] = {"predictor": [], "direct": []}
    batches = [paths[i:i + BATCH_SIZE] for i in range(0, len(paths) - BATCH_SIZE + 1, BATCH_SIZE)]
    for _ in range(args.repeats):
        for batch in batches:
            batched["predictor"].append(seconds(lambda: predictor.predict_batch_json([{"image_path": p} for p in batch])))
            batched["direct"].append(seconds(lambda: forward(preprocess(batch))))

    latency = {name: 1000 * statistics.median(values) for name, values in single.items()}
    throughput = {name: BATCH_SIZE / statistics.median(values) for name, values in batched.items()}
    first_shape = tuple(preprocess(paths[:1]).shape)
    print(f"archive {args.archive}, {len(paths)} images from {args.image_dir}, input {first_shape}, "
          f"{torch.get_num_threads()} torch threads, {args.repeats} passes")
    print()
    print("| measure | predictor | model directly | overhead |")
    print("| --- | --- | --- | --- |")
    print(f"| one image, median latency (ms) | {latency['predictor']:.2f} | {latency['direct']:.2f} "
          f"(decode + preprocess {latency['preprocess']:.2f}, forward {latency['forward']:.2f}) | "
          f"{100 * (latency['predictor'] / latency['direct'] - 1):+.1f} % |")
    print(f"| batches of {BATCH_SIZE}, median throughput (images/s) | {throughput['predictor']:.0f} | "
          f"{throughput['direct']:.0f} | {100 * (throughput['direct'] / throughput['predictor'] - 1):+.1f} % time |")


if __name__ == "__main__":
    main()
