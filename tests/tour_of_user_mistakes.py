"""A scripted tour of the mistakes a newcomer makes, each run as a user runs it.

    python tests/tour_of_user_mistakes.py WORK_DIR

runs ``python -m allencv_lite ...`` for every step below in ``WORK_DIR`` (made fresh), writes
what each printed (stdout and stderr, after a ``$ command`` line) to ``WORK_DIR/tour.log``,
and exits 1 if any step's exit status is not the expected one. Nothing it prints may be a
traceback (``tests/test_tour_of_user_mistakes.py`` checks both).
"""
import json
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from data_scripts.make_digits_dataset import write_digits  # noqa: E402


def tiny_config(data: Path, num_epochs: int) -> dict:
    """Logistic regression on the digits at 8×8 pixels: seconds per epoch."""
    steps = [{"type": "resize", "height": 8, "width": 8}, {"type": "normalize", "mean": [0.5] * 3, "std": [0.5] * 3}]
    return {"dataset_reader": {"type": "image_classification_directory", "augmentation": steps},
            "train_data_path": str(data / "train"), "validation_data_path": str(data / "val"),
            "model": {"type": "basic_image_classifier",
                      "im2vec_encoder": {"type": "flatten", "input_channels": 3, "input_height": 8, "input_width": 8}},
            "iterator": {"type": "basic", "batch_size": 64},
            "trainer": {"num_epochs": num_epochs, "cuda_device": -1, "optimizer": {"type": "adam", "lr": 0.01}}}


class Tour:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.log = open(work / "tour.log", "w", encoding="utf-8")
        self.failures: List[str] = []

    def record(self, arguments: List[str], status: int, expected: int, output: str) -> None:
        self.log.write(f"$ allencv-lite {shlex.join(arguments)}\n{output}[exit status {status}]\n\n")
        self.log.flush()
        if status != expected:
            self.failures.append(f"allencv-lite {shlex.join(arguments)}: exit status {status}, expected {expected}")

    def start(self, arguments: List[str], **popen) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "allencv_lite", *arguments], cwd=self.work, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen)

    def run(self, arguments: List[str], expected: int, stdin: Optional[str] = None) -> str:
        process = self.start(arguments, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        output, _ = process.communicate(stdin, timeout=600)
        self.record(arguments, process.returncode, expected, output)
        return output

    def interrupt_when(self, arguments: List[str], ready: Path, stdin: Optional[str] = None) -> None:
        """Start a command, press Ctrl-C once ``ready`` exists (or, for ``-`` input, once it
        has answered its first line), expect exit status 130."""
        process = self.start(arguments, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        if stdin is not None:
            process.stdin.write(stdin)
            process.stdin.flush()
        deadline = time.monotonic() + 600
        while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
        self.record(arguments, process.returncode, 130, output)


def main(work: Path) -> int:
    work.mkdir(parents=True, exist_ok=True)
    data = work / "digits"
    write_digits(data)
    (work / "tiny.json").write_text(json.dumps(tiny_config(data, num_epochs=1)))
    (work / "long.json").write_text(json.dumps(tiny_config(data, num_epochs=200)))
    digit = str(sorted((data / "val" / "3").iterdir())[0])
    (work / "digit").write_bytes(Path(digit).read_bytes())  # an image without an extension
    (work / "empty.png").write_bytes(b"")
    (work / "notes.jpg").write_text("not a photo")
    tour = Tour(work)

    tour.run(["train", "tiny.json", "-s", "run"], 0)
    archive = "run/model.tar.gz"
    # train
    tour.run(["train", "tiny.json", "-s", "run"], 2)                         # not empty, no --force/--recover
    tour.run(["train", "nowhere.jsonnet", "-s", "run2"], 2)                  # no such config
    tour.run(["train", "tiny.json", "-s", "run2", "-o", "{trainer: 1}"], 2)  # overrides that are not JSON
    tour.run(["train", "tiny.json", "-s", "run2", "-o", '{"model": {"type": "basic_image_clasifier"}}'], 2)
    tour.run(["train", "tiny.json", "-s", "run3", "--recover"], 2)           # nothing to resume
    tour.run(["train", "tiny.json", "-s", "/sys/allencv_run"], 2)            # cannot be created
    tour.interrupt_when(["train", "long.json", "-s", "long"], work / "long" / "checkpoints" / "epoch_0.th")
    # predict
    tour.run(["predict", archive, digit], 0)                                 # an image, not JSON lines: fine
    tour.run(["predict", archive, "digit"], 2)                               # an image without an extension
    tour.run(["predict", archive, "empty.png", "notes.jpg"], 1)              # empty file, not an image
    tour.run(["predict", archive, "missing.jsonl"], 2)
    tour.run(["predict", archive, "-"], 1, stdin='{"image_path": "missing.png"}\n[1]\n{"image_path": \n')
    tour.run(["predict", archive, digit, "--output-file", "/dev/full"], 2)   # a full disk
    tour.run(["predict", "missing.tar.gz", digit], 2)
    tour.run(["predict", archive, digit, "--predictor", "default_imag"], 2)
    tour.interrupt_when(["predict", archive, "-", "--output-file", "out.jsonl"], work / "out.jsonl",
                        stdin=json.dumps({"image_path": digit}) + "\n")
    # evaluate
    tour.run(["evaluate", archive, "nowhere"], 2)
    tour.run(["evaluate", archive, str(data / "val"), "--output-file", "nowhere/metrics.json"], 2)
    tour.run(["evaluate", archive, str(data / "val"), "--output-file", "/sys/metrics.json"], 2)
    # serve, and the command line itself
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        tour.run(["serve", "--archive-path", archive, "--port", str(taken.getsockname()[1])], 2)
    tour.run(["serve", "--archive-path", archive, "--max-upload-mb", "0"], 2)
    tour.run(["trian", "tiny.json"], 2)
    tour.run(["predict", archive], 2)
    tour.log.close()
    for failure in tour.failures:
        print(failure, file=sys.stderr)
    return 1 if tour.failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
