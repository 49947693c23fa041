"""How long the command line takes to answer, against ``import torch`` alone, measured together.

    python benchmarks/startup.py                         # --help and a config error
    python benchmarks/startup.py --archive runs/digits/model.tar.gz --image some.png --runs 7

Each measure is the wall time of a fresh process (``subprocess.run``), median of ``--runs``;
the commands are interleaved run by run, so a change in the machine's load hits them alike.
Targets (issue 10): ``--help`` and a config error under 0.5 s; ``predict`` of one image at
most about 1 s more than ``import torch``. Other work sharing the CPU moves every number, so
the load average is printed beside them.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from machine import load_average  # benchmarks/ is not a package: run as a script, its folder is on the path

COMMAND_LINE = [sys.executable, "-m", "allencv_lite"]


def wall_seconds(command: List[str]) -> float:
    """Wall time of ``command`` run to its end, in seconds (output discarded)."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, help="a model.tar.gz, to time `predict` of one image")
    parser.add_argument("--image", type=Path, help="the image `predict` classifies (with --archive)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (the median is reported)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="startup-"))
    config = scratch / "typo.json"
    config.write_text(json.dumps({"dataset_reader": {}, "train_data_path": "x", "model": {}, "trainer": {},
                                  "trainr": {}}))
    commands: Dict[str, List[str]] = {
        "import torch": [sys.executable, "-c", "import torch"],
        "allencv-lite --help": COMMAND_LINE + ["--help"],
        "allencv-lite train (unexpected top-level key)": COMMAND_LINE + ["train", str(config), "-s", str(scratch / "run")],
    }
    if args.archive:
        if not args.image:
            parser.error("--archive needs --image")
        lines = scratch / "input.jsonl"
        lines.write_text(json.dumps({"image_path": str(args.image)}) + "\n")
        commands["allencv-lite predict (one image)"] = COMMAND_LINE + ["predict", str(args.archive), str(lines),
                                                                       "--silent"]
    times: Dict[str, List[float]] = {name: [] for name in commands}
    loads = [load_average()[0]]
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(wall_seconds(command))
        loads.append(load_average()[0])

    print(f"{args.runs} runs each, interleaved; 1-minute load average {min(loads):.1f} to {max(loads):.1f} "
          f"on {os.cpu_count()} cores")
    print()
    print("| command | median wall time (s) | min (s) | max (s) |")
    print("| --- | --- | --- | --- |")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")
    if args.archive:
        extra = statistics.median(times["allencv-lite predict (one image)"]) - statistics.median(times["import torch"])
        print(f"\npredict takes {extra:.2f} s more than importing torch (median against median)")


if __name__ == "__main__":
    main()
