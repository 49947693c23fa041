"""What a Grad-CAM heatmap costs next to a prediction, per image.

    python benchmarks/grad_cam.py runs/lesson07/model.tar.gz           # ../shared/data/cats_dogs/val
    python benchmarks/grad_cam.py ARCHIVE IMAGE_DIR --images 40

For each image, interleaved so that drifts in the machine's load hit both alike, with the
archive's validation reader preparing the same tensor:

- forward: ``model(image=...)`` under ``torch.inference_mode()``;
- explain: ``allencv_lite.interpret.grad_cam.explain(model, image)`` (the grad-cam package's GradCAM: a
  forward pass with hooks, a backward pass from the logit down to the target layer, the
  weighted sum and the resize to the input's size).

Target: a heatmap costs at most a few forward passes, so the panel, the demo and the cleaner
can draw one per picture on a CPU. Other work sharing the CPU moves the absolute numbers, so
read the ratio.
"""
import argparse
import statistics
import time
from pathlib import Path

import torch

from allencv_lite.data.image_loading import IMAGE_EXTENSIONS
from allencv_lite.interpret.grad_cam import explain
from allencv_lite.models.archival import load_archive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive")
    parser.add_argument("image_dir", nargs="?", default="../shared/data/cats_dogs/val")
    parser.add_argument("--images", type=int, default=40)
    args = parser.parse_args()
    archive = load_archive(args.archive)
    reader, model = archive.dataset_reader, archive.model.eval()
    paths = sorted(p for p in Path(args.image_dir).rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    paths = paths[:: max(1, len(paths) // args.images)][: args.images]
    images = [reader.image_to_tensor(reader.load_image(path)) for path in paths]
    explain(model, images[0])  # warm-up: the first call builds the hooks' code paths
    forward, heatmap = [], []
    for image in images:
        start = time.perf_counter()
        with torch.inference_mode():
            model(image=image[None])
        forward.append(time.perf_counter() - start)
        start = time.perf_counter()
        explain(model, image)
        heatmap.append(time.perf_counter() - start)
    print(f"{len(images)} images {tuple(images[0].shape)}, {torch.get_num_threads()} torch threads")
    print(f"forward pass, median: {1000 * statistics.median(forward):.1f} ms")
    print(f"Grad-CAM heatmap, median: {1000 * statistics.median(heatmap):.1f} ms "
          f"({statistics.median(heatmap) / statistics.median(forward):.2f}x the forward pass)")


if __name__ == "__main__":
    main()
