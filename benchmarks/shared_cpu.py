"""Seconds per epoch on an idle CPU and beside a second CPU-bound process, per torch thread count.

    python benchmarks/shared_cpu.py                               # cats_dogs_cpu.jsonnet, 300 images per class
    python benchmarks/shared_cpu.py --config training_config/cats_dogs_efficientnet_finetune.jsonnet --epochs 1

Each run is a fresh ``allencv-lite train`` process of the config on the first
``--images-per-class`` images of each folder of ``$ALLENCV_DATA_DIR``, for ``--epochs`` epochs;
its time per epoch is the fastest epoch's ``epoch_duration_seconds`` (training and validation).
The runs, interleaved: torch's threads as the trainer sets them (``policy``) and as
``OMP_NUM_THREADS`` fixes them, each alone and with ``python -c "while True: pass"`` running beside
it at the same priority (started before, stopped after). Prints a Markdown table and, per thread
setting, how many times slower an epoch is beside the busy process. Run it while nothing else
runs (other work moves every number).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import load_average  # noqa: E402  (benchmarks/ is not a package)
from time_to_accuracy import subset  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def epoch_seconds(config: Path, data_dir: Path, epochs: int, threads: Optional[int], workdir: Path) -> float:
    """The fastest epoch of one training process (``threads`` None: the trainer's own policy)."""
    environment = {**os.environ, "TRAIN_PATH": str(data_dir / "train"), "VALIDATION_PATH": str(data_dir / "val"),
                   "PYTHONPATH": str(REPO)}
    environment.pop("OMP_NUM_THREADS", None)
    if threads is not None:
        environment["OMP_NUM_THREADS"] = str(threads)
    serialization_dir = workdir / f"run-{threads}"
    subprocess.run([sys.executable, "-m", "allencv_lite", "train", str(config), "-s", str(serialization_dir), "-f",
                    "-o", json.dumps({"trainer": {"num_epochs": epochs, "patience": None}})],
                   env=environment, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return min(json.loads((serialization_dir / f"metrics_epoch_{epoch}.json").read_text())["epoch_duration_seconds"]
               for epoch in range(epochs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=os.environ.get("ALLENCV_DATA_DIR"),
                        help="a folder with train/ and val/ (default: $ALLENCV_DATA_DIR)")
    parser.add_argument("--config", type=Path, default=REPO / "training_config" / "cats_dogs_cpu.jsonnet")
    parser.add_argument("--images-per-class", type=int, default=300, help="images per folder (default 300)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run; the fastest counts (default 2)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="OMP_NUM_THREADS values to compare")
    args = parser.parse_args()
    if args.data is None:
        parser.error("set ALLENCV_DATA_DIR or pass --data")
    workdir = Path(tempfile.mkdtemp(prefix="shared-cpu-"))
    data_dir = subset(args.data, args.images_per_class, workdir / "data")
    settings: List[Optional[int]] = [None, *args.threads]
    seconds: Dict[str, Dict[Optional[int], float]] = {"idle": {}, "busy": {}}
    for setting in settings:
        seconds["idle"][setting] = epoch_seconds(args.config, data_dir, args.epochs, setting, workdir)
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            seconds["busy"][setting] = epoch_seconds(args.config, data_dir, args.epochs, setting, workdir)
        finally:
            hog.kill()
            hog.wait()
    print(f"\n{args.config.name}, {args.images_per_class} images per class, fastest of {args.epochs} epochs, "
          f"{os.cpu_count()} cores, load average {load_average()[0]:.1f} at the end\n")
    print("| torch threads | idle (s per epoch) | beside a busy process (s per epoch) | slowdown |")
    print("| --- | --- | --- | --- |")
    for setting in settings:
        idle, busy = seconds["idle"][setting], seconds["busy"][setting]
        name = "trainer's policy" if setting is None else f"OMP_NUM_THREADS={setting}"
        print(f"| {name} | {idle:.1f} | {busy:.1f} | {busy / idle:.2f}× |")


if __name__ == "__main__":
    main()
