"""Ask a trained model about your own picture, in a notebook."""
import html
from typing import Any, Dict, List, Optional, Tuple

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from allencv_lite.data.image_loading import UnreadableImageError
from allencv_lite.predictors.image_predictor import apply_min_confidence
from allencv_lite.predictors.predictor import JsonDict, Predictor
from allencv_lite.widgets.image_drop_zone import ImageDropZone
from allencv_lite.widgets.image_encoding import figure_bytes, png_bytes, thumbnail
from allencv_lite.widgets.saved_picture import SavedPicture


class PredictionPanel(SavedPicture, widgets.VBox):
    """A "Choose an image" button in a box that takes drops too; the chosen or dropped image is
    shown with the predicted label and one probability bar per label.

    One line in a notebook: ``PredictionPanel(predictor)`` with an image predictor such as
    ``Predictor.from_archive(load_archive("model.tar.gz"), "default_image")``.

    Both ways in are the :class:`ImageDropZone` (ipywidgets' ``FileUpload`` takes no drops and
    labels itself "Choose an image (0)" beside a prediction fed from code); its ``value`` is in
    ipywidgets 8's upload format, a list of dicts with ``name``, ``type``, ``size``,
    ``last_modified`` and ``content`` (a ``memoryview`` of the file's bytes); the most recent
    file is classified. A file that is not an image gives a message instead of a prediction.
    The "Grad-CAM heatmap" toggle draws, over the picture, where the evidence for the predicted
    label lies (``predictor.explain_image``; red strongest). Below the "Not sure below" slider's
    confidence the answer is "not sure" with the two most probable labels
    (:func:`~allencv_lite.predictors.image_predictor.apply_min_confidence`); moving it re-reads the
    last prediction without running the model again. A saved notebook shows a picture of the last
    image, label and bars (see :class:`SavedPicture`).

    Args:
        predictor: a predictor whose ``decode(bytes)`` turns a file's bytes into a ``uint8``
            array ``(height, width, 3)`` exactly as the web demo and ``evaluate`` do, and whose
            ``predict_image(array)`` returns ``{"label": ..., "probabilities": {label: probability}}``, as
            ``ImagePredictor`` (``default_image``) does; for the heatmap toggle also
            ``explain_image(array, label)``, returning the picture with the heatmap over it.
        thumbnail_size: longest side of the shown image, in pixels.

    Attributes:
        drop_zone: the :class:`ImageDropZone` (button and drop box); ``image``: the shown
            picture; ``label``: the ``HTML`` with the predicted label (or the message); ``bars``: ``{label: FloatProgress}``
            with values in [0, 1]; ``prediction``: the predictor's last output as the slider reads it
            (with ``not_sure``), or ``None``;
            ``heatmap_toggle``: the ``ToggleButton`` that shows the Grad-CAM overlay instead of
            the plain picture; ``min_confidence``: the ``FloatSlider`` in [0, 1] (starting at the
            predictor's ``min_confidence``, else 0: always answer).
    """

    def __init__(self, predictor: Predictor, thumbnail_size: int = 256) -> None:
        self.predictor = predictor
        self.thumbnail_size = thumbnail_size
        self.prediction: Optional[JsonDict] = None
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width=f"{thumbnail_size}px",
                                                                       display="none"))
        self.drop_zone = ImageDropZone()
        self.heatmap_toggle = widgets.ToggleButton(value=False, description="Grad-CAM heatmap", icon="eye",
                                                   tooltip="Draw where the model looks over the picture",
                                                   layout=widgets.Layout(width="auto"))
        self.min_confidence = widgets.FloatSlider(value=getattr(predictor, "min_confidence", None) or 0.0, min=0.0,
                                                  max=1.0, step=0.01, description="Not sure below",
                                                  style={"description_width": "initial"}, readout_format=".0%")
        self._picture: Optional[np.ndarray] = None  # the last image, full size
        self._name = ""  # the last image's file name
        self._answer: Optional[JsonDict] = None  # the predictor's last output, before the slider
        self._caption = "Choose or drop an image to classify."  # the label's text, for the saved picture
        self._shown_image: Optional[np.ndarray] = None  # the thumbnail on screen
        self.label = widgets.HTML(self._caption)
        self.bars: Dict[str, widgets.FloatProgress] = {}
        self.bar_rows = widgets.VBox()
        super().__init__([widgets.HBox([self.drop_zone, self.heatmap_toggle, self.min_confidence],
                                       layout=widgets.Layout(grid_gap="8px")),
                          widgets.HBox([self.image, widgets.VBox([self.label, self.bar_rows])])])
        self.add_class("allencv-prediction-panel")
        self.drop_zone.observe(self._on_upload, "value")
        self.heatmap_toggle.observe(self._on_toggle, "value")
        self.min_confidence.observe(self._on_min_confidence, "value")

    def _on_upload(self, change: Dict[str, Any]) -> None:
        files = change["new"]
        if files:
            latest = files[-1]
            self.show_prediction(latest["name"], bytes(latest["content"]))

    def show_prediction(self, name: str, content: bytes) -> Optional[JsonDict]:
        """Classify the file ``name`` with bytes ``content`` and show the result; returns
        the prediction, or ``None`` (and shows why) when the bytes are not an image."""
        try:
            image = self.predictor.decode(content)
        except UnreadableImageError as error:
            self.prediction, self._answer, self._shown_image, self._picture = None, None, None, None
            self.image.layout.display = "none"
            self._caption = f"{name}: {error.for_people()}"
            self.label.value = (f"<span class='allencv-upload-error' style='color: #b00020'>"
                                f"{html.escape(self._caption)}</span>")
            self._show_bars({})
            self.refresh_saved_picture()
            return None
        self._answer, self._picture, self._name = self.predictor.predict_image(image), image, name
        self._show_answer()
        self._draw_picture()
        self._show_bars(self.prediction["probabilities"])
        self.refresh_saved_picture()
        return self.prediction

    def _show_answer(self) -> None:
        """The label line of the last prediction, "not sure" below the slider's confidence."""
        self.prediction = apply_min_confidence(self._answer, self.min_confidence.value)
        if self.prediction["not_sure"]:
            candidates = " or ".join(f"{top['label']} ({top['probability']:.1%})" for top in self.prediction["top_2"])
            self._caption = f"{self._name}: not sure: {candidates}"
            self.label.value = (f"{html.escape(self._name)}: <b class='allencv-not-sure'>not sure</b>: "
                                f"{html.escape(candidates)}")
            return
        probability = self.prediction["probabilities"][self.prediction["label"]]
        self._caption = f"{self._name}: {self.prediction['label']} ({probability:.1%})"
        self.label.value = (f"{html.escape(self._name)}: <b class='allencv-predicted-label'>"
                            f"{html.escape(self.prediction['label'])}</b> ({probability:.1%})")

    def _on_min_confidence(self, change: Dict[str, Any]) -> None:
        if self._answer is not None and self._picture is not None:
            self._show_answer()
            self.refresh_saved_picture()

    def _draw_picture(self) -> None:
        """Show the last image, with the Grad-CAM heatmap over it while the toggle is down."""
        picture = self._picture
        if self.heatmap_toggle.value:  # the top label's evidence, also when not sure
            probabilities = self.prediction["probabilities"]
            picture = self.predictor.explain_image(picture, max(probabilities, key=probabilities.get))
        self.image.value = png_bytes(picture, self.thumbnail_size)
        self._shown_image = thumbnail(picture, self.thumbnail_size)
        self.image.layout.display = None

    def _on_toggle(self, change: Dict[str, Any]) -> None:
        if self._picture is not None:
            self._draw_picture()
            self.refresh_saved_picture()

    def picture(self) -> Tuple[str, bytes]:
        """The shown image, the label line and one bar per label, as one JPEG (or the
        panel's message alone, before an image or after a file that is not one)."""
        if self._shown_image is None:
            figure = Figure(figsize=(6.4, 0.5), dpi=80)
            figure.text(0.01, 0.5, self._caption, va="center", fontsize=11, wrap=True)
            return "image/jpeg", figure_bytes(figure, "jpeg")
        side = self.thumbnail_size / 80  # inches at 80 dpi
        figure = Figure(figsize=(side + 4.2, side + 0.1), dpi=80)
        picture_axes = figure.add_axes((0.0, 0.0, side / (side + 4.2), 1.0))
        picture_axes.imshow(self._shown_image)
        picture_axes.set_axis_off()
        bars_axes = figure.add_axes((side / (side + 4.2) + 0.1, 0.2, 0.28, 0.45))
        labels, probabilities = zip(*((label, bar.value) for label, bar in self.bars.items()))
        bars_axes.barh(range(len(labels)), probabilities, color="#1976d2")
        bars_axes.set(yticks=range(len(labels)), yticklabels=labels, xlim=(0, 1))
        bars_axes.invert_yaxis()  # most probable on top, as in the panel
        for row, probability in enumerate(probabilities):
            bars_axes.text(1.02, row, f"{probability:.1%}", va="center", transform=bars_axes.get_yaxis_transform())
        figure.text(side / (side + 4.2) + 0.03, 0.85, self._caption, fontsize=11, wrap=True)
        return "image/jpeg", figure_bytes(figure, "jpeg")

    def _show_bars(self, probabilities: Dict[str, float]) -> None:
        ranked: List = sorted(probabilities.items(), key=lambda pair: -pair[1])
        self.bars = {label: widgets.FloatProgress(value=p, min=0.0, max=1.0, description=label,
                                                  style={"description_width": "initial"})
                     for label, p in ranked}
        self.bar_rows.children = [widgets.HBox([bar, widgets.Label(f"{bar.value:.1%}")]) for bar in self.bars.values()]

    def __repr__(self) -> str:
        labels = self.predictor.model.vocab.get_index_to_token_vocabulary()
        return f"PredictionPanel(labels={list(labels.values())})"
