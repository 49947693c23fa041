"""``allencv-lite train`` and ``find-lr`` warn about each skipped file once per folder read, as ``evaluate`` does."""
import logging
from pathlib import Path

import pytest

from allencv_lite.commands import main
from tests.helpers.image_files import BLUE, RED, write_image

REPO = Path(__file__).resolve().parents[2]
DIGITS_CONFIG = str(REPO / "training_config" / "digits.jsonnet")
ONE_EPOCH = '{"trainer": {"num_epochs": 1}}'


def write_messy_folder(root: Path) -> Path:
    """12 PNGs (RGB, RGBA, L) in ``red/`` and ``blue/``, a ``readme.txt`` in ``red/`` and a PNG at the root."""
    for label, color in (("red", RED), ("blue", BLUE)):
        for index, mode in enumerate(["RGB", "RGBA", "L"] * 2):
            write_image(root / label / f"{index}.png", size=(16, 16), color=color if mode != "L" else 128, mode=mode)
    (root / "red" / "readme.txt").write_text("photos of red things\n")
    write_image(root / "stray.png", size=(16, 16))
    return root


def skip_messages(root: Path) -> list:
    return [f"Skipping {root / 'red' / 'readme.txt'}: unsupported file type (readable extensions: .jpg, .jpeg, "
            ".png, .bmp, .gif, .webp, .tif, .tiff)",
            f"Skipping {root / 'stray.png'}: outside a class folder (images go in <root>/<label>/)",
            f"Read 12 images from {root}; 2 files skipped: 1 unsupported file type, 1 outside a class folder."]



def run_on_digits_config(command: str, train: Path, validation: Path, monkeypatch, *options: str) -> int:
    """``TRAIN_PATH=train VALIDATION_PATH=validation allencv-lite COMMAND training_config/digits.jsonnet OPTIONS``."""
    monkeypatch.setenv("TRAIN_PATH", str(train))
    monkeypatch.setenv("VALIDATION_PATH", str(validation))
    return main([command, DIGITS_CONFIG, *options])

@pytest.fixture
def skip_log(caplog):
    """The messages logged so far that name skipped files: the warnings, each read's summary, the CSV's path."""
    caplog.set_level(logging.INFO, logger="allencv_lite")
    return lambda: [r.getMessage() for r in caplog.records
                    if r.getMessage().startswith(("Skipping ", "Read ", "Every skipped file"))]


def test_train_warns_once_per_skipped_file_and_names_the_csv_once(tmp_path, monkeypatch, skip_log):
    train, validation = write_messy_folder(tmp_path / "train"), write_messy_folder(tmp_path / "val")
    run = tmp_path / "run"
    assert run_on_digits_config("train", train, validation, monkeypatch, "-s", str(run), "-o", ONE_EPOCH) == 0
    assert skip_log() == [*skip_messages(train), *skip_messages(validation),
                          f"Every skipped file, with its reason: {run / 'skipped_files.csv'}"]


def test_the_same_folder_for_training_and_validation_is_warned_about_once_per_read(tmp_path, monkeypatch, skip_log):
    data = write_messy_folder(tmp_path / "data")
    assert run_on_digits_config("train", data, data, monkeypatch, "-s", str(tmp_path / "run"), "-o", ONE_EPOCH) == 0
    assert skip_log() == [*skip_messages(data), *skip_messages(data),
                          f"Every skipped file, with its reason: {tmp_path / 'run' / 'skipped_files.csv'}"]


def test_find_lr_warns_once_per_skipped_file(tmp_path, monkeypatch, skip_log):
    data = write_messy_folder(tmp_path / "data")
    # find-lr reads no validation data; 5 steps are too few for a suggestion (exit status 1), enough to read the data
    run_on_digits_config("find-lr", data, data, monkeypatch, "-s", str(tmp_path / "lr"), "--num-steps", "5")
    assert skip_log() == skip_messages(data)


def test_find_lr_counts_only_the_training_images_it_reads(tmp_path, monkeypatch, caplog):
    data = write_messy_folder(tmp_path / "data")
    caplog.set_level(logging.INFO, logger="allencv_lite")
    run_on_digits_config("find-lr", data, data, monkeypatch, "-s", str(tmp_path / "lr"), "--num-steps", "5")
    counts = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Training images:")]
    assert counts == ["Training images: 12, labels: {'blue': 6, 'red': 6}"]
