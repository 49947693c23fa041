"""The trainer: files per epoch, checkpoints and --recover, gradients, callbacks."""
import csv
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from allencv_lite.training.from_config import train_model
from allencv_lite.common.checks import ConfigurationError
from allencv_lite.models.archival import load_archive
from allencv_lite.training.callbacks import TrainerCallback
from allencv_lite.training.progress_report import describe_kept_epoch
from allencv_lite.training.trainer import Trainer
from tests.helpers.digits_config import NUM_EPOCHS, tiny_digits_config
from tests.helpers.in_memory_training import LinearClassifier, Recorder, batches

REPO = Path(__file__).resolve().parents[2]


def read_csv(path: Path) -> list:
    with open(path, newline="") as table:
        return list(csv.DictReader(table))


@pytest.fixture(scope="module")
def uninterrupted_run(digits_dir, tmp_path_factory) -> Path:
    serialization_dir = tmp_path_factory.mktemp("uninterrupted")
    train_model(tiny_digits_config(digits_dir), serialization_dir, force=True)
    return serialization_dir


def test_each_epoch_writes_a_metrics_json_and_a_csv_row(uninterrupted_run, digits_dir):
    rows = read_csv(uninterrupted_run / "metrics.csv")
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    assert list(rows[0]) == ["epoch", "training_loss", "training_accuracy", "training_num_images",
                             "training_images_per_second", "validation_loss", "validation_accuracy",
                             "validation_num_images", "lr_group_0", "training_num_skipped_files",
                             "validation_num_skipped_files", "epoch_duration_seconds"]
    assert int(rows[0]["training_num_images"]) == len(list((digits_dir / "train").rglob("*.png")))
    assert int(rows[0]["validation_num_images"]) == len(list((digits_dir / "val").rglob("*.png")))
    assert float(rows[-1]["validation_accuracy"]) > 0.8
    epoch_1 = json.loads((uninterrupted_run / "metrics_epoch_1.json").read_text())
    assert epoch_1["validation_accuracy"] == pytest.approx(float(rows[1]["validation_accuracy"]))
    final = json.loads((uninterrupted_run / "metrics.json").read_text())
    assert final["best_validation_accuracy"] == max(float(row["validation_accuracy"]) for row in rows)


def test_only_the_newest_checkpoints_are_kept(uninterrupted_run):
    assert sorted(path.name for path in (uninterrupted_run / "checkpoints").iterdir()) == ["epoch_1.th", "epoch_2.th"]


def test_a_checkpoint_holds_everything_needed_to_resume(uninterrupted_run):
    state = torch.load(uninterrupted_run / "checkpoints" / "epoch_2.th", weights_only=True)
    assert set(state) == {"model", "optimizer", "learning_rate_scheduler", "grad_scaler", "tracker", "history",
                          "epoch", "random_states"}
    assert state["epoch"] == 2 and len(state["history"]) == 3
    assert set(state["random_states"]) == {"python", "numpy", "torch", "cuda"}
    assert state["learning_rate_scheduler"] == {"epoch": 2, "step_in_epoch": 12}  # 23 batches, 2 per step


KILL_MID_EPOCH = """
import json, os, signal, sys
from allencv_lite.training.from_config import train_model
from allencv_lite.training.callbacks import TrainerCallback

class KillMidEpoch(TrainerCallback):
    def on_batch_end(self, epoch, batch_index, learning_rates, metrics):
        if (epoch, batch_index) == (1, 10):
            os.kill(os.getpid(), signal.SIGKILL)

train_model(json.loads(sys.argv[1]), sys.argv[2], callbacks=[KillMidEpoch()])
"""


def test_recover_after_a_kill_mid_epoch_ends_like_an_uninterrupted_run(digits_dir, tmp_path, uninterrupted_run):
    config = tiny_digits_config(digits_dir)
    script = tmp_path / "kill_mid_epoch.py"
    script.write_text(KILL_MID_EPOCH)
    killed = subprocess.run([sys.executable, str(script), json.dumps(config), str(tmp_path / "run")],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert sorted(path.name for path in (tmp_path / "run" / "checkpoints").iterdir()) == ["epoch_0.th"]

    train_model(config, tmp_path / "run", recover=True)

    recovered = json.loads((tmp_path / "run" / "metrics.json").read_text())
    reference = json.loads((uninterrupted_run / "metrics.json").read_text())
    for key in ("training_loss", "training_accuracy", "validation_loss", "validation_accuracy", "lr_group_0",
                "best_epoch"):
        assert recovered[key] == pytest.approx(reference[key], rel=1e-6), key
    columns = ("epoch", "training_loss", "validation_loss", "validation_accuracy", "lr_group_0")
    recovered_rows = read_csv(tmp_path / "run" / "metrics.csv")
    reference_rows = read_csv(uninterrupted_run / "metrics.csv")
    assert len(recovered_rows) == len(reference_rows) == NUM_EPOCHS
    for recovered_row, reference_row in zip(recovered_rows, reference_rows):
        assert [float(recovered_row[c]) for c in columns] == pytest.approx([float(reference_row[c]) for c in columns],
                                                                           rel=1e-6)
    assert (tmp_path / "run" / "model.tar.gz").is_file()


class CtrlCAt(TrainerCallback):
    """Presses Ctrl-C after batch ``batch_index`` of ``epoch``."""

    def __init__(self, epoch: int, batch_index: int) -> None:
        self.at = (epoch, batch_index)

    def on_batch_end(self, epoch, batch_index, learning_rates, metrics):
        if (epoch, batch_index) == self.at:
            raise KeyboardInterrupt


def kept_epoch_lines(caplog) -> list:
    return [record.getMessage() for record in caplog.records if record.getMessage().startswith("kept epoch")]


def test_a_run_ends_naming_the_kept_epoch_also_when_interrupted_and_when_recovered(digits_dir, tmp_path, caplog,
                                                                                   uninterrupted_run):
    config = tiny_digits_config(digits_dir)
    caplog.set_level(logging.INFO, logger="allencv_lite")
    with pytest.raises(KeyboardInterrupt):
        train_model(config, tmp_path / "run", callbacks=[CtrlCAt(epoch=1, batch_index=5)])
    first = json.loads((tmp_path / "run" / "metrics_epoch_0.json").read_text())
    assert kept_epoch_lines(caplog) == [f"kept epoch 1 of 1: validation accuracy {first['validation_accuracy']:.3f} "
                                        f"loss {first['validation_loss']:.3f} (the last)"]
    caplog.clear()

    train_model(config, tmp_path / "run", recover=True)

    final = json.loads((tmp_path / "run" / "metrics.json").read_text())
    reference = json.loads((uninterrupted_run / "metrics.json").read_text())
    assert final["best_epoch"] == reference["best_epoch"]
    best = (f"validation accuracy {final['best_validation_accuracy']:.3f} loss {final['best_validation_loss']:.3f}")
    last = (" (the last)" if final["best_epoch"] == NUM_EPOCHS - 1 else
            f" (last epoch: accuracy {final['validation_accuracy']:.3f} loss {final['validation_loss']:.3f})")
    assert kept_epoch_lines(caplog) == [f"kept epoch {final['best_epoch'] + 1} of {NUM_EPOCHS}: {best}{last}"]


def files_as_they_are(serialization_dir: Path) -> dict:
    """Every file of a run with its modification time and contents."""
    return {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in serialization_dir.rglob("*")
            if path.is_file()}


def test_recover_of_a_run_out_of_patience_trains_nothing_and_rewrites_nothing(digits_dir, tmp_path, caplog):
    # a higher loss counts as better, so every epoch after the first fails to improve: patience 1 stops at epoch 2
    config = tiny_digits_config(digits_dir, num_epochs=10, patience=1, validation_metric="+loss")
    trained = train_model(config, tmp_path / "run")
    assert len(read_csv(tmp_path / "run" / "metrics.csv")) == 2
    before = files_as_they_are(tmp_path / "run")

    with caplog.at_level(logging.INFO, logger="allencv_lite"):
        recovered = train_model(config, tmp_path / "run", recover=True)

    assert [record.getMessage() for record in caplog.records] == [
        f"--recover: the run in {tmp_path / 'run'} is complete (it stopped early after epoch 2 of 10, 1 epoch without "
        f"improvement (trainer.patience)); nothing was trained and {tmp_path / 'run' / 'model.tar.gz'} was left as "
        "it was. To train longer, start a new run (another -s, or --force to replace this one).",
        describe_kept_epoch(json.loads((tmp_path / "run" / "metrics.json").read_text()), "loss")]
    assert caplog.records[-1].getMessage().startswith("kept epoch 1 of 2: validation loss ")
    assert files_as_they_are(tmp_path / "run") == before
    for name, weights in trained.state_dict().items():  # the archived model: the best epoch's weights
        assert torch.equal(recovered.state_dict()[name], weights), name


def test_recover_of_a_finished_run_killed_before_its_archive_writes_the_archive(digits_dir, tmp_path,
                                                                                 uninterrupted_run):
    for path in uninterrupted_run.rglob("*"):  # the run as a kill after its last checkpoint leaves it
        if path.is_file() and path.name != "model.tar.gz":
            destination = tmp_path / "run" / path.relative_to(uninterrupted_run)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(path.read_bytes())

    recovered = train_model(tiny_digits_config(digits_dir), tmp_path / "run", recover=True)

    archived = load_archive(tmp_path / "run" / "model.tar.gz").model.state_dict()
    best = torch.load(uninterrupted_run / "best.th", weights_only=True)
    for name, weights in best.items():
        if name != "temperature":  # best.th is written before the temperature is fitted
            assert torch.equal(archived[name], weights) and torch.equal(recovered.state_dict()[name], weights), name
    # the same weights and validation images as the uninterrupted run: the same temperature
    uninterrupted = load_archive(uninterrupted_run / "model.tar.gz").model.state_dict()
    assert torch.equal(archived["temperature"], uninterrupted["temperature"])


def test_recover_refuses_a_changed_config_naming_the_key(digits_dir, uninterrupted_run):
    changed = tiny_digits_config(digits_dir, num_epochs=NUM_EPOCHS + 1)
    with pytest.raises(ConfigurationError, match=re.escape("the config differs from") + ".*"
                       + re.escape("at ['trainer.num_epochs']")):
        train_model(changed, uninterrupted_run, recover=True)


def test_recover_without_a_run_to_resume_is_refused(digits_dir, tmp_path):
    with pytest.raises(ConfigurationError, match="holds no config.json, so there is no run to resume"):
        train_model(tiny_digits_config(digits_dir), tmp_path, recover=True)


def test_recover_and_force_together_are_refused(digits_dir, tmp_path):
    with pytest.raises(ConfigurationError, match="--force and --recover cannot both be set"):
        train_model(tiny_digits_config(digits_dir), tmp_path, force=True, recover=True)


# ----- the loop itself, on in-memory batches -----

def trained_weights(data: list, num_epochs: int = 1, optimizer: dict = None, **trainer) -> torch.Tensor:
    torch.manual_seed(0)
    model = LinearClassifier()
    Trainer.from_params({"optimizer": optimizer or {"type": "sgd", "lr": 0.1}, "num_epochs": num_epochs,
                         "cuda_device": -1, **trainer}, model=model, train_data_loader=data).train()
    return model._classification_layer.weight.detach().clone()


def test_gradient_accumulation_over_two_batches_equals_one_batch_twice_as_large():
    halves = batches(4, 8)
    wholes = [{key: torch.cat([first[key], second[key]]) for key in first}
              for first, second in zip(halves[::2], halves[1::2])]
    assert torch.allclose(trained_weights(halves, num_gradient_accumulation_steps=2), trained_weights(wholes),
                          atol=1e-6)
    assert not torch.allclose(trained_weights(halves), trained_weights(wholes), atol=1e-3)


def test_grad_clipping_bounds_every_gradient_value():
    torch.manual_seed(0)
    start = LinearClassifier()._classification_layer.weight.detach()
    moved = trained_weights(batches(1, 16, scale=100.0), optimizer={"type": "sgd", "lr": 1.0}, grad_clipping=0.01)
    assert (moved - start).abs().max().item() == pytest.approx(0.01, rel=1e-5)


def test_grad_norm_bounds_the_total_gradient_norm():
    torch.manual_seed(0)
    model = LinearClassifier()
    start = [parameter.detach().clone() for parameter in model.parameters()]
    Trainer.from_params({"optimizer": {"type": "sgd", "lr": 1.0}, "num_epochs": 1, "cuda_device": -1,
                         "grad_norm": 0.5}, model=model, train_data_loader=batches(1, 16, scale=100.0)).train()
    step = torch.cat([(after - before).flatten() for after, before in zip(model.parameters(), start)])
    assert step.norm().item() == pytest.approx(0.5, rel=1e-4)


def test_callbacks_are_called_in_order_with_what_each_hook_needs():
    recorder = Recorder(metrics_after=[(0, 1), (1, 0), (1, 1)])
    Trainer.from_params({"optimizer": {"lr": 0.1}, "num_epochs": 2, "cuda_device": -1, "validation_metric": "-loss",
                         "should_log_learning_rate": True, "callbacks": [recorder]}, model=LinearClassifier(),
                        train_data_loader=batches(2, 4)).train()
    per_epoch = lambda e, first_metrics: [
        f"epoch_start {e}", f"batch_start {e}.0 (4, 3, 2, 2)", f"batch_end {e}.0 [0.1] {first_metrics}",
        f"batch_start {e}.1 (4, 3, 2, 2)", f"batch_end {e}.1 [0.1] ['loss', 'lr_group_0']", f"epoch_end {e}"]
    assert recorder.events == (["train_start 2 epochs of 2 from 0"] + per_epoch(0, [])
                               + per_epoch(1, ['loss', 'lr_group_0']) + ["end"])


class CountingClassifier(LinearClassifier):
    """Counts the calls of ``get_metrics``, which the trainer makes with each copy of the
    running metrics from the device."""

    def __init__(self) -> None:
        super().__init__()
        self.metric_reads = 0

    def get_metrics(self, reset: bool = False) -> dict:
        self.metric_reads += 1
        return {}


def metric_reads_and_item_calls(monkeypatch, callbacks) -> tuple:
    """``get_metrics`` and ``Tensor.item`` calls in 2 epochs of 3 batches with ``callbacks``
    (the progress bar never refreshes)."""
    monkeypatch.setattr("allencv_lite.training.progress_report.PROGRESS_REFRESH_SECONDS", float("inf"))
    items = []
    item = torch.Tensor.item
    monkeypatch.setattr(torch.Tensor, "item", lambda tensor: (items.append(1), item(tensor))[1])
    model = CountingClassifier()
    Trainer.from_params({"optimizer": {"lr": 0.1}, "num_epochs": 2, "cuda_device": -1, "callbacks": callbacks},
                        model=model, train_data_loader=batches(3, 4)).train()
    monkeypatch.undo()
    return model.metric_reads, len(items)


def test_running_metrics_are_copied_from_the_device_only_for_callbacks_that_ask(monkeypatch):
    without_callbacks = metric_reads_and_item_calls(monkeypatch, [])
    assert without_callbacks[0] == 2  # once per epoch, at its end
    assert metric_reads_and_item_calls(monkeypatch, [Recorder()]) == without_callbacks
    reads, items = metric_reads_and_item_calls(monkeypatch, [Recorder(metrics_after=[(0, 2), (1, 0)])])
    assert (reads, items) == (without_callbacks[0] + 2, without_callbacks[1] + 2)


def test_patience_stops_training_after_epochs_without_improvement():
    recorder = Recorder()
    model = LinearClassifier()
    final = Trainer.from_params({"optimizer": {"type": "sgd", "lr": 0.0}, "num_epochs": 10, "cuda_device": -1,
                                 "patience": 2, "callbacks": [recorder]}, model=model,
                                train_data_loader=batches(1, 4)).train()
    assert final["best_epoch"] == 0 and final["epoch"] == 2  # epochs 1 and 2 did not improve on epoch 0


def test_cuda_device_may_be_a_list():
    trainer = Trainer.from_params({"cuda_device": [-1]}, model=LinearClassifier(), train_data_loader=batches(1, 4))
    assert trainer.device == torch.device("cpu")


def test_mixed_precision_on_the_cpu_warns_and_trains_in_float32(caplog):
    with caplog.at_level(logging.WARNING):
        trainer = Trainer.from_params({"cuda_device": -1, "use_amp": True}, model=LinearClassifier(),
                                      train_data_loader=batches(1, 4))
    assert "use_amp needs a CUDA device; training on cpu in float32." in caplog.text
    assert trainer.amp_dtype is None and not trainer.grad_scaler.is_enabled()


def test_a_validation_metric_the_model_does_not_report_is_refused_when_the_trainer_is_built():
    with pytest.raises(ConfigurationError, match=re.escape(
            "trainer.validation_metric: '+accuracy' names no metric the model reports; choose one of "
            "['images_per_second', 'loss', 'num_images'], after + (higher is better) or - (lower is better).")):
        Trainer.from_params({"cuda_device": -1, "validation_metric": "+accuracy"}, "trainer", model=LinearClassifier(),
                            train_data_loader=batches(1, 4))


def test_no_grad_freezes_the_parameters_it_names_for_the_whole_run():
    torch.manual_seed(0)
    model = LinearClassifier()
    bias = model._classification_layer.bias.detach().clone()
    weight = model._classification_layer.weight.detach().clone()
    Trainer.from_params({"optimizer": {"type": "sgd", "lr": 0.1}, "num_epochs": 2, "cuda_device": -1,
                         "no_grad": ["layer\\.bias$"]}, model=model, train_data_loader=batches(2, 8)).train()
    assert torch.equal(model._classification_layer.bias, bias)
    assert not torch.equal(model._classification_layer.weight, weight)


def test_a_no_grad_regex_that_matches_nothing_names_the_real_parameter_names():
    with pytest.raises(ConfigurationError, match=re.escape("trainer.no_grad[0]: '^encoder' matches no parameter; "
                                                           "names look like '_classification_layer.weight'.")):
        Trainer.from_params({"cuda_device": -1, "no_grad": ["^encoder"]}, "trainer", model=LinearClassifier(),
                            train_data_loader=batches(1, 4))


def test_a_channel_mismatch_fails_before_any_image_is_opened(digits_dir, tmp_path, monkeypatch):
    from PIL import Image

    opened = []
    monkeypatch.setattr(Image, "open", lambda path, *args, **options: opened.append(path))  # every decode opens here
    config = tiny_digits_config(digits_dir)
    config["model"] = {"type": "basic_image_classifier", "im2im_encoder": {"type": "feedforward", "hidden_channels": [4]},
                       "im2vec_encoder": {"type": "global_average", "input_channels": 8}}
    with pytest.raises(ConfigurationError, match=r"^model\.im2vec_encoder\.input_channels \(8\) must match the channels "
                                                 r"im2im_encoder \(FeedforwardEncoder\) outputs \(4\)"):
        train_model(config, tmp_path / "run")
    assert opened == []
    assert list((tmp_path / "run").iterdir()) == []
