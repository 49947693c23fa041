"""image_classification_directory on messy real-world folders: one behaviour per test."""
import logging
import os
import re

import numpy as np
import pytest
import torch
from PIL import Image

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.training.from_config import train_model
from allencv_lite.data.dataset import SkippedSample
from allencv_lite.data.dataset_readers import ImageClassificationDirectoryReader
from allencv_lite.data.vocabulary import Vocabulary
from tests.helpers.image_files import BLUE, RED, write_image, write_truncated_jpeg


def read(root, lazy=False):
    return ImageClassificationDirectoryReader(lazy=lazy).read(root)


def sample_names(dataset):
    return sorted(os.path.relpath(path, dataset.source) for path, _ in dataset.samples)


@pytest.mark.parametrize("lazy", [False, True])
def test_zero_byte_file_is_skipped_with_a_warning_naming_it(image_folder, skip_warnings, lazy):
    root = image_folder({"Cat/good.jpg": RED})
    (root / "Cat" / "666.jpg").write_bytes(b"")
    dataset = read(root, lazy)
    assert sample_names(dataset) == ["Cat/good.jpg"]
    assert skip_warnings() == [f"Skipping {root / 'Cat' / '666.jpg'}: empty file"]
    assert dataset.skipped == {"empty file": 1}


def test_truncated_jpeg_is_skipped_when_read_eagerly(image_folder, skip_warnings):
    root = image_folder({"Cat/good.jpg": RED})
    write_truncated_jpeg(root / "Cat" / "cut.jpg")
    dataset = read(root)
    assert sample_names(dataset) == ["Cat/good.jpg"]
    assert dataset.skipped == {"truncated": 1}
    assert skip_warnings()[0].startswith(f"Skipping {root / 'Cat' / 'cut.jpg'}: truncated (OSError: image file is")


def test_truncated_jpeg_in_a_lazy_dataset_is_skipped_when_decoded_not_crashing(image_folder):
    root = image_folder({"Cat/good.jpg": RED})
    cut = write_truncated_jpeg(root / "Cat" / "cut.jpg")
    dataset = read(root, lazy=True)  # the header is fine, so the scan keeps it
    dataset.index_with(Vocabulary.from_labels(dataset.labels))
    assert sample_names(dataset) == ["Cat/cut.jpg", "Cat/good.jpg"]
    skipped = dataset[0]
    assert isinstance(skipped, SkippedSample) and (skipped.path, skipped.reason) == (str(cut), "truncated")
    assert dataset[1]["image"].shape == (3, 8, 12)
    assert dataset.skipped == {"truncated": 1}


def test_non_image_file_with_an_image_extension_is_skipped(image_folder, skip_warnings):
    root = image_folder({"Dog/good.png": BLUE})
    (root / "Dog" / "fake.jpg").write_text("<html>404 Not Found</html>")
    dataset = read(root, lazy=True)
    assert sample_names(dataset) == ["Dog/good.png"]
    assert skip_warnings() == [f"Skipping {root / 'Dog' / 'fake.jpg'}: not an image "
                               "(Pillow recognises no image format in it)"]


def test_files_of_other_types_are_skipped_with_the_readable_extensions(image_folder, skip_warnings):
    root = image_folder({"Dog/good.png": BLUE})
    (root / "Dog" / "IMG_0001.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic")
    dataset = read(root)
    assert dataset.skipped == {"unsupported file type": 1}
    assert "readable extensions: .jpg, .jpeg, .png" in skip_warnings()[0]


def test_system_files_are_ignored_silently(image_folder, skip_warnings):
    root = image_folder({"Cat/1.jpg": RED})
    for name in ("Thumbs.db", ".DS_Store", "desktop.ini", "._1.jpg"):
        (root / "Cat" / name).write_bytes(b"\x00junk")
    (root / "Thumbs.db").write_bytes(b"\x00junk")
    dataset = read(root)
    assert sample_names(dataset) == ["Cat/1.jpg"]
    assert skip_warnings() == [] and dataset.skipped == {}


def test_hidden_folders_such_as_ipynb_checkpoints_are_never_classes(image_folder):
    root = image_folder({"Cat/1.jpg": RED, ".ipynb_checkpoints/1-checkpoint.jpg": RED,
                         "Cat/.ipynb_checkpoints/1-checkpoint.jpg": RED, ".trash/Dog/2.jpg": BLUE})
    dataset = read(root)
    assert sample_names(dataset) == ["Cat/1.jpg"]
    assert dataset.labels == ["Cat"]


def test_a_macosx_folder_from_a_zip_is_skipped_silently_like_hidden_folders(image_folder, caplog):
    root = image_folder({"Cat/1.jpg": RED, "Dog/2.jpg": BLUE})
    for resource_fork in ("__MACOSX/Cat/._1.jpg", "__MACOSX/._Cat"):
        (root / resource_fork).parent.mkdir(parents=True, exist_ok=True)
        (root / resource_fork).write_bytes(b"\x00\x05\x16\x07")
    caplog.set_level(logging.WARNING, logger="allencv_lite")
    dataset = read(root)
    assert sorted(set(dataset.labels)) == ["Cat", "Dog"]
    assert caplog.records == [] and dataset.skipped == {}


def test_every_image_extension_is_read_in_any_letter_case(tmp_path):
    names = ["a.JPG", "b.jpeg", "c.Jpg", "d.png", "e.bmp", "f.gif", "g.webp", "h.tiff"]
    for name in names:
        write_image(tmp_path / "Cat" / name, color=RED)
    dataset = read(tmp_path)
    assert sample_names(dataset) == [f"Cat/{name}" for name in names]
    assert dataset.skipped == {}


def test_every_colour_mode_becomes_a_three_channel_float_tensor(tmp_path):
    write_image(tmp_path / "x" / "cmyk.jpg", mode="CMYK", color=(0, 0, 0, 0))
    write_image(tmp_path / "x" / "gray.png", mode="L", color=255)
    write_image(tmp_path / "x" / "rgba.png", mode="RGBA", color=(255, 255, 255, 0))
    write_image(tmp_path / "x" / "palette.gif", mode="P", color=0, transparency=0)
    Image.fromarray(np.full((8, 12), 65535, dtype=np.uint16)).save(tmp_path / "x" / "deep.png")
    dataset = read(tmp_path)
    dataset.index_with(Vocabulary.from_labels(dataset.labels))
    white = (1.0 - 0.485) / 0.229  # red channel of a white pixel after ImageNet normalization
    for index in range(len(dataset)):
        image = dataset[index]["image"]
        assert image.shape == (3, 8, 12) and image.dtype == torch.float32
        assert image[0, 0, 0].item() == pytest.approx(white, abs=0.02), dataset.samples[index][0]


def test_exif_rotated_photo_is_read_upright(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 8
    write_image(tmp_path / "Cat" / "phone.jpg", size=(30, 10), exif=exif)
    dataset = read(tmp_path)
    dataset.index_with(Vocabulary.from_labels(dataset.labels))
    assert dataset[0]["image"].shape == (3, 30, 10)


def test_one_pixel_image_is_a_sample(tmp_path):
    write_image(tmp_path / "Dot" / "tiny.png", size=(1, 1))
    dataset = read(tmp_path)
    dataset.index_with(Vocabulary.from_labels(dataset.labels))
    assert dataset[0]["image"].shape == (3, 1, 1)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_image_above_the_decompression_bomb_limit_is_skipped_at_the_scan(image_folder, skip_warnings, monkeypatch):
    root = image_folder({"Cat/small.png": RED})
    write_image(root / "Cat" / "huge.png", size=(300, 300))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50_000)
    dataset = read(root, lazy=True)
    assert sample_names(dataset) == ["Cat/small.png"]
    assert dataset.skipped == {"too large": 1}
    assert skip_warnings()[0].startswith(f"Skipping {root / 'Cat' / 'huge.png'}: too large (90,000 pixels > "
                                         "PIL.Image.MAX_IMAGE_PIXELS = 50,000")


def test_symbolic_links_to_files_and_folders_are_followed_and_broken_ones_skipped(tmp_path, skip_warnings):
    elsewhere = tmp_path / "elsewhere"
    write_image(elsewhere / "cat.jpg", color=RED)
    write_image(elsewhere / "dogs" / "dog.jpg", color=BLUE)
    root = tmp_path / "data"
    (root / "Cat").mkdir(parents=True)
    (root / "Cat" / "linked.jpg").symlink_to(elsewhere / "cat.jpg")
    (root / "Cat" / "dangling.jpg").symlink_to(elsewhere / "gone.jpg")
    (root / "Dog").symlink_to(elsewhere / "dogs", target_is_directory=True)
    dataset = read(root)
    assert sample_names(dataset) == ["Cat/linked.jpg", "Dog/dog.jpg"]
    assert dataset.labels == ["Cat", "Dog"]
    assert skip_warnings() == [f"Skipping {root / 'Cat' / 'dangling.jpg'}: missing file "
                               "(no such file; a broken symbolic link?)"]


def test_non_ascii_file_and_folder_names_are_read(tmp_path):
    write_image(tmp_path / "Chat_été" / "猫_ü ñ.jpg", color=RED)
    dataset = read(tmp_path)
    assert dataset.labels == ["Chat_été"]
    assert sample_names(dataset) == ["Chat_été/猫_ü ñ.jpg"]


def test_stray_top_level_files_are_skipped_with_a_warning(image_folder, skip_warnings):
    root = image_folder({"Cat/1.jpg": RED, "stray.jpg": RED})
    (root / "README.txt").write_text("my data")
    dataset = read(root)
    assert dataset.labels == ["Cat"]
    assert dataset.skipped == {"outside a class folder": 2}
    assert skip_warnings()[0] == f"Skipping {root / 'README.txt'}: outside a class folder (images go in <root>/<label>/)"


def test_empty_class_folder_is_not_a_label_and_is_reported(image_folder, caplog):
    root = image_folder({"Cat/1.jpg": RED})
    (root / "Dog").mkdir()
    dataset = read(root)
    assert Vocabulary.from_labels(dataset.labels).get_index_to_token_vocabulary() == {0: "Cat"}
    assert f"Class folder {root / 'Dog'} holds no readable image; 'Dog' is not a label of this dataset." in caplog.text


def test_images_in_sub_folders_of_a_class_folder_belong_to_it(image_folder):
    dataset = read(image_folder({"Cat/indoor/1.jpg": RED, "Cat/2.jpg": RED}))
    assert sample_names(dataset) == ["Cat/2.jpg", "Cat/indoor/1.jpg"]
    assert dataset.labels == ["Cat", "Cat"]


def test_scan_ends_with_a_summary_of_skipped_files_per_reason(image_folder, caplog):
    root = image_folder({"Cat/1.jpg": RED, "Dog/2.jpg": BLUE})
    (root / "Cat" / "a.jpg").write_bytes(b"")
    (root / "Dog" / "b.jpg").write_bytes(b"")
    (root / "Dog" / "c.png").write_text("not a png")
    caplog.set_level(logging.WARNING)
    read(root, lazy=True)
    assert caplog.records[-1].getMessage() == f"Read 2 images from {root}; 3 files skipped: 2 empty file, 1 not an image."


def test_a_file_given_as_the_data_folder_is_called_a_file(tmp_path):
    lines = tmp_path / "heldout.jsonl"
    lines.write_text('{"image_path": "x.png"}\n')
    with pytest.raises(ConfigurationError, match=f"^{re.escape(str(lines))} is a file, not a data folder; .*predict"):
        read(lines)


def test_missing_folder_and_folder_without_images_are_configuration_errors(tmp_path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        read(tmp_path / "nowhere")
    (tmp_path / "Cat").mkdir()
    (tmp_path / "Cat" / "x.jpg").write_bytes(b"")
    with pytest.raises(ConfigurationError, match=f"No readable images in {tmp_path}"):
        read(tmp_path)


def test_validation_label_missing_from_training_stops_before_training_naming_label_and_folder(image_folder, tmp_path):
    train = image_folder({"Cat/1.jpg": RED, "Dog/1.jpg": BLUE}, root_name="train")
    validation = image_folder({"Cat/2.jpg": RED, "Bird/1.jpg": BLUE, "Bird/2.jpg": BLUE}, root_name="val")
    config = {"dataset_reader": {"type": "image_classification_directory"}, "train_data_path": str(train),
              "validation_data_path": str(validation),
              "model": {"type": "basic_image_classifier", "im2vec_encoder": "global_average"},
              "trainer": {"num_epochs": 1}}
    with pytest.raises(ConfigurationError) as error:
        train_model(config, tmp_path / "run")
    assert str(error.value).startswith(f"{validation} has label(s) that the training data lacks: 'Bird' (2 images, "
                                       f"e.g. {validation / 'Bird' / '1.jpg'}). The model can only predict the "
                                       "training labels ['Cat', 'Dog']")
    assert not (tmp_path / "run" / "best.th").exists()
