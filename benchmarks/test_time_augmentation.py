"""What test-time augmentation gains and costs: accuracy, loss and time of ``evaluate --tta``.

    python benchmarks/test_time_augmentation.py runs/lesson/model.tar.gz        # ../shared/data/cats_dogs/val
    python benchmarks/test_time_augmentation.py ARCHIVE IMAGE_DIR --threads 1

Evaluates the archive on every photo of IMAGE_DIR (``<root>/<label>/<image>``) without TTA and
with each set of views below, as ``allencv-lite evaluate --tta`` does. The images are read
once (the archive's validation reader, in memory), so the times are the forward passes alone:
k views cost about k times one pass. Other work sharing the CPU moves the absolute times.
"""
import argparse
import time
from pathlib import Path

import torch

from allencv_lite.interpret.interpretation import ClassificationInterpretation
from allencv_lite.models.archival import load_archive
from allencv_lite.predictors.test_time_augmentation import augmented_views

DEFAULT_IMAGES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cats_dogs" / "val"
VIEW_SETS = ([], ["flip"], ["flip", "center_crop"], ["flip", "center_crop", "corner_crops"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive")
    parser.add_argument("image_dir", nargs="?", default=str(DEFAULT_IMAGES))
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    archive = load_archive(args.archive)
    reader = archive.dataset_reader
    reader.lazy = False
    dataset = reader.read(args.image_dir)
    dataset.index_with(archive.vocab)
    print(f"{len(dataset)} images of {args.image_dir}, {torch.get_num_threads()} torch thread(s)")
    print("| TTA views | forward passes | accuracy | wrong | loss | seconds |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for views in VIEW_SETS:
        start = time.perf_counter()
        interpretation = ClassificationInterpretation.from_model(archive.model, dataset, progress=False, tta=views)
        elapsed = time.perf_counter() - start
        metrics = interpretation.metrics()
        wrong = round((1 - metrics["accuracy"]) * metrics["num_images"])
        passes = len(augmented_views(torch.zeros(1, 3, 8, 8), views))
        print(f"| {', '.join(views) or 'none'} | {passes} | {metrics['accuracy']:.1%} | {wrong} | "
              f"{metrics['loss']:.4f} | {elapsed:.1f} |")


if __name__ == "__main__":
    main()
