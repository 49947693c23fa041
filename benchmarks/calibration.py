"""Temperature scaling measured out of sample: ECE, NLL, Brier score and accuracy before and after.

    python benchmarks/calibration.py --archive runs/lesson/model.tar.gz            # a trained model
    python benchmarks/calibration.py --config training_config/digits.jsonnet \\
        --train-path data/digits/train --validation-path data/digits/val          # train it first

The temperature is never judged on the images it was fitted on (Guo et al. 2017, section 5, fit T
on a validation set and report on a test set). With ``--test-path`` it is fitted on all the
validation images and measured on the test images; without, the validation images are split in
two halves by a seeded shuffle (``--seed``) and each half is scaled with the temperature fitted on
the other (two-fold cross-fitting, as scikit-learn's ``cross_val_predict``), so every validation
image is measured once, out of sample: the library's ``out_of_sample_temperatures``, on whose NLL
``train_model`` decides whether to keep the temperature.

Prints one Markdown table row per run (the model's archive, the images measured, the
temperature(s), and ECE / NLL / Brier / accuracy uncalibrated and calibrated); ECE uses 15
equal-width bins (:mod:`allencv_lite.interpret.calibration`).
"""
import argparse
import json
import tempfile
from pathlib import Path
from typing import Dict, Optional

import torch

from allencv_lite.common.params import load_config
from allencv_lite.interpret.calibration import calibration_scores, fit_temperature, out_of_sample_temperatures
from allencv_lite.interpret.interpretation import ClassificationInterpretation
from allencv_lite.models.archival import load_archive


def evaluate(archive_file: Path, data_path: str) -> ClassificationInterpretation:
    """The archive's raw logits on ``data_path`` (``<root>/<label>/<image>``)."""
    return ClassificationInterpretation.from_archive(load_archive(archive_file), data_path, progress=False)


def measure(archive_file: Path, validation_path: str, test_path: Optional[str], seed: int) -> Dict[str, object]:
    validation = evaluate(archive_file, validation_path)
    if test_path:
        test = evaluate(archive_file, test_path)
        fitted = [fit_temperature(validation.logits, validation.targets)]
        logits, targets, temperatures, measured = test.logits, test.targets, torch.tensor(fitted[0]), test_path
    else:
        logits, targets = validation.logits, validation.targets
        temperatures, fitted = out_of_sample_temperatures(logits, targets, seed)
        temperatures, measured = temperatures[:, None], f"{validation_path} (2-fold)"
    accuracy = float((logits.argmax(-1) == targets).double().mean())
    # calibration_scores divides by one temperature; per-image temperatures are applied to the logits first.
    return {"archive": str(archive_file), "measured": measured, "images": len(targets), "temperatures": fitted,
            "accuracy": accuracy, "uncalibrated": calibration_scores(logits, targets),
            "calibrated": calibration_scores(logits.double() / temperatures, targets),
            "archived_temperature": validation.temperature}


def train(config_file: Path, train_path: str, validation_path: str, workdir: Path) -> Path:
    from allencv_lite.training.from_config import train_model

    config = load_config(config_file, ext_vars={"TRAIN_PATH": train_path, "VALIDATION_PATH": validation_path})
    train_model(config, workdir / "run")
    return workdir / "run" / "model.tar.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--archive", type=Path, help="a trained model.tar.gz (or its run folder)")
    source.add_argument("--config", type=Path, help="train this config first (TRAIN_PATH/VALIDATION_PATH from below)")
    parser.add_argument("--train-path", help="with --config: the training images")
    parser.add_argument("--validation-path", help="the validation images (default: the archive config's)")
    parser.add_argument("--test-path", help="measure here, with T fitted on all the validation images")
    parser.add_argument("--seed", type=int, default=0, help="the shuffle that splits the validation images in two")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as workdir:
        if args.config:
            if not (args.train_path and args.validation_path):
                parser.error("--config needs --train-path and --validation-path")
            archive_file = train(args.config, args.train_path, args.validation_path, Path(workdir))
        else:
            archive_file = args.archive
        validation_path = args.validation_path or load_archive(archive_file).config["validation_data_path"]
        row = measure(archive_file, validation_path, args.test_path, args.seed)
    print(json.dumps(row))
    before, after = row["uncalibrated"], row["calibrated"]
    print("| model | measured on | images | T fitted | ECE before → after | NLL before → after | "
          "Brier before → after | accuracy |")
    print("| --- | --- | ---: | --- | --- | --- | --- | ---: |")
    print(f"| {args.config or args.archive} | {row['measured']} | {row['images']} | "
          f"{', '.join(f'{t:.3f}' for t in row['temperatures'])} | {before['ece']:.2%} → {after['ece']:.2%} | "
          f"{before['nll']:.4f} → {after['nll']:.4f} | {before['brier']:.4f} → {after['brier']:.4f} | "
          f"{row['accuracy']:.1%} |")


if __name__ == "__main__":
    main()
