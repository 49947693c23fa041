"""DistributedDataParallel on the CPU (gloo): two processes train like one with the same global batch."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from allencv_lite.training.from_config import train_model
from tests.helpers.digits_config import tiny_digits_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def digits_640(digits_dir, tmp_path_factory) -> Path:
    """64 training images per digit: 10 batches of 64, so no process ever gets a padding image."""
    root = tmp_path_factory.mktemp("digits_640")
    for label_dir in sorted((digits_dir / "train").iterdir()):
        (root / "train" / label_dir.name).mkdir(parents=True)
        for image in sorted(label_dir.iterdir())[:64]:
            (root / "train" / label_dir.name / image.name).symlink_to(image)
    (root / "val").symlink_to(digits_dir / "val")
    return root


def deterministic_config(digits_dir: Path, **trainer) -> dict:
    """No dropout, no random augmentation, no shuffling, no partial batch: one and two
    processes differ only in how each batch of 64 is split (and the order of float sums)."""
    config = tiny_digits_config(digits_dir, **trainer)
    config["model"].pop("dropout")
    config["dataset_reader"]["augmentation"] = config["validation_dataset_reader"]["augmentation"]
    config["iterator"]["shuffle"] = False
    return config


@pytest.fixture(scope="module")
def one_process_run(digits_640, tmp_path_factory) -> Path:
    serialization_dir = tmp_path_factory.mktemp("one_process")
    train_model(deterministic_config(digits_640), serialization_dir)
    return serialization_dir


def assert_same_training(run: Path, reference: Path) -> None:
    metrics, expected = (json.loads((folder / "metrics.json").read_text()) for folder in (run, reference))
    for key in ("training_loss", "training_accuracy", "validation_loss", "validation_accuracy",
                "training_num_images"):
        assert metrics[key] == pytest.approx(expected[key], rel=1e-5), key
    weights, expected_weights = (torch.load(folder / "best.th", weights_only=True)["_classification_layer.weight"]
                                 for folder in (run, reference))
    assert torch.allclose(weights, expected_weights, rtol=0, atol=1e-5)


def test_two_gloo_processes_under_torchrun_train_like_one_process(digits_640, tmp_path, one_process_run):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(deterministic_config(digits_640)))
    launched = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                               "-m", "allencv_lite", "train", str(config_file), "-s", str(tmp_path / "run")],
                              capture_output=True, text=True, cwd=REPO, timeout=300,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert launched.stderr.count("Training on 2 processes (gloo): process 0 on cpu, process 1 on cpu.") == 1
    assert launched.stderr.count("progress_report: epoch 1/") == 1  # logged by process 0 only
    assert_same_training(tmp_path / "run", one_process_run)


def test_a_list_of_devices_starts_one_process_per_entry(digits_640, tmp_path, one_process_run):
    train_model(deterministic_config(digits_640, cuda_device=[-1, -1]), tmp_path / "run")
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == sorted(
        path.name for path in one_process_run.iterdir())
    assert_same_training(tmp_path / "run", one_process_run)


def test_uneven_data_is_padded_by_the_sampler_and_said_once(tmp_path, capfd):
    from tests.helpers.image_files import BLUE, RED, write_image

    for index in range(5):  # 5 images on 2 processes: the sampler repeats one so that each gets 3
        write_image(tmp_path / "train" / ("Cat" if index % 2 else "Dog") / f"{index}.png", color=RED if index % 2 else BLUE)
    config = {
        "dataset_reader": {"type": "image_classification_directory",
                           "augmentation": [{"type": "resize", "height": 8, "width": 8}]},
        "train_data_path": str(tmp_path / "train"),
        "model": {"type": "basic_image_classifier",
                  "im2vec_encoder": {"type": "flatten", "input_channels": 3, "input_height": 8, "input_width": 8}},
        "iterator": {"type": "basic", "batch_size": 2},
        "trainer": {"num_epochs": 2, "cuda_device": [-1, -1], "optimizer": {"type": "sgd", "lr": 0.1}},
    }
    train_model(config, tmp_path / "run")
    log = capfd.readouterr().err
    assert log.count("5 training images do not split evenly over 2 processes: each epoch the sampler repeats 1 of "
                     "them (the first of its order) so that every process gets 3, and an epoch trains on 6 images.") == 1
    assert log.count("Training images: 5") == 1
    assert log.count("progress_report: epoch 1/2 · ") == 1 and log.count("progress_report: epoch 2/2 · ") == 1
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["training_num_images"] == 6
