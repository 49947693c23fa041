"""``allencv-lite train`` as a user runs it, in its own process: Ctrl-C, unwritable folders, what it prints."""
import csv
import json
import os
import re
import resource
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from allencv_lite.common.text import format_learning_rate
from tests.helpers.digits_config import tiny_digits_config


def start_command(*arguments: str, **popen) -> subprocess.Popen:
    """``python -m allencv_lite ARGUMENTS`` with stdout and stderr captured as text (in this
    process's environment unless ``env`` is given)."""
    return subprocess.Popen([sys.executable, "-m", "allencv_lite", *arguments], text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **{"env": os.environ, **popen})


def start_in_a_shell(command_line: str, env: dict) -> subprocess.Popen:
    """Run ``command_line`` as a user pastes it into bash, ``allencv-lite`` being this Python's
    ``-m allencv_lite``, in a session of its own (so that Ctrl-C reaches the whole group)."""
    define_the_command = f'allencv-lite() {{ {shlex.quote(sys.executable)} -m allencv_lite "$@"; }}'
    return subprocess.Popen(["bash", "-c", f"{define_the_command}\n{command_line}"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)


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


def test_ctrl_c_names_the_last_epoch_its_checkpoint_and_the_command_that_resumes(digits_dir, tmp_path):
    """The printed command sets the external variables the Jsonnet config read, and only
    those, so that it runs as printed in a shell that lacks them."""
    data = tmp_path / "my digits"  # a space, so the printed variables must be quoted
    data.symlink_to(digits_dir)
    variables = {"TRAIN_PATH": str(data / "train"), "VALIDATION_PATH": str(data / "val")}
    config_file = tmp_path / "tiny digits.jsonnet"  # a space, so the printed command must quote it
    config_file.write_text(f"{json.dumps(tiny_digits_config(digits_dir, num_epochs=100))} + "
                           '{"train_data_path": std.extVar("TRAIN_PATH"), '
                           '"validation_data_path": std.extVar("VALIDATION_PATH")}')
    run = tmp_path / "run"
    training = start_command("train", str(config_file), "-s", str(run), "-o", '{"trainer": {"patience": 100}}',
                             env={**os.environ, **variables, "UNREAD_BY_THE_CONFIG": "1"})
    wait_for(run / "checkpoints" / "epoch_1.th", training)
    training.send_signal(signal.SIGINT)
    _, err = training.communicate(timeout=120)
    assert training.returncode == 130
    assert "Traceback" not in err
    last_epoch = max(int(p.stem.split("_")[1]) for p in (run / "checkpoints").glob("epoch_*.th"))
    command = (f"TRAIN_PATH={shlex.quote(variables['TRAIN_PATH'])} "
               f"VALIDATION_PATH={shlex.quote(variables['VALIDATION_PATH'])} "
               + shlex.join(["allencv-lite", "train", str(config_file), "-s", str(run),
                             "-o", '{"trainer": {"patience": 100}}', "--recover"]))
    assert err.splitlines()[-1] == (
        f"allencv-lite: interrupted: train stopped after epoch {last_epoch + 1} of 100, whose checkpoint is "
        f"{run / 'checkpoints' / f'epoch_{last_epoch}.th'} (file names count epochs from 0); resume with: {command}")

    shell_without_the_variables = {name: value for name, value in os.environ.items() if name not in variables}
    resumed = start_in_a_shell(command, shell_without_the_variables)  # the printed command, run as printed
    wait_for(run / "checkpoints" / f"epoch_{last_epoch + 1}.th", resumed)
    os.killpg(resumed.pid, signal.SIGINT)
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 130, err[-3000:]
    assert f"Resuming from {run / 'checkpoints' / f'epoch_{last_epoch}.th'} (epoch {last_epoch + 1} done)." in err


def test_a_ctrl_c_before_the_trainer_was_imported_is_described_without_importing_torch(config_file, tmp_path):
    # A Ctrl-C during torch's own import leaves it half-imported; importing it again crashed the process
    # (a segmentation fault, or "partially initialized module 'torch'"). Here torch cannot be imported at all.
    describe = ("import sys; sys.modules['torch'] = None\n"
                "from allencv_lite.commands import build_parser\n"
                "from allencv_lite.commands.train import describe_interrupted_run\n"
                f"args = build_parser().parse_args(['train', {str(config_file)!r}, '-s', {str(tmp_path / 'run')!r}])\n"
                "print(describe_interrupted_run(args, {}))")
    described = subprocess.run([sys.executable, "-c", describe], capture_output=True, text=True, timeout=120)
    assert described.stderr == ""
    assert described.stdout.startswith("train stopped before training began, so there is nothing to resume")


def test_recover_of_a_finished_run_says_so_and_names_the_kept_epoch_exits_0_and_leaves_every_file_as_it_was(
        digits_dir, tmp_path):
    config_file = tmp_path / "two epochs.json"
    config_file.write_text(json.dumps(tiny_digits_config(digits_dir, num_epochs=2)))
    run = tmp_path / "run"
    training = start_command("train", str(config_file), "-s", str(run))
    _, err = training.communicate(timeout=300)
    assert training.returncode == 0, err[-3000:]
    before = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in run.rglob("*") if path.is_file()}

    recovering = start_command("train", str(config_file), "-s", str(run), "--recover")
    _, err = recovering.communicate(timeout=300)
    assert recovering.returncode == 0
    complete, kept = err.splitlines()
    assert complete.endswith(f" INFO allencv_lite.training.from_config: --recover: the run in {run} is complete (all 2 "
                             f"epochs are done); nothing was trained and {run / 'model.tar.gz'} was left as it was. To "
                             "train longer, start a new run (another -s, or --force to replace this one).")
    assert " INFO allencv_lite.training.from_config: kept epoch " in kept and kept.split("kept epoch ")[1].startswith(
        ("1 of 2: validation accuracy ", "2 of 2: validation accuracy "))
    assert {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in run.rglob("*") if path.is_file()} == before


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


def read_metrics_csv(path: Path) -> list:
    with open(path, newline="") as table:
        return list(csv.DictReader(table))


def test_train_prints_true_learning_rates_epochs_from_1_and_a_time_estimate(digits_dir, tmp_path):
    """Two groups, discriminative fine-tuning and gradual unfreezing over 3 epochs of 23 batches."""
    config = tiny_digits_config(digits_dir, num_epochs=3, num_gradient_accumulation_steps=1)
    config["model"] = {"type": "basic_image_classifier",
                       "im2im_encoder": {"type": "feedforward", "hidden_channels": [4]},
                       "im2vec_encoder": {"type": "flatten", "input_channels": 4, "input_height": 1, "input_width": 1}}
    config["trainer"]["optimizer"]["parameter_groups"] = [[["^_im2im_encoder\\."]], [["^_classification_layer\\."]]]
    config["trainer"]["learning_rate_scheduler"] = {"type": "slanted_triangular", "gradual_unfreezing": True,
                                                    "discriminative_fine_tuning": True, "decay_factor": 0.38,
                                                    "ratio": 32}
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    training = subprocess.run([sys.executable, "-m", "allencv_lite", "train", str(config_file), "-s",
                               str(tmp_path / "run")], capture_output=True, text=True, env=os.environ, timeout=600)
    assert training.returncode == 0, training.stderr[-3000:]
    log = training.stderr

    peak = 0.02  # the optimizer's lr is the top group's peak; the group below gets 0.38 times it
    # A triangle starts at 1/ratio of its peak.
    first_step = [format_learning_rate(peak * 0.38 / 32), format_learning_rate(peak / 32)]
    assert f"Parameter group 0 ['^_im2im_encoder\\\\.']: 3 parameter tensors, 116 weights, lr {first_step[0]}" in log
    assert f"Parameter group 1 ['^_classification_layer\\\\.']: 2 parameter tensors, 50 weights, lr {first_step[1]}" \
        in log

    assert re.findall(r"Gradual unfreezing: epoch (\d) trains groups (\[.*?\])", log) == [
        ("1", "[1]"), ("2", "[0, 1]")]  # once per change: epoch 3 trains the same groups as epoch 2
    epoch_lines = re.findall(r"INFO allencv_lite.training.progress_report: (epoch (\d)/3 · .*)", log)
    assert [number for _, number in epoch_lines] == ["1", "2", "3"]
    rows = read_metrics_csv(tmp_path / "run" / "metrics.csv")
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]  # metrics keep AllenNLP's 0-based epochs
    for (line, _), row in zip(epoch_lines, rows):
        assert (f"training loss {float(row['training_loss']):.3f} accuracy {float(row['training_accuracy']):.3f} · "
                f"validation loss {float(row['validation_loss']):.3f} accuracy "
                f"{float(row['validation_accuracy']):.3f} · ") in line
        assert len(line) <= 100  # fits a 100-column terminal (the log's time and name come before it)
    assert float(rows[0]["lr_group_0"]) < float(rows[0]["lr_group_1"])  # the learning rates are in metrics.csv

    # Gradual unfreezing: epoch 1 trains 50 of 166 weights, epochs 2 and 3 all of them, so they cost
    # 1 + 2 * 50/166 and 3 forward passes per batch; the estimate is made again when the cost changes.
    estimates = re.findall(r"Time estimate from batches 2-6 of epoch (\d): about ([\d.]+) s for this epoch's training "
                           r"\(23 batches\), ([\d.]+) s for the (\d) epochs? left( \(later ones train more layers\))?, "
                           r"validation not included; a busy machine takes longer\.", log)
    assert [(epoch, left, later) for epoch, _, _, left, later in estimates] == [
        ("1", "3", " (later ones train more layers)"), ("2", "2", "")], log[-3000:]
    epoch_estimate, run_estimate = float(estimates[0][1]), float(estimates[0][2])
    first_cost = 1 + 2 * 50 / 166
    assert run_estimate == pytest.approx(epoch_estimate * (first_cost + 3 + 3) / first_cost, abs=0.3)
    measured = float(rows[0]["training_num_images"]) / float(rows[0]["training_images_per_second"])
    assert measured / 10 < epoch_estimate < measured * 10  # an estimate, on whatever else the CPU is doing


def test_overrides_that_turn_a_block_into_a_number_are_one_line(config_file, tmp_path):
    training = subprocess.run([sys.executable, "-m", "allencv_lite", "train", str(config_file), "-s",
                               str(tmp_path / "run"), "-o", "{trainer: 1}"],  # Jsonnet, so valid: trainer becomes 1
                              capture_output=True, text=True, env=os.environ, timeout=300)
    assert training.returncode == 2
    assert training.stderr.splitlines() == ['allencv-lite: error: trainer: expected an object such as {"type": ...}, '
                                            "got 1; check the config and any -o overrides."]


def test_a_config_error_found_after_the_scan_leaves_the_folder_empty_so_the_fixed_command_runs(config_file, tmp_path):
    run = tmp_path / "run"
    typo = start_command("train", str(config_file), "-s", str(run), "-o", '{"trainer": {"num_epoch": 1}}')
    _, err = typo.communicate(timeout=300)
    assert typo.returncode == 2 and "num_epoch" in err
    assert list(run.iterdir()) == []  # nothing in the way of the corrected command
    fixed = start_command("train", str(config_file), "-s", str(run), "-o", '{"trainer": {"num_epochs": 1}}')
    _, err = fixed.communicate(timeout=300)
    assert fixed.returncode == 0, err[-2000:]
    assert (run / "model.tar.gz").is_file() and (run / "skipped_files.csv").is_file()


@pytest.mark.parametrize("command", ["train", "find-lr"])
def test_overrides_given_twice_are_refused_rather_than_the_first_dropped(command, config_file, tmp_path, capsys):
    from allencv_lite.commands import main

    with pytest.raises(SystemExit) as exited:
        main([command, str(config_file), "-s", str(tmp_path / "run"), "-o", '{"trainer": {"optimizer": {"lr": "x"}}}',
              "-o", '{"trainer": {"num_epochs": 1}}'])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"allencv-lite {command}: error: -o is given more than once, and only one JSON object is read; put all the "
        "overrides in one, e.g. -o '{\"trainer\": {\"num_epochs\": 1, \"patience\": 3}}'")
    assert not (tmp_path / "run").exists()
