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

A second table times the forward pass alone (batch-1 latency, batch-32 throughput) in each
way of running it, against ``torch.no_grad`` in the archive's own memory format, interleaved
in the same way: ``torch.inference_mode`` (what the predictor uses), the encoder in
``channels_last`` or in the standard format, and with ``--compile`` also ``torch.compile``
(its compile time is printed apart: it is paid again in every new process).
"""
import argparse
import copy
import statistics
import time
from pathlib import Path
from typing import Callable, ContextManager, Dict, List, Tuple

import torch

from allencv_lite.data.image_loading import IMAGE_EXTENSIONS
from allencv_lite.models.archival import load_archive
from allencv_lite.models.model import Model
from allencv_lite.modules.im2im_encoders.im2im_encoder import Im2ImEncoder
from allencv_lite.predictors import Predictor

BATCH_SIZE = 32
DEFAULT_IMAGES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cats_dogs" / "val"


def seconds(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def with_memory_format(model: Model, channels_last: bool) -> Model:
    """A copy of ``model`` whose encoders keep weights and inputs channels-last (or not)."""
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, Im2ImEncoder):
            module.use_channels_last(channels_last)
    return model


def forward_variants(model: Model, compile_model: bool) -> Dict[str, Tuple[Model, Callable[[], ContextManager]]]:
    """Each way of running the forward pass: name -> (model, gradient-mode context)."""
    archived_channels_last = any(module.memory_format == torch.channels_last for module in model.modules()
                                 if isinstance(module, Im2ImEncoder))
    archived = "channels_last" if archived_channels_last else "standard format"
    other = "standard format" if archived_channels_last else "channels_last"
    variants = {
        f"no_grad, {archived} (baseline)": (model, torch.no_grad),
        f"inference_mode, {archived}": (model, torch.inference_mode),
        f"inference_mode, {other}": (with_memory_format(model, not archived_channels_last), torch.inference_mode),
    }
    if compile_model:
        variants[f"inference_mode, {archived}, torch.compile"] = (torch.compile(copy.deepcopy(model)),
                                                                   torch.inference_mode)
    return variants


def time_forward_variants(model: Model, single: torch.Tensor, batch: torch.Tensor, repeats: int,
                          compile_model: bool) -> None:
    """Print the forward-pass table: median batch-1 latency and batch-32 throughput per variant."""
    variants = forward_variants(model, compile_model)

    def run(name: str, images: torch.Tensor) -> None:
        variant, mode = variants[name]
        with mode():
            variant(image=images)

    for name in variants:  # warm-up; compiles the compiled variant
        warm_up = seconds(lambda: [run(name, single), run(name, batch)])
        if "compile" in name:
            print(f"torch.compile: first calls (compiling) took {warm_up:.1f} s")
    latency: Dict[str, List[float]] = {name: [] for name in variants}
    batch_seconds: Dict[str, List[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name in variants:
            latency[name].extend(seconds(lambda: run(name, single)) for _ in range(8))
            batch_seconds[name].append(seconds(lambda: run(name, batch)))
    baseline = next(iter(variants))
    base_latency, base_seconds = statistics.median(latency[baseline]), statistics.median(batch_seconds[baseline])
    print()
    print(f"| forward pass only | batch 1, median latency (ms) | vs baseline | batch {BATCH_SIZE}, "
          "median throughput (images/s) | vs baseline |")
    print("| --- | --- | --- | --- | --- |")
    for name in variants:
        one, many = statistics.median(latency[name]), statistics.median(batch_seconds[name])
        print(f"| {name} | {1000 * one:.2f} | {base_latency / one:.2f}x | {BATCH_SIZE / many:.0f} | "
              f"{base_seconds / many:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archive", type=Path, help="model.tar.gz from allencv-lite train")
    parser.add_argument("image_dir", type=Path, nargs="?", default=DEFAULT_IMAGES,
                        help="folder searched recursively for images")
    parser.add_argument("--images", type=int, default=96, help="distinct images to use (a multiple of 32)")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the images")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile on a CPU)")
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

    time_forward_variants(model, preprocess(paths[:1]), preprocess(paths[:BATCH_SIZE]), args.repeats, args.compile)


if __name__ == "__main__":
    main()
