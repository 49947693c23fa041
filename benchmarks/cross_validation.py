"""K-fold cross-validated accuracy of a recipe, beside a frozen-backbone linear probe on the same folds.

    python benchmarks/cross_validation.py training_config/cats_dogs_efficientnet_finetune.jsonnet
    python benchmarks/cross_validation.py CONFIG --data DIR --folds 5 --seed 0 --only-folds 0,1
    python benchmarks/cross_validation.py --probe-only --probe-backbone efficientnet_lite2

One validation set of 500 photos cannot tell 99.2 % from 99.6 % (at 99 % accuracy one standard
error is sqrt(0.99 * 0.01 / 500) = 0.45 points), so recipes are compared by stratified K-fold
cross-validation (scikit-learn's ``StratifiedKFold``, shuffled with ``--seed``) over every image
of ``DATA/train`` and ``DATA/val`` together (``DATA``: ``--data``, else ``$ALLENCV_DATA_DIR``).

For each fold the config trains on the other folds (``TRAIN_PATH``) and validates on this one
(``VALIDATION_PATH``; each a folder of symbolic links, ``<label>/<image>``). The fold's accuracy
is the **last** epoch's validation accuracy: the held-out fold chose nothing, so it is an unbiased
estimate. The kept (best) epoch's accuracy is printed beside it, but it is selected on the very
images it is measured on, so it is optimistic.

The floor, on the same folds: the backbone left frozen (the offline ImageNet EfficientNet-Lite
with its own evaluation preprocessing, :func:`allencv_lite.audit.features.pretrained_backbone`)
and the logistic regression the trainer's ``linear_probe_first`` fits on its pooled features
(:func:`allencv_lite.training.linear_probe.fit_logistic_regression`: the L2 strength chosen by
5-fold cross-validation on the training folds only). This is the "linear probe" of Kumar et al.,
"Fine-Tuning can Distort Pretrained Features and Underperform Out-of-Distribution", ICLR 2022.

Each fold also checks the trainer's time-left estimate: the one logged during the first epoch
(from its batches 2-6, for all epochs, gradual unfreezing included) against the training time the
epochs then took (images / images per second in each epoch's metrics; validation excluded, as in
the estimate).

Prints a line per fold, then a Markdown table row (mean ± sample standard deviation over folds,
the time to train each fold, and the machine with its load) for ``benchmarks/RESULTS.md``.
"""
import argparse
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine  # noqa: E402

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def labelled_images(data_dir: Path) -> Tuple[List[Path], List[str]]:
    """Every image of ``data_dir/{train,val}/<label>/``, sorted, with its label (the folder name)."""
    paths, labels = [], []
    for split in ("train", "val"):
        for label_dir in sorted(p for p in (data_dir / split).iterdir() if p.is_dir()):
            for path in sorted(label_dir.iterdir()):
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    paths.append(path.resolve())
                    labels.append(label_dir.name)
    if not paths:
        raise SystemExit(f"No images under {data_dir}/train/<label>/ or {data_dir}/val/<label>/.")
    return paths, labels


def folds_of(labels: Sequence[str], folds: int, seed: int) -> List[Tuple[np.ndarray, np.ndarray]]:
    """``(train indices, held-out indices)`` per fold, stratified by label."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def sample_per_class(indices: np.ndarray, labels: Sequence[str], per_class: int, seed: int) -> np.ndarray:
    """A seeded sample of ``per_class`` of ``indices`` for each label (all of a label's when it has fewer)."""
    generator, chosen = np.random.default_rng(seed), []
    for label in sorted(set(labels)):
        of_label = [index for index in indices if labels[index] == label]
        chosen.extend(generator.permutation(of_label)[:per_class])
    return np.sort(np.asarray(chosen))


def link_images(paths: Sequence[Path], labels: Sequence[str], indices: np.ndarray, folder: Path) -> str:
    """``folder/<label>/<n>_<name>`` symbolic links to the chosen images (numbered: names repeat across splits)."""
    for index in indices:
        target = folder / labels[index] / f"{index}_{paths[index].name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(paths[index])
    return str(folder)


def probe_accuracies(paths: Sequence[Path], labels: Sequence[str], folds: List[Tuple[np.ndarray, np.ndarray]],
                     backbone_name: str) -> List[float]:
    """The frozen-backbone linear probe's held-out accuracy on each fold."""
    from allencv_lite.audit.features import extract_features, pretrained_backbone
    from allencv_lite.training.linear_probe import fit_logistic_regression

    extracted = extract_features(paths, pretrained_backbone(backbone_name), progress=False)
    if extracted.skipped:
        raise SystemExit(f"Unreadable images: {extracted.skipped}")
    names = sorted(set(labels))
    features, targets = extracted.features.astype(np.float64), np.array([names.index(label) for label in labels])
    accuracies = []
    for train, held_out in folds:
        weight, bias, _ = fit_logistic_regression(features[train], targets[train], names)
        predicted = (features[held_out] @ weight.T + bias).argmax(-1)
        accuracies.append(float((predicted == targets[held_out]).mean()))
    return accuracies


class FirstTimeEstimate(logging.Handler):
    """Keeps the seconds of the first "Time estimate ..." line's total for the epochs left."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: Optional[float] = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.seconds is None and record.getMessage().startswith("Time estimate"):
            self.seconds = duration_seconds(record.args[4])


def duration_seconds(text: str) -> float:
    """``format_duration``'s text back to seconds: ``"3.2 s"``, ``"6 min 8 s"``, ``"2 h 05 min"``."""
    units = {"h": 3600, "min": 60, "s": 1}
    return sum(float(number) * units[unit] for number, unit in re.findall(r"([\d.]+) (h|min|s)\b", text))


def train_fold(config_file: Path, overrides: Optional[str], paths: Sequence[Path], labels: Sequence[str],
               train: np.ndarray, held_out: np.ndarray, workdir: Path) -> Dict[str, float]:
    """Train ``config_file`` on one fold; its last and kept epochs' held-out accuracy and the time."""
    from allencv_lite.common.params import load_config
    from allencv_lite.training.from_config import train_model

    ext_vars = {"TRAIN_PATH": link_images(paths, labels, train, workdir / "train"),
                "VALIDATION_PATH": link_images(paths, labels, held_out, workdir / "held_out")}
    config = load_config(config_file, overrides=overrides, ext_vars=ext_vars)
    estimate, report = FirstTimeEstimate(), logging.getLogger("allencv_lite.training.progress_report")
    report.addHandler(estimate)
    report.setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        train_model(config, workdir / "run")
    finally:
        report.removeHandler(estimate)
    seconds = time.perf_counter() - started
    metrics = json.loads((workdir / "run" / "metrics.json").read_text())
    training_seconds = sum(epoch["training_num_images"] / epoch["training_images_per_second"]
                           for epoch in map(json.loads, map(Path.read_text, (workdir / "run").glob("metrics_epoch_*.json"))))
    return {"last": metrics["validation_accuracy"], "kept": metrics["best_validation_accuracy"],
            "kept_epoch": metrics["best_epoch"] + 1, "epochs": metrics["epoch"] + 1, "seconds": seconds,
            "estimated_training_seconds": estimate.seconds, "training_seconds": training_seconds}


def mean_and_spread(values: Sequence[float]) -> str:
    """``99.52 ± 0.31 %`` (sample standard deviation; ``±`` omitted for one value)."""
    if len(values) == 1:
        return f"{100 * values[0]:.2f} %"
    return f"{100 * statistics.mean(values):.2f} ± {100 * statistics.stdev(values):.2f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path, nargs="?", help="a training config reading TRAIN_PATH/VALIDATION_PATH")
    parser.add_argument("--data", type=Path, default=os.environ.get("ALLENCV_DATA_DIR"),
                        help="a folder with train/<label>/ and val/<label>/ (default: $ALLENCV_DATA_DIR)")
    parser.add_argument("--folds", type=int, default=5, help="how many folds to deal the images into "
                        "(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="shuffles the images before they are dealt into folds "
                        "(default: %(default)s)")
    parser.add_argument("--only-folds", help="comma-separated fold numbers to run (from 0), e.g. to explore quickly")
    parser.add_argument("-o", "--overrides", help="JSON overrides for the config, as `allencv-lite train -o`")
    parser.add_argument("--train-per-class", type=int, help="train each fold on a seeded sample of this many images "
                        "per class of its training folds (the lessons' samples), the probe too")
    parser.add_argument("--probe-backbone", default="efficientnet_lite0", help="the frozen backbone of the floor "
                        "(default: %(default)s)")
    parser.add_argument("--probe-only", action="store_true", help="measure the linear probe alone")
    parser.add_argument("--keep", type=Path, help="keep each fold's run and image links in KEEP/fold_<n>/ (for "
                        "benchmarks/calibration.py --archive KEEP/fold_0/run --validation-path KEEP/fold_0/held_out)")
    args = parser.parse_args()
    if args.data is None:
        parser.error("give --data DIR or set ALLENCV_DATA_DIR")
    if args.config is None and not args.probe_only:
        parser.error("give a config, or --probe-only")

    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the trainer's epoch lines, per fold
    machine_before = describe_machine()
    paths, labels = labelled_images(args.data)
    folds = folds_of(labels, args.folds, args.seed)
    if args.train_per_class:
        folds = [(sample_per_class(train, labels, args.train_per_class, args.seed), held_out)
                 for train, held_out in folds]
    chosen = [int(n) for n in args.only_folds.split(",")] if args.only_folds else list(range(args.folds))
    probe = probe_accuracies(paths, labels, folds, args.probe_backbone)
    print(f"{len(paths)} images, {args.folds} folds (seed {args.seed}), training on {len(folds[0][0])} per fold; "
          f"probe ({args.probe_backbone}, frozen): {mean_and_spread(probe)}", flush=True)
    runs: List[Dict[str, float]] = []
    if not args.probe_only:
        for fold in chosen:
            with tempfile.TemporaryDirectory() as workdir:
                kept = args.keep / f"fold_{fold}" if args.keep else Path(workdir)
                runs.append(train_fold(args.config, args.overrides, paths, labels, *folds[fold], kept))
            run = runs[-1]
            estimated, took = run["estimated_training_seconds"], run["training_seconds"]
            estimate = "" if estimated is None else (  # none without an epoch
                f"; time-left estimate in epoch 1: {estimated:.0f} s, took {took:.0f} s ({estimated / took - 1:+.0%})")
            print(f"fold {fold}: last epoch {run['last']:.2%}, kept epoch {run['kept_epoch']} of {run['epochs']} "
                  f"{run['kept']:.2%}, probe {probe[fold]:.2%}; trained in {run['seconds']:.0f} s{estimate}",
                  flush=True)
    probe_on_chosen = [probe[fold] for fold in chosen] if runs else probe
    print(f"machine: before {machine_before}; after {describe_machine()}")
    print("| config | overrides | folds | recipe (last epoch) | kept epoch (optimistic) | frozen probe | "
          "training time per fold |")
    print("| --- | --- | --- | ---: | ---: | ---: | --- |")
    if runs:
        times = ", ".join(f"{run['seconds']:.0f}" for run in runs)
        print(f"| {args.config} | {args.overrides or ''} | {','.join(map(str, chosen))} of {args.folds} | "
              f"{mean_and_spread([run['last'] for run in runs])} | {mean_and_spread([run['kept'] for run in runs])} | "
              f"{mean_and_spread(probe_on_chosen)} | {times} s |")
    else:
        print(f"| (probe only) | | all {args.folds} | | | {mean_and_spread(probe)} | |")


if __name__ == "__main__":
    main()
