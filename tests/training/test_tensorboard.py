"""Callbacks from the config: the tensorboard callback's event files, read back as TensorBoard reads them."""
import csv
import io
import re

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

from allencv_lite.training.from_config import train_model
from allencv_lite.common.checks import ConfigurationError
from allencv_lite.training.tensorboard import TensorBoardCallback
from allencv_lite.training.trainer import Trainer
from tests.helpers.digits_config import tiny_digits_config
from tests.helpers.in_memory_training import LinearClassifier, Recorder, batches

BATCHES_PER_EPOCH = 23  # the digits' training images in batches of 64


@pytest.fixture(scope="module")
def tensorboard_run(digits_dir, tmp_path_factory):
    """Two epochs on the digits with ``{"type": "tensorboard", "summary_interval": 5}`` from the
    config and a Python callback beside it; returns the serialization dir, TensorBoard's view of
    it (as ``tensorboard --logdir`` loads it) and the Python callback."""
    config = tiny_digits_config(digits_dir, num_epochs=2, callbacks=[{"type": "tensorboard", "summary_interval": 5}])
    serialization_dir = tmp_path_factory.mktemp("tensorboard_run")
    recorder = Recorder()
    train_model(config, serialization_dir, callbacks=[recorder])
    runs = EventMultiplexer().AddRunsFromDirectory(str(serialization_dir))
    runs.Reload()
    return serialization_dir, runs, recorder


def steps(runs, run, tag) -> list:
    return [event.step for event in runs.Scalars(run, tag)]


def test_tensorboard_logdir_serialization_dir_finds_a_train_and_a_validation_run(tensorboard_run):
    _, runs, _ = tensorboard_run
    assert sorted(runs.Runs()) == ["log/train", "log/validation"]
    assert sorted(runs.Runs()["log/train"]["scalars"]) == [
        "batch/accuracy", "batch/loss", "epoch/accuracy", "epoch/epoch_duration_seconds", "epoch/images_per_second",
        "epoch/loss", "epoch/lr_group_0", "epoch/num_images", "epoch/num_skipped_files", "learning_rate/group_0"]
    assert sorted(runs.Runs()["log/validation"]["scalars"]) == [
        "epoch/accuracy", "epoch/loss", "epoch/num_images", "epoch/num_skipped_files"]


def test_epoch_scalars_are_the_metrics_csv_at_steps_0_and_1(tensorboard_run):
    serialization_dir, runs, _ = tensorboard_run
    with open(serialization_dir / "metrics.csv", newline="") as table:
        rows = list(csv.DictReader(table))
    for run, prefix in (("log/train", "training_"), ("log/validation", "validation_")):
        for metric in ("loss", "accuracy"):
            events = runs.Scalars(run, f"epoch/{metric}")
            assert [event.step for event in events] == [0, 1]
            assert [event.value for event in events] == pytest.approx(
                [float(row[prefix + metric]) for row in rows], rel=1e-6)
    assert [event.value for event in runs.Scalars("log/train", "epoch/lr_group_0")] == pytest.approx(
        [float(row["lr_group_0"]) for row in rows], rel=1e-6)


def test_batch_scalars_every_summary_interval_batches_counted_over_the_run(tensorboard_run):
    _, runs, _ = tensorboard_run
    every_fifth = list(range(5, 2 * BATCHES_PER_EPOCH + 1, 5))  # 5, 10, ..., 45
    assert steps(runs, "log/train", "batch/loss") == every_fifth
    assert steps(runs, "log/train", "learning_rate/group_0") == every_fifth
    assert all(0 < event.value < 0.03 for event in runs.Scalars("log/train", "learning_rate/group_0"))


def test_the_first_batch_is_one_grid_of_16_images(tensorboard_run):
    _, runs, _ = tensorboard_run
    [grid] = runs.Images("log/train", "images/first_batch")
    assert grid.step == 1
    assert (grid.width, grid.height) == (8 * (8 + 2) + 2, 2 * (8 + 2) + 2)  # 8 per row, 2 pixels apart


def test_each_image_is_rescaled_from_its_own_range_whatever_the_normalization(tmp_path):
    callback = TensorBoardCallback(log_dir=tmp_path)
    callback.on_train_start(num_epochs=1, num_batches_per_epoch=1, first_epoch=0)
    ramp = torch.linspace(0, 1, 16).reshape(1, 1, 4, 4).expand(2, 3, 4, 4)
    images = torch.cat([ramp[:1] * 0.5 - 2.0, ramp[1:] * 100.0])  # all below 0, and far above 1
    callback.on_batch_start(0, 0, {"image": images, "label": torch.tensor([0, 1])})
    callback.on_end({})
    runs = EventMultiplexer().AddRunsFromDirectory(str(tmp_path))
    runs.Reload()
    [grid] = runs.Images("train", "images/first_batch")
    pixels = np.asarray(Image.open(io.BytesIO(grid.encoded_image_string)).convert("L")).astype(int)
    expected = np.rint(np.linspace(0, 255, 16)).reshape(4, 4)
    for left in (2, 8):  # each image 4 pixels wide, 2 pixels apart
        assert np.abs(pixels[2:6, left:left + 4] - expected).max() <= 1


def test_callbacks_given_in_python_run_beside_those_of_the_config(tensorboard_run):
    _, _, recorder = tensorboard_run
    assert recorder.events[0] == f"train_start 2 epochs of {BATCHES_PER_EPOCH} from 0"
    assert recorder.events[-1] == "end"


def test_an_unregistered_callback_name_is_a_config_error_with_its_key_path():
    with pytest.raises(ConfigurationError, match=re.escape(
            "trainer.callbacks[0].type: 'tensorbord' is not a registered TrainerCallback. Did you mean "
            "'tensorboard'? Registered choices: ")):  # tests may register more
        Trainer.from_params({"cuda_device": -1, "callbacks": [{"type": "tensorbord"}]}, "trainer",
                            model=LinearClassifier(), train_data_loader=batches(1, 4))


def test_without_a_serialization_dir_the_tensorboard_callback_needs_a_log_dir(tmp_path):
    with pytest.raises(ConfigurationError, match=re.escape("log_dir: the tensorboard callback needs a log_dir")):
        Trainer.from_params({"cuda_device": -1, "callbacks": [{"type": "tensorboard"}]}, "trainer",
                            model=LinearClassifier(), train_data_loader=batches(1, 4))
    trainer = Trainer.from_params({"cuda_device": -1, "num_epochs": 1, "callbacks": [
        {"type": "tensorboard", "log_dir": str(tmp_path / "board")}]}, "trainer", model=LinearClassifier(),
        train_data_loader=batches(1, 4))
    assert isinstance(trainer.callbacks[0], TensorBoardCallback)
    assert not (tmp_path / "board").exists()  # nothing is written before training starts
    trainer.train()
    assert sorted(path.name for path in (tmp_path / "board").iterdir()) == ["train", "validation"]
