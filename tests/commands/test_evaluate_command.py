"""``allencv-lite evaluate ARCHIVE DATA_PATH``: a printed table and a JSON file of metrics."""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from allencv_lite.commands import main
from allencv_lite.interpret.interpretation import ClassificationInterpretation, format_metrics_table
from allencv_lite.models.archival import load_archive
from allencv_lite.predictors import Predictor


def test_evaluate_prints_the_table_and_writes_the_metrics_json(digits_archive, digits_dir, tmp_path, capsys):
    output_file = tmp_path / "metrics.json"
    assert main(["evaluate", str(digits_archive), str(digits_dir / "val"), "--output-file", str(output_file)]) == 0
    written = json.loads(output_file.read_text())
    expected = ClassificationInterpretation.from_archive(load_archive(digits_archive), digits_dir / "val",
                                                         progress=False).metrics()
    assert written == expected
    assert format_metrics_table(written) in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # written atomically, nothing left over


def test_evaluate_on_a_label_the_model_does_not_know_exits_2(digits_archive, digits_dir, tmp_path, capsys):
    shutil.copytree(digits_dir / "val" / "0", tmp_path / "zero")
    assert main(["evaluate", str(digits_archive), str(tmp_path)]) == 2
    assert "'zero'" in capsys.readouterr().err


def test_evaluate_on_a_missing_folder_exits_2(digits_archive, tmp_path, capsys):
    assert main(["evaluate", str(digits_archive), str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_evaluate_into_a_missing_folder_exits_2(digits_archive, digits_dir, tmp_path, capsys):
    status = main(["evaluate", str(digits_archive), str(digits_dir / "val"),
                   "--output-file", str(tmp_path / "nowhere" / "metrics.json")])
    assert status == 2
    assert "Cannot write --output-file" in capsys.readouterr().err  # checked before the work, not after


def many_digits(digits_dir: Path, folder: Path, copies: int) -> Path:
    """``folder/<digit>/`` with ``copies`` symbolic links to one validation image of each digit."""
    for digit_dir in sorted((digits_dir / "val").iterdir()):
        image = sorted(digit_dir.iterdir())[0]
        (folder / digit_dir.name).mkdir(parents=True)
        for copy in range(copies):
            (folder / digit_dir.name / f"{copy}{image.suffix}").symlink_to(image)
    return folder


def start_with_a_terminal(args: List[str]) -> Tuple[subprocess.Popen, int]:
    """Start ``args`` with its standard error on a pseudo-terminal, as when a person runs it
    (so its progress bars are drawn: tqdm draws nothing on a terminal 0 columns wide, the size of a
    new pseudo-terminal); returns the process and the terminal's reading end."""
    import fcntl  # POSIX only, as are the three below
    import pty
    import struct
    import termios

    reading_end, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # 24 rows of 80 columns
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=terminal, text=True, env=os.environ)
    os.close(terminal)
    return process, reading_end


def read_terminal(reading_end: int, process: subprocess.Popen, until: Optional[str] = None,
                  timeout: float = 300) -> str:
    """What ``process`` drew on its terminal, up to the first match of the regular expression
    ``until`` (or until it closes the terminal, when ``until`` is None)."""
    drawn = ""
    deadline = time.monotonic() + timeout
    while until is None or not re.search(until, drawn):
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{until!r} was not drawn within {timeout} s:\n{drawn[-3000:]}")
        if not select.select([reading_end], [], [], 0.1)[0]:
            continue
        try:
            chunk = os.read(reading_end, 65536)
        except OSError:  # EIO: every writer closed the terminal
            chunk = b""
        if not chunk:
            if until is not None:
                pytest.fail(f"exited with {process.wait()} before drawing {until!r}:\n{drawn[-3000:]}")
            return drawn
        drawn += chunk.decode(errors="replace")
    return drawn


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_ctrl_c_says_that_nothing_was_written_and_exits_130(digits_archive, digits_dir, tmp_path):
    data = many_digits(digits_dir, tmp_path / "data", copies=1000)
    output_file = tmp_path / "metrics.json"
    evaluation, terminal = start_with_a_terminal([
        sys.executable, "-m", "allencv_lite", "evaluate", str(digits_archive), str(data), "--batch-size", "1",
        "--output-file", str(output_file)])
    # the bar of its 10,000 forward passes, once some are done (not while the bar is being built)
    drawn = read_terminal(terminal, evaluation, until=r"evaluating: .*\| [1-9]\d*/10000")
    evaluation.send_signal(signal.SIGINT)
    drawn += read_terminal(terminal, evaluation)
    os.close(terminal)
    assert evaluation.wait(timeout=60) == 130
    assert "Traceback" not in drawn
    lines = [line for line in re.split(r"[\r\n]", drawn) if line.strip()]  # a bar redraws itself after \r
    assert lines[-1] == (f"allencv-lite: interrupted: evaluate stopped before it had predicted every image "
                         f"of {data}; nothing was written (the metrics are printed and written only at the end).")
    assert not output_file.exists()


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs Linux's read-only /sys")
def test_an_output_file_that_cannot_be_written_is_named_in_one_line(digits_archive, digits_dir):
    evaluation = subprocess.run([sys.executable, "-m", "allencv_lite", "evaluate", str(digits_archive),
                                 str(digits_dir / "val"), "--output-file", "/sys/metrics.json"],
                                capture_output=True, text=True, env=os.environ, timeout=300)
    assert evaluation.returncode == 2
    assert "Traceback" not in evaluation.stderr
    last_line = evaluation.stderr.splitlines()[-1]
    assert last_line.startswith("allencv-lite: error: Cannot write /sys/metrics.json: ")
    assert last_line.endswith(". Free some space on its disk or choose a folder you can write to.")


def test_a_ctrl_c_while_the_interpreter_exits_leaves_the_commands_exit_status(tmp_path):
    # The user's Ctrl-C a second after evaluate printed its table, while Python shut down, gave 130.
    # Here it arrives at the same moment every time: when shutdown clears the module's objects.
    exit_with_a_ctrl_c = ("import os, signal, time\n"
                          "class CtrlCAtShutdown:\n"
                          "    def __del__(self):\n"
                          "        os.kill(os.getpid(), signal.SIGINT)\n"
                          "        time.sleep(0.2)\n"
                          "at_shutdown = CtrlCAtShutdown()\n"
                          "from allencv_lite.commands import run_command_line\n"
                          f"run_command_line(['evaluate', 'model.tar.gz', {str(tmp_path)!r}, '--batch-size', '0'])")
    finished = subprocess.run([sys.executable, "-c", exit_with_a_ctrl_c], capture_output=True, text=True, timeout=120)
    assert (finished.returncode, finished.stderr) == (2, "allencv-lite: error: --batch-size must be at least 1, got 0.\n")


def test_evaluate_with_tta_scores_what_the_tta_predictor_predicts(digits_archive, digits_dir, tmp_path):
    output_file = tmp_path / "metrics.json"
    assert main(["evaluate", str(digits_archive), str(digits_dir / "val"), "--tta", "flip", "--tta", "center_crop",
                 "--output-file", str(output_file)]) == 0
    predictor = Predictor.from_archive(load_archive(digits_archive), "default_image", tta=["flip", "center_crop"])
    photos = sorted(path for path in (digits_dir / "val").rglob("*.png"))
    predictions = predictor.predict_batch_json([{"image_path": str(path)} for path in photos])
    correct = sum(prediction["label"] == path.parent.name for prediction, path in zip(predictions, photos))
    assert json.loads(output_file.read_text())["accuracy"] == pytest.approx(correct / len(photos))
