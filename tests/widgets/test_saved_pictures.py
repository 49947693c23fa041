"""Each widget's output carries a picture of what it shows, for notebooks opened as saved
(JupyterLab before running, GitHub, nbviewer, nbconvert), and sends it again on each change."""
import base64

import numpy as np
import pytest
from IPython.display import display

from allencv_lite.widgets import AugmentationExplorer, LiveTrainingCurves, PredictionPanel

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_the_explorer_output_has_the_live_view_a_jpeg_and_a_text_without_its_state(gradient_image, picture_of):
    bundle = AugmentationExplorer(gradient_image, num_samples=4, thumbnail_size=160)._repr_mimebundle_()
    assert set(bundle) == {WIDGET_VIEW, "image/jpeg", "text/plain"}
    assert bundle["text/plain"] == "AugmentationExplorer (a live panel when the notebook runs; saved as a picture)"
    mime_type, picture = picture_of(bundle)
    assert picture.shape[1] == 5 * 160  # the original and 4 copies side by side, 160 pixels each


def test_a_widget_is_shown_under_a_display_id_with_its_picture(displayed, gradient_image):
    explorer = AugmentationExplorer(gradient_image)
    display(explorer)
    (output,) = displayed
    assert output["update"] is False and output["transient"]["display_id"]
    assert WIDGET_VIEW in output["data"] and "image/jpeg" in output["data"]


def test_changing_the_explorer_sends_the_new_picture_to_the_same_output(displayed, gradient_image, picture_of):
    explorer = AugmentationExplorer(gradient_image, num_samples=1)
    display(explorer)
    explorer.rows["flip"].probability.value = 1.0  # a flip that always applies mirrors the copy
    explorer.rows["flip"].enabled.value = True
    first, *updates = displayed
    assert updates and all(update["update"] for update in updates)
    assert {update["transient"]["display_id"] for update in updates} == {first["transient"]["display_id"]}
    _, before = picture_of(first["data"])
    _, after = picture_of(updates[-1]["data"])
    assert before.shape == after.shape and np.abs(before.astype(int) - after).mean() > 5


def test_nothing_is_sent_before_the_widget_is_shown(displayed, gradient_image):
    explorer = AugmentationExplorer(gradient_image)
    explorer.rows["flip"].enabled.value = True
    assert displayed == []


def test_the_panel_sends_a_picture_of_the_prediction_it_shows(displayed, dog_predictor, gradient_png, picture_of):
    panel = PredictionPanel(dog_predictor, thumbnail_size=256)
    display(panel)
    panel.show_prediction("my_dog.png", gradient_png)
    first, update = displayed
    assert update["update"] and update["transient"] == first["transient"]
    _, before = picture_of(first["data"])  # the message alone
    _, after = picture_of(update["data"])  # the image, the label line and the bars
    assert before.shape[0] < 60 < after.shape[0]
    assert first["data"]["text/plain"] == update["data"]["text/plain"]


def test_the_curves_send_their_figure_after_each_epoch_and_at_the_end(displayed, small_trainer):
    curves = LiveTrainingCurves(notebook=True, redraw_interval=3600.0)
    small_trainer(curves, num_epochs=2).train()
    shown, *updates = displayed
    assert [output["update"] for output in updates] == [True, True, True]  # epoch 1, epoch 2, the end
    assert updates[-1]["data"]["image/png"] == base64.b64encode(curves.plot.value).decode("ascii")
    assert shown["data"]["text/plain"] == updates[-1]["data"]["text/plain"]


@pytest.mark.parametrize("make_widget", [lambda image, predictor: AugmentationExplorer(image),
                                         lambda image, predictor: PredictionPanel(predictor),
                                         lambda image, predictor: LiveTrainingCurves(notebook=True)],
                         ids=["AugmentationExplorer", "PredictionPanel", "LiveTrainingCurves"])
def test_every_widget_picture_is_small(make_widget, gradient_image, dog_predictor):
    bundle = make_widget(gradient_image, dog_predictor)._repr_mimebundle_()
    (mime_type,) = [key for key in bundle if key.startswith("image/")]
    assert len(bundle[mime_type]) < 100_000  # base64 characters: a few such outputs keep a notebook small
