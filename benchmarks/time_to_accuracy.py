"""Minutes until a good model: allencv-lite against the same recipe as a plain PyTorch loop.

    python benchmarks/time_to_accuracy.py                     # $ALLENCV_DATA_DIR, full length
    python benchmarks/time_to_accuracy.py --images-per-class 32 --epochs 2 --target 0.5  # quick

For each recipe, in one process, one after the other, with the same seeds:

(a) ``allencv-lite train`` of the recipe's config (through ``train_model``);
(b) what a practitioner would write instead: torchvision's ``ImageFolder`` and transforms, a
    ``DataLoader`` and a training loop, with the same model, weights, image size, augmentation,
    optimizer, parameter groups, schedule, epochs and seeds.

The recipe (until 2026-12-06 there was also ``finetune``, the 192-px, four-group fine-tune, whose
records stay in RESULTS.md; fine-tuning recipes are now compared by ``benchmarks/cross_validation.py``):

- ``scratch``: ``cats_dogs_cpu.jsonnet``: the small residual CNN of the ``residual`` encoder (a
  stride-2 stem; stages of conv 3×3, batch norm, ReLU, max-pool 2 and one residual block; global
  average pooling; dropout; a linear layer) at 96 px with the config's augmentation, label
  smoothing, AdamW, one-cycle schedule and epochs; target 85 %.

For each run it prints the wall time from its start to the end of the first epoch whose
validation accuracy reaches the target (allencv-lite's from the ``metrics_epoch_<n>.json`` each
epoch writes, so no callback changes its loop), the final and best validation accuracy, and the
ratio b/a (above 1: allencv-lite is faster). Other work sharing the CPU moves both sides; run it
on an idle machine for the numbers that count.
"""
import argparse
import json
import os
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision import transforms

from allencv_lite.training.from_config import train_model
from allencv_lite.common.params import load_config
from allencv_lite.data.augmentation import IMAGENET_MEAN, IMAGENET_STD
from machine import load_average  # benchmarks/ is not a package: its folder is on the path

CONFIGS = Path(__file__).resolve().parents[1] / "training_config"
BATCH_SIZE = 32

Run = Tuple[List[Tuple[float, float]], float]  # [(seconds since start, validation accuracy) per epoch], total seconds


@dataclass
class PlainRecipe:
    """What (b) trains: the model, its optimizer, the transforms, and a hook run before each epoch."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    train_transform: Callable
    validation_transform: Callable
    on_epoch_start: Callable[[int, int, int], None] = lambda epoch, num_epochs, steps_per_epoch: None
    on_step: Callable[[], None] = lambda: None  # after each optimizer step
    label_smoothing: float = 0.0  # of the cross-entropy loss


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


def run_allencv(config_file: Path, data_dir: Path, epochs: int, serialization_dir: Path) -> Run:
    """(a): the config, trained by allencv-lite; each epoch's time is when its metrics file was written."""
    config = load_config(config_file, {"trainer": {"num_epochs": epochs, "patience": None}},
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


# ----- (b), from scratch -----

SCRATCH_SIZE, SCRATCH_STEM, SCRATCH_STAGES, SCRATCH_DROPOUT, SCRATCH_SMOOTHING = 96, 24, (32, 64, 128, 256), 0.2, 0.1
SCRATCH_LR, SCRATCH_WARMUP = 2e-3, 0.25  # one-cycle peak and the fraction of steps rising to it


class PlainResidual(torch.nn.Module):
    """(b)'s residual block: ``x + (conv, bn, relu) twice``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False), torch.nn.BatchNorm2d(channels),
            torch.nn.ReLU(inplace=True), torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            torch.nn.BatchNorm2d(channels), torch.nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def plain_cnn(num_labels: int) -> torch.nn.Module:
    """(b)'s from-scratch model, written out as a practitioner would."""
    layers: List[torch.nn.Module] = [torch.nn.Conv2d(3, SCRATCH_STEM, 3, stride=2, padding=1, bias=False),
                                     torch.nn.BatchNorm2d(SCRATCH_STEM), torch.nn.ReLU(inplace=True)]
    for in_channels, out_channels in zip((SCRATCH_STEM,) + SCRATCH_STAGES[:-1], SCRATCH_STAGES):
        layers += [torch.nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                   torch.nn.BatchNorm2d(out_channels), torch.nn.ReLU(inplace=True), torch.nn.MaxPool2d(2),
                   PlainResidual(out_channels)]
    return torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                               torch.nn.Dropout(SCRATCH_DROPOUT), torch.nn.Linear(SCRATCH_STAGES[-1], num_labels))


def plain_scratch_recipe(num_labels: int) -> PlainRecipe:
    """Resize to 108, random 96-px crop, flip, affine rotation ±15° and colour jitter each with
    p = 0.5, ImageNet normalization; label smoothing 0.1; AdamW (weight decay 1e-4) under torch's
    one-cycle schedule (peak 2e-3, a quarter of the steps rising), stepped after each batch."""
    normalize = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    model = plain_cnn(num_labels)
    optimizer = torch.optim.AdamW(model.parameters(), lr=SCRATCH_LR, weight_decay=1e-4)
    schedule: List[torch.optim.lr_scheduler.OneCycleLR] = []  # built once the steps per epoch are known

    def on_epoch_start(epoch: int, num_epochs: int, steps_per_epoch: int) -> None:
        if not schedule:
            schedule.append(torch.optim.lr_scheduler.OneCycleLR(
                optimizer, SCRATCH_LR, num_epochs * steps_per_epoch, pct_start=SCRATCH_WARMUP))

    return PlainRecipe(
        model=model, optimizer=optimizer,
        train_transform=transforms.Compose([
            transforms.Resize((SCRATCH_SIZE + 12, SCRATCH_SIZE + 12)), transforms.RandomCrop(SCRATCH_SIZE),
            transforms.RandomHorizontalFlip(), transforms.RandomApply([transforms.RandomAffine(15)], p=0.5),
            transforms.RandomApply([transforms.ColorJitter(0.2, 0.2, 0.2, 0.02)], p=0.5),
            transforms.ToTensor(), normalize]),
        validation_transform=transforms.Compose([transforms.Resize((SCRATCH_SIZE, SCRATCH_SIZE)),
                                                 transforms.ToTensor(), normalize]),
        on_epoch_start=on_epoch_start, on_step=lambda: schedule[0].step(), label_smoothing=SCRATCH_SMOOTHING)


def run_plain_pytorch(make_recipe: Callable[[int], PlainRecipe], data_dir: Path, epochs: int) -> Run:
    """(b): ImageFolder, transforms, DataLoader and a plain training loop."""
    start = time.time()
    train_data = torchvision.datasets.ImageFolder(str(data_dir / "train"))
    recipe = make_recipe(len(train_data.classes))
    train_data.transform = recipe.train_transform
    validation_data = torchvision.datasets.ImageFolder(str(data_dir / "val"), recipe.validation_transform)
    train_loader = DataLoader(train_data, batch_size=BATCH_SIZE, shuffle=True)
    validation_loader = DataLoader(validation_data, batch_size=BATCH_SIZE)
    model, optimizer = recipe.model, recipe.optimizer
    history = []
    for epoch in range(epochs):
        recipe.on_epoch_start(epoch, epochs, len(train_loader))
        model.train()
        for images, labels in train_loader:
            loss = torch.nn.functional.cross_entropy(model(images), labels,
                                                     label_smoothing=recipe.label_smoothing)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            recipe.on_step()
        model.eval()
        correct = 0
        with torch.inference_mode():
            for images, labels in validation_loader:
                logits = model(images)
                correct += int((logits.argmax(dim=1) == labels).sum())
        history.append((time.time() - start, correct / len(validation_data)))
    return history, time.time() - start


def seed_everything() -> None:
    """The configs' seeds (AllenNLP's defaults), for both sides."""
    random.seed(13370)
    np.random.seed(1337)
    torch.manual_seed(133)


@dataclass
class Recipe:
    """One recipe both ways: allencv-lite's config and (b)'s builder, its epochs and target."""

    description: str
    config: Path
    plain: Callable[[int], PlainRecipe]
    epochs: int
    target: float


RECIPES: Dict[str, Recipe] = {
    "scratch": Recipe(f"from-scratch CNN at {SCRATCH_SIZE} px", CONFIGS / "cats_dogs_cpu.jsonnet",
                      plain_scratch_recipe, epochs=25, target=0.85),
}


def compare(recipe: Recipe, data_dir: Path, epochs: int, target: float, scratch: Path) -> None:
    """Train ``recipe`` both ways and print the Markdown table and the ratio."""
    seed_everything()
    runs: Dict[str, Run] = {"(a) allencv-lite": run_allencv(recipe.config, data_dir, epochs, scratch)}
    seed_everything()
    runs["(b) plain PyTorch loop"] = run_plain_pytorch(recipe.plain, data_dir, epochs)
    print(f"\n{recipe.description} ({recipe.config.name}), {epochs} epochs, target {100 * target:.1f} % val, "
          f"data {data_dir}, {torch.get_num_threads()} torch threads, load average {load_average()[0]:.1f} "
          f"on {os.cpu_count()} cores\n")
    print("| run | time to target (s) | final val accuracy | best val accuracy | total (s) |")
    print("| --- | --- | --- | --- | --- |")
    reached = {}
    for name, (history, total) in runs.items():
        reached[name] = first_at_target(history, target)
        shown = f"{reached[name]:.1f}" if reached[name] is not None else "not reached"
        print(f"| {name} | {shown} | {100 * history[-1][1]:.1f} % | {100 * max(a for _, a in history):.1f} % | "
              f"{total:.1f} |")
    (a, b) = reached.values()
    if a is not None and b is not None:
        print(f"\nratio b/a, time to target: {b / a:.2f} (above 1: allencv-lite reaches it sooner)", flush=True)
    else:
        totals = [total for _, total in runs.values()]
        print(f"\ntarget not reached by both; ratio b/a of total time: {totals[1] / totals[0]:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=os.environ.get("ALLENCV_DATA_DIR"),
                        help="a folder with train/ and val/ (default: $ALLENCV_DATA_DIR)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs for both sides (default: the recipe's, 25)")
    parser.add_argument("--target", type=float, default=None,
                        help="validation accuracy to reach, 0-1 (default: the recipe's, 0.85)")
    parser.add_argument("--images-per-class", type=int, default=None, help="use only this many images per folder")
    args = parser.parse_args()
    if args.data is None:
        parser.error("set ALLENCV_DATA_DIR or pass --data")
    scratch = Path(tempfile.mkdtemp(prefix="time-to-accuracy-"))
    data_dir = subset(args.data, args.images_per_class, scratch / "data") if args.images_per_class else args.data
    for name, recipe in RECIPES.items():
        compare(recipe, data_dir, args.epochs or recipe.epochs, args.target if args.target is not None
                else recipe.target, scratch / name)


if __name__ == "__main__":
    main()
