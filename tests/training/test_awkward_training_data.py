"""Training on awkward data: the run finishes, and says what it left out and why."""
import csv
import json
import logging
from pathlib import Path

import pytest

from allencv_lite.training.from_config import train_model
from allencv_lite.common.checks import ConfigurationError
from tests.helpers.image_files import BLUE, RED, write_image, write_truncated_jpeg


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


TINY_CNN = {"im2im_encoder": {"type": "feedforward", "hidden_channels": [4]},
            "im2vec_encoder": {"type": "global_average", "input_channels": 4}}


def write_photos(root: Path, per_label: dict) -> Path:
    for label, count in per_label.items():
        for index in range(count):
            write_image(root / label / f"{index}.png", size=(40, 30), color=RED if label == "Cat" else BLUE)
    return root


def test_a_last_training_batch_of_one_image_with_batch_norm_is_left_out_with_a_warning(tmp_path, caplog):
    train = write_photos(tmp_path / "train", {"Cat": 3, "Dog": 2})  # 5 images in batches of 4: 4, then 1
    caplog.set_level(logging.WARNING, logger="allencv_lite")
    train_model(small_photo_config(train), tmp_path / "run")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["training_num_images"] == 4
    assert (tmp_path / "run" / "model.tar.gz").is_file()
    warnings = [r.getMessage() for r in caplog.records if "lone image" in r.getMessage()]
    assert warnings == ["Leaving out the last training batch of each epoch, a lone image: batch norm in training mode "
                        "needs at least 2 images per batch. 5 training images in batches of 4 leave 1 over; add or "
                        "remove an image, or change the batch size, to train on every image."]


def test_a_training_folder_with_one_label_is_refused_naming_it_before_the_model_is_built(tmp_path):
    train = write_photos(tmp_path / "train", {"Cat": 3})
    with pytest.raises(ConfigurationError, match=r"train_data_path: .*train has only one label, 'Cat' \(3 images\); "
                                                 r"classification needs at least two labels with images\."):
        train_model(small_photo_config(train, im2im_encoder={"type": "no_such_encoder"}), tmp_path / "run")


def test_empty_class_folders_are_named_when_no_label_has_images(tmp_path):
    train = tmp_path / "train"
    for label in ("Cat", "Dog"):
        (train / label).mkdir(parents=True)
    with pytest.raises(ConfigurationError) as error:
        train_model(small_photo_config(train), tmp_path / "run")
    assert str(error.value) == (f"train_data_path: {train} has no images in its class folders 'Cat', 'Dog'; "
                                "classification needs at least two labels with images. Put the images of each class "
                                "into a folder of its own (<root>/<label>/<image>), or point train_data_path at the "
                                "folder above.")


def test_an_empty_class_folder_beside_one_label_is_named(tmp_path):
    train = write_photos(tmp_path / "train", {"Cat": 3})
    (train / "Dog").mkdir()
    with pytest.raises(ConfigurationError, match=r"has only one label, 'Cat' \(3 images\), and no images in 'Dog'; "):
        train_model(small_photo_config(train), tmp_path / "run")


def test_an_image_smaller_than_a_crop_is_left_out_and_training_goes_on(center_crop_run):
    metrics = json.loads((center_crop_run / "metrics.json").read_text())
    assert metrics["training_num_images"] == 8  # of 9: Cat/small.png, 40x30 pixels, cannot give a 32x32 crop


def test_a_lazy_dataset_reports_files_found_broken_mid_epoch_in_the_epoch_summary_and_metrics(tmp_path, caplog):
    train = write_photos(tmp_path / "train", {"Cat": 3, "Dog": 3})
    truncated = write_truncated_jpeg(train / "Dog" / "cut.jpg")  # a good header: the scan keeps it
    config = small_photo_config(train, batch_size=4, **TINY_CNN)  # 7 images: batches of 4 and 3, one broken
    config["dataset_reader"]["lazy"] = True
    caplog.set_level(logging.INFO, logger="allencv_lite")
    train_model(config, tmp_path / "run")
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("Training images: 7, labels: {'Cat': 3, 'Dog': 4} (lazy:")
               for m in messages)
    epoch_summaries = [m for m in messages if m.startswith("epoch ")]
    assert len(epoch_summaries) == 2 and all(" · 1 file skipped · " in m for m in epoch_summaries)
    csv_named = f"Every skipped file, with its reason: {tmp_path / 'run' / 'skipped_files.csv'}"
    assert messages.count(csv_named) == 1 and messages.index(csv_named) > messages.index(epoch_summaries[-1])
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert (metrics["training_num_skipped_files"], metrics["training_num_images"]) == (1, 6)
    with open(tmp_path / "run" / "skipped_files.csv", newline="") as table:
        rows = list(csv.DictReader(table))
    assert [(row["dataset"], row["path"], row["reason"]) for row in rows] == [("training", str(truncated), "truncated")]


def test_the_log_names_a_few_skipped_files_per_reason_and_the_csv_lists_them_all(tmp_path, caplog):
    train = write_photos(tmp_path / "train", {"Cat": 2, "Dog": 2})
    for index in range(12):
        (train / "Cat" / f"empty_{index:02}.jpg").write_bytes(b"")
    caplog.set_level(logging.INFO, logger="allencv_lite")
    train_model(small_photo_config(train, **TINY_CNN), tmp_path / "run")
    messages = [record.getMessage() for record in caplog.records]
    assert [m for m in messages if m.startswith("Skipping ")] == [
        f"Skipping {train / 'Cat' / f'empty_{index:02}.jpg'}: empty file" for index in range(5)]
    assert f"Read 4 images from {train}; 12 files skipped: 12 empty file (5 named above, and 7 more)." in messages
    assert f"Every skipped file, with its reason: {tmp_path / 'run' / 'skipped_files.csv'}" in messages
    with open(tmp_path / "run" / "skipped_files.csv", newline="") as table:
        assert sorted(row["path"] for row in csv.DictReader(table)) == [
            str(train / "Cat" / f"empty_{index:02}.jpg") for index in range(12)]
