"""``allencv-lite train`` as a user runs it, in its own process: Ctrl-C, unwritable folders, what it prints."""
import json
import os
import resource
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.training.test_trainer import tiny_digits_config


def start_command(*arguments: str, **popen) -> subprocess.Popen:
    """``python -m allencv_lite ARGUMENTS`` with stdout and stderr captured as text."""
    return subprocess.Popen([sys.executable, "-m", "allencv_lite", *arguments], text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=os.environ, **popen)


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode} before {path} appeared:\n{process.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{path} did not appear within {timeout} s")
        time.sleep(0.05)


@pytest.fixture
def config_file(digits_dir, tmp_path) -> Path:
    """The tiny digits experiment (logistic regression at 8×8 pixels) for 100 epochs, as a file."""
    path = tmp_path / "tiny digits.json"  # a space, so the printed command must quote it
    path.write_text(json.dumps(tiny_digits_config(digits_dir, num_epochs=100)))
    return path


def test_ctrl_c_names_the_last_epoch_its_checkpoint_and_the_command_that_resumes(config_file, tmp_path):
    run = tmp_path / "run"
    training = start_command("train", str(config_file), "-s", str(run), "-o", '{"trainer": {"patience": 100}}')
    wait_for(run / "checkpoints" / "epoch_1.th", training)
    training.send_signal(signal.SIGINT)
    _, err = training.communicate(timeout=120)
    assert training.returncode == 130
    assert "Traceback" not in err
    last_epoch = max(int(p.stem.split("_")[1]) for p in (run / "checkpoints").glob("epoch_*.th"))
    command = shlex.join(["allencv-lite", "train", str(config_file), "-s", str(run),
                          "-o", '{"trainer": {"patience": 100}}', "--recover"])
    assert err.splitlines()[-1] == (
        f"allencv-lite: interrupted: train stopped after epoch {last_epoch + 1} of 100, whose checkpoint is "
        f"{run / 'checkpoints' / f'epoch_{last_epoch}.th'} (file names count epochs from 0); resume with: {command}")

    resumed = start_command(*shlex.split(command)[1:])  # the printed command, run as printed
    wait_for(run / "checkpoints" / f"epoch_{last_epoch + 1}.th", resumed)
    resumed.send_signal(signal.SIGINT)
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 130
    assert f"Resuming from {run / 'checkpoints' / f'epoch_{last_epoch}.th'} (epoch {last_epoch + 1} done)." in err


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs Linux's read-only /sys")
def test_a_serialization_dir_that_cannot_be_created_is_named_in_one_line(config_file):
    training = start_command("train", str(config_file), "-s", "/sys/allencv_run")
    _, err = training.communicate(timeout=300)
    assert training.returncode == 2
    assert len(err.splitlines()) == 1
    assert err.startswith("allencv-lite: error: Cannot write /sys/allencv_run: ")
    assert err.endswith(". Free some space on its disk or choose a folder you can write to.\n")


def test_a_full_disk_while_checkpointing_is_named_in_one_line_and_leaves_no_partial_file(config_file, tmp_path):
    run = tmp_path / "run"

    def files_of_at_most_8_kib() -> None:  # the kernel refuses larger writes, as a full disk does
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    training = start_command("train", str(config_file), "-s", str(run), preexec_fn=files_of_at_most_8_kib)
    _, err = training.communicate(timeout=300)
    assert training.returncode == 2
    assert err.splitlines()[-1] == (f"allencv-lite: error: Cannot write {run / 'checkpoints' / 'epoch_0.th'}: File "
                                    "too large. Free some space on its disk or choose a folder you can write to.")
    assert "Traceback" not in err
    assert list((run / "checkpoints").iterdir()) == []
