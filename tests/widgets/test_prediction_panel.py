"""PredictionPanel: a chosen or dropped file (ipywidgets 8's upload format) becomes a picture, a label and bars."""
import datetime

import numpy as np
import pytest

from allencv_lite.widgets import PredictionPanel

DOG_PROBABILITY = 0.9933071490757153  # e^5 / (1 + e^5), from the fixture's logits (0, 5)


def uploaded(name, content, kind="image/png"):
    """One file as ipywidgets 8's ``FileUpload.value`` holds it (and so does ``ImageDropZone.value``)."""
    return ({"name": name, "type": kind, "size": len(content), "content": memoryview(content),
             "last_modified": datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)},)


def test_an_uploaded_image_shows_the_predicted_label_and_one_bar_per_label(dog_predictor, gradient_png):
    panel = PredictionPanel(dog_predictor)
    panel.drop_zone.value = uploaded("my_dog.png", gradient_png)
    assert panel.prediction["label"] == "Dog"
    assert "<b class='allencv-predicted-label'>Dog</b> (99.3%)" in panel.label.value
    assert list(panel.bars) == ["Dog", "Cat"]
    assert panel.bars["Dog"].value == pytest.approx(DOG_PROBABILITY)
    assert panel.bars["Cat"].value == pytest.approx(1 - DOG_PROBABILITY)
    assert [row.children[1].value for row in panel.bar_rows.children] == ["99.3%", "0.7%"]


def test_the_uploaded_image_is_shown(dog_predictor, gradient_png, gradient_image, decode_png):
    panel = PredictionPanel(dog_predictor)
    assert panel.image.layout.display == "none"
    panel.drop_zone.value = uploaded("my_dog.png", gradient_png)
    assert panel.image.layout.display is None
    np.testing.assert_array_equal(decode_png(panel.image.value), gradient_image)


def test_a_file_that_is_not_an_image_gets_a_message_and_no_bars(dog_predictor, gradient_png):
    panel = PredictionPanel(dog_predictor)
    panel.drop_zone.value = uploaded("my_dog.png", gradient_png)
    panel.drop_zone.value = uploaded("notes.txt", b"shopping list: kibble", kind="text/plain")
    assert panel.prediction is None
    assert "notes.txt: That file is not an image we can read." in panel.label.value
    assert panel.bars == {} and panel.bar_rows.children == ()
    assert panel.image.layout.display == "none"


def test_an_empty_file_gets_a_message(dog_predictor):
    panel = PredictionPanel(dog_predictor)
    panel.drop_zone.value = uploaded("empty.jpg", b"", kind="image/jpeg")
    assert "empty.jpg: That is an empty file: there is no picture in it." in panel.label.value


def test_the_latest_of_several_files_is_classified(dog_predictor, gradient_png):
    panel = PredictionPanel(dog_predictor)
    panel.drop_zone.value = uploaded("notes.txt", b"text", kind="text/plain") + uploaded("dog.png", gradient_png)
    assert panel.prediction["label"] == "Dog"


def test_file_names_are_shown_as_text_not_html(dog_predictor):
    panel = PredictionPanel(dog_predictor)
    panel.drop_zone.value = uploaded("<script>.png", b"not a png")
    assert "&lt;script&gt;.png: That file is not an image" in panel.label.value


def test_text_repr_lists_the_labels(dog_predictor):
    assert repr(PredictionPanel(dog_predictor)) == "PredictionPanel(labels=['Cat', 'Dog'])"


def test_a_dropped_image_is_classified_like_an_uploaded_one(dog_predictor, gradient_png):
    panel = PredictionPanel(dog_predictor)
    panel.drop_zone.value = [{"name": "dropped.png", "type": "image/png", "size": len(gradient_png),
                              "last_modified": 1714521600000, "content": memoryview(gradient_png)}]
    assert panel.prediction["label"] == "Dog"
    assert "dropped.png: <b class='allencv-predicted-label'>Dog</b> (99.3%)" in panel.label.value


def test_a_dropped_file_that_is_not_an_image_gets_a_message(dog_predictor):
    panel = PredictionPanel(dog_predictor)
    panel.drop_zone.value = [{"name": "notes.txt", "type": "text/plain", "size": 4, "last_modified": 0,
                              "content": memoryview(b"text")}]
    assert "notes.txt: That file is not an image we can read." in panel.label.value


def test_the_heatmap_toggle_draws_the_grad_cam_overlay_over_the_picture_and_back(dog_predictor, gradient_png,
                                                                                gradient_image, decode_png):
    panel = PredictionPanel(dog_predictor)
    panel.drop_zone.value = uploaded("my_dog.png", gradient_png)
    panel.heatmap_toggle.value = True
    overlay = dog_predictor.explain_image(gradient_image, "Dog")
    np.testing.assert_array_equal(decode_png(panel.image.value), overlay)
    assert not np.array_equal(overlay, gradient_image)
    panel.heatmap_toggle.value = False
    np.testing.assert_array_equal(decode_png(panel.image.value), gradient_image)


def test_with_the_toggle_down_each_new_picture_is_shown_with_its_heatmap(dog_predictor, gradient_png,
                                                                        gradient_image, decode_png):
    panel = PredictionPanel(dog_predictor)
    panel.heatmap_toggle.value = True  # before any picture: nothing to draw yet
    assert panel.image.layout.display == "none"
    panel.drop_zone.value = uploaded("my_dog.png", gradient_png)
    np.testing.assert_array_equal(decode_png(panel.image.value), dog_predictor.explain_image(gradient_image, "Dog"))


def test_below_the_slider_the_panel_says_not_sure_with_the_top_two_labels_and_back(dog_predictor, gradient_png):
    panel = PredictionPanel(dog_predictor)
    assert panel.min_confidence.value == 0.0  # the predictor has no min_confidence: always answer
    panel.drop_zone.value = uploaded("my_dog.png", gradient_png)
    panel.min_confidence.value = 0.995  # above P(Dog) = 0.9933: the same prediction, read again
    assert panel.prediction["label"] is None and panel.prediction["not_sure"]
    assert panel.label.value == "my_dog.png: <b class='allencv-not-sure'>not sure</b>: Dog (99.3%) or Cat (0.7%)"
    assert list(panel.bars) == ["Dog", "Cat"]
    panel.min_confidence.value = 0.99
    assert panel.prediction["label"] == "Dog" and "<b class='allencv-predicted-label'>Dog</b>" in panel.label.value


def test_the_slider_starts_at_the_predictors_min_confidence(dog_predictor, gradient_png):
    from allencv_lite.predictors import ImagePredictor

    unsure = ImagePredictor(dog_predictor.model, dog_predictor.dataset_reader, min_confidence=0.999)
    panel = PredictionPanel(unsure)
    assert panel.min_confidence.value == 0.999
    assert panel.show_prediction("my_dog.png", gradient_png)["not_sure"]
