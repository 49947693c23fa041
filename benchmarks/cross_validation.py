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
and a logistic regression on its L2-normalised pooled features, its regularisation ``C`` chosen
by an inner 5-fold cross-validation on the training folds only (scikit-learn's
``LogisticRegressionCV``). This is the "linear probe" of Kumar et al., "Fine-Tuning can Distort
Pretrained Features and Underperform Out-of-Distribution", ICLR 2022.

Prints a line per fold, then a Markdown table row (mean ± sample standard deviation over folds,
the time to train each fold, and the machine with its load) for ``benchmarks/RESULTS.md``.
"""
import argparse
import json
import os
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
    from sklearn.linear_model import LogisticRegressionCV

    from allencv_lite.audit.features import extract_features, pretrained_backbone
    from allencv_lite.audit.label_issues import MAX_ITERATIONS, l2_normalise

    extracted = extract_features(paths, pretrained_backbone(backbone_name), progress=False)
    if extracted.skipped:
        raise SystemExit(f"Unreadable images: {extracted.skipped}")
    features, targets = l2_normalise(extracted.features), np.asarray(labels)
    accuracies = []
    for train, held_out in folds:
        probe = LogisticRegressionCV(Cs=np.logspace(-2, 3, 11), cv=5, max_iter=MAX_ITERATIONS)
        probe.fit(features[train], targets[train])
        accuracies.append(float((probe.predict(features[held_out]) == targets[held_out]).mean()))
    return accuracies


def train_fold(config_file: Path, overrides: Optional[str], paths: Sequence[Path], labels: Sequence[str],
               train: np.ndarray, held_out: np.ndarray, workdir: Path) -> Dict[str, float]:
    """Train ``config_file`` on one fold; its last and kept epochs' held-out accuracy and the time."""
    from allencv_lite.common.params import load_config
    from allencv_lite.training.from_config import train_model

    ext_vars = {"TRAIN_PATH": link_images(paths, labels, train, workdir / "train"),
                "VALIDATION_PATH": link_images(paths, labels, held_out, workdir / "held_out")}
    config = load_config(config_file, overrides=overrides, ext_vars=ext_vars)
    started = time.perf_counter()
    train_model(config, workdir / "run")
    seconds = time.perf_counter() - started
    metrics = json.loads((workdir / "run" / "metrics.json").read_text())
    return {"last": metrics["validation_accuracy"], "kept": metrics["best_validation_accuracy"],
            "kept_epoch": metrics["best_epoch"] + 1, "epochs": metrics["epoch"] + 1, "seconds": seconds}


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
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="shuffles the images before they are dealt into folds")
    parser.add_argument("--only-folds", help="comma-separated fold numbers to run (from 0), e.g. to explore quickly")
    parser.add_argument("-o", "--overrides", help="JSON overrides for the config, as `allencv-lite train -o`")
    parser.add_argument("--probe-backbone", default="efficientnet_lite0", help="the frozen backbone of the floor")
    parser.add_argument("--probe-only", action="store_true", help="measure the linear probe alone")
    args = parser.parse_args()
    if args.data is None:
        parser.error("give --data DIR or set ALLENCV_DATA_DIR")
    if args.config is None and not args.probe_only:
        parser.error("give a config, or --probe-only")

    machine_before = describe_machine()
    paths, labels = labelled_images(args.data)
    folds = folds_of(labels, args.folds, args.seed)
    chosen = [int(n) for n in args.only_folds.split(",")] if args.only_folds else list(range(args.folds))
    probe = probe_accuracies(paths, labels, folds, args.probe_backbone)
    print(f"{len(paths)} images, {args.folds} folds (seed {args.seed}); "
          f"probe ({args.probe_backbone}, frozen): {mean_and_spread(probe)}", flush=True)
    runs: List[Dict[str, float]] = []
    if not args.probe_only:
        for fold in chosen:
            with tempfile.TemporaryDirectory() as workdir:
                runs.append(train_fold(args.config, args.overrides, paths, labels, *folds[fold], Path(workdir)))
            run = runs[-1]
            print(f"fold {fold}: last epoch {run['last']:.2%}, kept epoch {run['kept_epoch']} of {run['epochs']} "
                  f"{run['kept']:.2%}, probe {probe[fold]:.2%}; trained in {run['seconds']:.0f} s", flush=True)
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
