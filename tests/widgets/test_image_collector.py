"""The image collector: classes are folders, every image a JPEG saved on arrival, removing a thumbnail
deletes its file, Train fine-tunes on the collection and turns the panel into a predictor."""
import io
import json

import numpy as np
import pytest
from PIL import Image

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset_readers.image_classification_directory import ImageClassificationDirectoryReader
from allencv_lite.data.image_loading import UnreadableImageError
from allencv_lite.widgets.image_collector import ImageCollector, free_file_name


def encoded(color, image_format: str, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=image_format)
    return buffer.getvalue()


@pytest.fixture
def collector(tmp_path) -> ImageCollector:
    return ImageCollector(tmp_path / "my_images", labels=["Cat", "Dog"])


def test_each_class_is_a_folder(collector):
    assert collector.labels == ["Cat", "Dog"]
    assert sorted(entry.name for entry in collector.folder.iterdir()) == ["Cat", "Dog"]


@pytest.mark.parametrize("name, message", [
    ("", "cannot name a class folder"), ("a/b", "cannot name a class folder"), ("..", "cannot name a class folder"),
    (".hidden", "hidden or system folder name"), ("__MACOSX", "hidden or system folder name"),
    ("Cat", "There is a class 'Cat' already"),
])
def test_a_name_that_cannot_be_a_class_folder_is_refused_in_one_line(collector, name, message):
    with pytest.raises(ConfigurationError, match=message):
        collector.add_label(name)


def test_a_png_is_saved_as_a_jpeg_in_its_class_folder_under_a_free_name(collector):
    first = collector.add_image("Dog", "rex.png", encoded((200, 30, 30), "PNG"))
    second = collector.add_image("Dog", "rex.png", encoded((30, 200, 30), "PNG"))
    assert (first, second) == (collector.folder / "Dog" / "rex.jpg", collector.folder / "Dog" / "rex_2.jpg")
    with Image.open(second) as saved:
        assert saved.format == "JPEG" and saved.size == (40, 30)
        assert np.abs(np.asarray(saved, dtype=int) - (30, 200, 30)).mean() < 3
    assert [picture["name"] for picture in collector.view.thumbnails["Dog"]] == ["rex.jpg", "rex_2.jpg"]
    assert collector.view.counts == {"Cat": 0, "Dog": 2}


def test_a_jpeg_is_kept_byte_for_byte(collector):
    content = encoded((10, 20, 30), "JPEG")
    assert collector.add_image("Cat", "tom.jpeg", content).read_bytes() == content


def test_a_file_that_is_not_an_image_writes_nothing_and_says_why(collector):
    with pytest.raises(UnreadableImageError, match="notes.txt: not an image"):
        collector.add_image("Cat", "notes.txt", b"hello")
    assert collector.images == {"Cat": [], "Dog": []}
    collector._on_message(None, {"kind": "add", "label": "Cat", "name": "notes.txt"}, [memoryview(b"hello")])
    assert collector.view.message == ("That file is not an image we can read. Choose a JPEG, PNG, GIF, BMP, TIFF or "
                                      "WebP picture.")


def test_removing_a_thumbnail_deletes_its_file(collector):
    path = collector.add_image("Cat", "tom.png", encoded((10, 20, 30), "PNG"))
    collector._on_message(None, {"kind": "remove", "label": "Cat", "name": "tom.jpg"}, [])
    assert not path.exists()
    assert collector.view.thumbnails["Cat"] == [] and collector.view.counts["Cat"] == 0
    assert collector.view.message == "Removed Cat/tom.jpg (file deleted)."


def test_removing_a_file_outside_the_class_is_refused(collector, tmp_path):
    (tmp_path / "precious.jpg").write_bytes(b"keep me")
    with pytest.raises(ConfigurationError, match="No image ../../precious.jpg in class 'Cat'"):
        collector.remove_image("Cat", "../../precious.jpg")
    assert (tmp_path / "precious.jpg").exists()


def test_messages_from_the_browser_add_classes_and_images(collector):
    collector._on_message(None, {"kind": "add_class", "label": " Bird "}, [])
    collector._on_message(None, {"kind": "add", "label": "Bird", "name": "webcam.jpg"},
                          [memoryview(encoded((1, 2, 3), "JPEG"))])
    assert collector.labels == ["Cat", "Dog", "Bird"]
    assert collector.images["Bird"] == [collector.folder / "Bird" / "webcam.jpg"]
    assert collector.view.message == "Saved Bird/webcam.jpg."


def test_an_existing_folder_of_class_folders_is_picked_up_and_read_back_by_the_reader(collector):
    collector.add_image("Cat", "a.png", encoded((250, 250, 250), "PNG"))
    collector.add_image("Dog", "b.gif", encoded((5, 5, 5), "GIF"))
    again = ImageCollector(collector.folder)
    assert again.labels == ["Cat", "Dog"]
    assert {label: [p.name for p in paths] for label, paths in again.images.items()} == {"Cat": ["a.jpg"],
                                                                                         "Dog": ["b.jpg"]}
    dataset = ImageClassificationDirectoryReader().read(collector.folder)
    assert sorted(dataset.labels) == ["Cat", "Dog"]


def test_file_names_stay_inside_the_folder_and_visible(tmp_path):
    assert free_file_name(tmp_path, "../../etc/passwd.png") == "passwd.jpg"
    assert free_file_name(tmp_path, ".bashrc") == "bashrc.jpg"
    assert free_file_name(tmp_path, "mon chat (1).HEIC") == "mon_chat_1_.jpg"


def test_the_saved_picture_shows_a_row_per_class_and_stays_small(displayed, collector, picture_of):
    from IPython.display import display

    display(collector)
    for index in range(10):
        collector.add_image("Cat", "tom.png", encoded((200, index, 0), "PNG", size=(640, 480)))
    first, *updates = displayed
    assert len(updates) == 10 and all(update["update"] for update in updates)
    mime_type, picture = picture_of(updates[-1]["data"])
    assert mime_type == "image/jpeg" and picture.shape[0] > 100
    assert len(updates[-1]["data"]["image/jpeg"]) < 100_000  # base64 characters, as for the other widgets
    assert first["data"]["text/plain"] == "ImageCollector (a live panel when the notebook runs; saved as a picture)"


TINY_RECIPE = {
    "dataset_reader": {"type": "image_classification_directory", "validation_split": 0.25, "seed": 1,
                       "augmentation": [{"type": "resize", "height": 8, "width": 8}]},
    "train_data_path": "DATA_PATH",
    "model": {"type": "basic_image_classifier", "im2im_encoder": {"type": "feedforward", "hidden_channels": []},
              "im2vec_encoder": {"type": "global_average"}},
    "iterator": {"type": "basic", "batch_size": 4},
    "trainer": {"num_epochs": 6, "cuda_device": -1, "optimizer": {"type": "adam", "lr": 0.1}},
}


def test_train_fine_tunes_on_the_collection_then_predicts_webcam_frames(tmp_path):
    recipe = tmp_path / "tiny.jsonnet"
    recipe.write_text(json.dumps(TINY_RECIPE).replace('"DATA_PATH"', 'std.extVar("DATA_PATH")'))
    collector = ImageCollector(tmp_path / "colours", labels=["red", "blue"], config_file=recipe)
    for index in range(4):
        collector.add_image("red", "frame.png", encoded((255 - 10 * index, 0, 0), "PNG"))
        collector.add_image("blue", "frame.png", encoded((0, 0, 255 - 10 * index), "PNG"))
    archive = collector.train()
    assert archive == tmp_path / "colours_run" / "model.tar.gz" and archive.exists()
    assert len(collector.curves.epoch_metrics) == 6
    assert collector.view.mode == "predict"
    assert collector.prediction_panel in collector.children
    collector._on_message(None, {"kind": "classify", "name": "webcam.jpg"}, [memoryview(encoded((250, 0, 0), "JPEG"))])
    assert collector.prediction_panel.prediction["label"] == "red"


def test_train_with_one_image_in_a_class_says_what_to_do_in_the_status_line(tmp_path):
    recipe = tmp_path / "tiny.jsonnet"
    recipe.write_text(json.dumps(TINY_RECIPE).replace('"DATA_PATH"', 'std.extVar("DATA_PATH")'))
    collector = ImageCollector(tmp_path / "colours", labels=["red", "blue"], config_file=recipe)
    collector.add_image("red", "a.png", encoded((255, 0, 0), "PNG"))
    collector.add_image("blue", "b.png", encoded((0, 0, 255), "PNG"))
    collector.add_image("blue", "c.png", encoded((0, 0, 250), "PNG"))
    assert collector.train() is None
    assert "class &#x27;red&#x27; has 1 image" in collector.status.value  # HTML-escaped
    assert collector.view.mode == "collect" and not collector.train_button.disabled
