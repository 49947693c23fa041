"""Minutes until a good model: allencv-lite against the same recipe as a plain PyTorch loop.

    python benchmarks/time_to_accuracy.py                       # $ALLENCV_DATA_DIR, the full recipe
    python benchmarks/time_to_accuracy.py --images-per-class 32 --epochs 2 --target 0.5   # a quick check

In one process, one after the other, with the same seeds:

(a) ``allencv-lite train training_config/cats_dogs_cpu.jsonnet`` (through ``train_model``);
(b) what a practitioner would write instead: torchvision's ``ImageFolder`` and transforms, a
    ``DataLoader``, the same CNN (4 blocks of conv 3×3, batch norm, ReLU, max-pool 2; global
    average pooling; dropout 0.3; a linear layer), the same augmentation (resize to 72, random
    64-px crop, flip, affine rotation ±15° and colour jitter each with p = 0.5, ImageNet
    normalization), AdamW (lr 1e-3, weight decay 1e-4), batch 32, the same epochs.

For each it prints the wall time from its start to the end of the first epoch whose validation
accuracy reaches ``--target`` (allencv-lite's from the ``metrics_epoch_<n>.json`` each epoch
writes, so no callback changes its loop), the final and best validation accuracy, and the
ratio b/a (above 1: allencv-lite is faster). Only the from-scratch recipe is here so far; the
fine-tuning recipe (gradual unfreezing, discriminative rates, slanted triangular) is not.
Other work sharing the CPU moves both sides; run it on an idle machine for the numbers that count.
"""
import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision import transforms

from allencv_lite.commands.train import train_model
from allencv_lite.common.params import load_config
from allencv_lite.data.augmentation import IMAGENET_MEAN, IMAGENET_STD

CONFIG = Path(__file__).resolve().parents[1] / "training_config" / "cats_dogs_cpu.jsonnet"
SIZE, HIDDEN_CHANNELS, DROPOUT, BATCH_SIZE = 64, (32, 64, 128, 256), 0.3, 32

Run = Tuple[List[Tuple[float, float]], float]  # [(seconds since start, validation accuracy) per epoch], total seconds


def first_at_target(epochs: List[Tuple[float, float]], target: float) -> Optional[float]:
    """Seconds until the first epoch with validation accuracy >= ``target``, or ``None``."""
    return next((seconds for seconds, accuracy in epochs if accuracy >= target), None)


def subset(data_dir: Path, images_per_class: int, scratch: Path) -> Path:
    """A folder of links to the first ``images_per_class`` images of each ``<split>/<label>``."""
    for folder in sorted(path for path in data_dir.glob("*/*") if path.is_dir()):
        (scratch / folder.relative_to(data_dir)).mkdir(parents=True, exist_ok=True)
        for image in sorted(folder.iterdir())[:images_per_class]:
            (scratch / image.relative_to(data_dir)).symlink_to(image)
    return scratch


def run_allencv(data_dir: Path, epochs: int, serialization_dir: Path) -> Run:
    """(a): the config, trained by allencv-lite; each epoch's time is when its metrics file was written."""
    config = load_config(CONFIG, {"trainer": {"num_epochs": epochs, "patience": None}},
                         ext_vars={"TRAIN_PATH": str(data_dir / "train"), "VALIDATION_PATH": str(data_dir / "val")})
    start = time.time()
    train_model(config, serialization_dir, force=True)
    total = time.time() - start
    history = []
    for epoch in range(epochs):
        metrics_file = serialization_dir / f"metrics_epoch_{epoch}.json"
        history.append((metrics_file.stat().st_mtime - start,
                        float(json.loads(metrics_file.read_text())["validation_accuracy"])))
    return history, total


def plain_cnn(num_labels: int) -> torch.nn.Module:
    """(b)'s model, written out as a practitioner would."""
    layers: List[torch.nn.Module] = []
    for in_channels, out_channels in zip((3,) + HIDDEN_CHANNELS[:-1], HIDDEN_CHANNELS):
        layers += [torch.nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                   torch.nn.BatchNorm2d(out_channels), torch.nn.ReLU(inplace=True), torch.nn.MaxPool2d(2)]
    return torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Dropout(DROPOUT),
                               torch.nn.Linear(HIDDEN_CHANNELS[-1], num_labels))


def run_plain_pytorch(data_dir: Path, epochs: int) -> Run:
    """(b): ImageFolder, transforms, DataLoader and a plain training loop."""
    start = time.time()
    normalize = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    train_transform = transforms.Compose([
        transforms.Resize((SIZE + 8, SIZE + 8)), transforms.RandomCrop(SIZE), transforms.RandomHorizontalFlip(),
        transforms.RandomApply([transforms.RandomAffine(15)], p=0.5),
        transforms.RandomApply([transforms.ColorJitter(0.2, 0.2, 0.2, 0.02)], p=0.5),
        transforms.ToTensor(), normalize])
    validation_transform = transforms.Compose([transforms.Resize((SIZE, SIZE)), transforms.ToTensor(), normalize])
    train_data = torchvision.datasets.ImageFolder(str(data_dir / "train"), train_transform)
    validation_data = torchvision.datasets.ImageFolder(str(data_dir / "val"), validation_transform)
    train_loader = DataLoader(train_data, batch_size=BATCH_SIZE, shuffle=True)
    validation_loader = DataLoader(validation_data, batch_size=BATCH_SIZE)
    model = plain_cnn(len(train_data.classes))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    history = []
    for _ in range(epochs):
        model.train()
        for images, labels in train_loader:
            loss = torch.nn.functional.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        correct = 0
        with torch.inference_mode():
            for images, labels in validation_loader:
                correct += int((model(images).argmax(dim=1) == labels).sum())
        history.append((time.time() - start, correct / len(validation_data)))
    return history, time.time() - start


def seed_everything() -> None:
    """The config's seeds (AllenNLP's defaults), for both sides."""
    random.seed(13370)
    np.random.seed(1337)
    torch.manual_seed(133)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=os.environ.get("ALLENCV_DATA_DIR"),
                        help="a folder with train/ and val/ (default: $ALLENCV_DATA_DIR)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs for both sides (the config has 30)")
    parser.add_argument("--target", type=float, default=0.85, help="validation accuracy to reach (0-1)")
    parser.add_argument("--images-per-class", type=int, default=None, help="use only this many images per folder")
    args = parser.parse_args()
    if args.data is None:
        parser.error("set ALLENCV_DATA_DIR or pass --data")
    scratch = Path(tempfile.mkdtemp(prefix="time-to-accuracy-"))
    data_dir = subset(args.data, args.images_per_class, scratch / "data") if args.images_per_class else args.data

    seed_everything()
    runs: Dict[str, Run] = {"(a) allencv-lite": run_allencv(data_dir, args.epochs, scratch / "run")}
    seed_everything()
    runs["(b) plain PyTorch loop"] = run_plain_pytorch(data_dir, args.epochs)

    print(f"\nfrom-scratch CNN at {SIZE} px, {args.epochs} epochs, target {100 * args.target:.1f} % val, "
          f"data {data_dir}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print("| run | time to target (s) | final val accuracy | best val accuracy | total (s) |")
    print("| --- | --- | --- | --- | --- |")
    reached = {}
    for name, (history, total) in runs.items():
        reached[name] = first_at_target(history, args.target)
        shown = f"{reached[name]:.1f}" if reached[name] is not None else "not reached"
        print(f"| {name} | {shown} | {100 * history[-1][1]:.1f} % | {100 * max(a for _, a in history):.1f} % | "
              f"{total:.1f} |")
    (a, b) = reached.values()
    if a is not None and b is not None:
        print(f"\nratio b/a, time to target: {b / a:.2f} (above 1: allencv-lite reaches it sooner)")
    else:
        totals = [total for _, total in runs.values()]
        print(f"\ntarget not reached by both; ratio b/a of total time: {totals[1] / totals[0]:.2f}")


if __name__ == "__main__":
    main()
