"""Training on awkward data: the run finishes, and says what it left out and why."""
import json
import logging
from pathlib import Path

import pytest

from allencv_lite.commands.train import train_model
from allencv_lite.common.checks import ConfigurationError
from tests.data.image_fixtures import BLUE, RED, write_image


def small_photo_config(train_path: Path, batch_size: int = 4, **model) -> dict:
    """32×32 images into a resnet18 (batch norm in every block, 1×1 feature maps at the end)."""
    return {
        "dataset_reader": {"type": "image_classification_directory",
                           "augmentation": [{"type": "resize", "height": 32, "width": 32}]},
        "train_data_path": str(train_path),
        "model": {"type": "basic_image_classifier",
                  "im2im_encoder": {"type": "resnet", "resnet_model": "resnet18", "pretrained": False},
                  "im2vec_encoder": {"type": "global_average", "input_channels": 512}, **model},
        "iterator": {"type": "basic", "batch_size": batch_size},
        "trainer": {"num_epochs": 2, "cuda_device": -1, "validation_metric": "-loss",
                    "optimizer": {"type": "sgd", "lr": 0.01}},
    }


def write_photos(root: Path, per_label: dict) -> Path:
    for label, count in per_label.items():
        for index in range(count):
            write_image(root / label / f"{index}.png", size=(40, 30), color=RED if label == "Cat" else BLUE)
    return root


def test_a_last_training_batch_of_one_image_with_batch_norm_is_skipped_with_a_warning(tmp_path, caplog):
    train = write_photos(tmp_path / "train", {"Cat": 3, "Dog": 2})  # 5 images in batches of 4: 4, then 1
    caplog.set_level(logging.WARNING, logger="allencv_lite")
    train_model(small_photo_config(train), tmp_path / "run")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["training_num_images"] == 4
    assert (tmp_path / "run" / "model.tar.gz").is_file()
    warnings = [r.getMessage() for r in caplog.records if "batch of 1 image" in r.getMessage()]
    assert warnings == ["Skipping a training batch of 1 image in epoch 1 (and any such batch later): batch norm in "
                        "training mode needs at least 2 images per batch. 5 training images in batches of 4 leave "
                        "1 over; add or remove an image, or change the batch size, to train on it."]


def test_a_training_folder_with_one_label_is_refused_naming_it_before_the_model_is_built(tmp_path):
    train = write_photos(tmp_path / "train", {"Cat": 3})
    with pytest.raises(ConfigurationError, match=r"train_data_path: .*train has only one label, 'Cat' \(3 images\); "
                                                 r"classification needs at least two\."):
        train_model(small_photo_config(train, im2im_encoder={"type": "no_such_encoder"}), tmp_path / "run")


def test_an_image_smaller_than_a_crop_is_left_out_and_training_goes_on(center_crop_run):
    metrics = json.loads((center_crop_run / "metrics.json").read_text())
    assert metrics["training_num_images"] == 8  # of 9: Cat/small.png, 40x30 pixels, cannot give a 32x32 crop
