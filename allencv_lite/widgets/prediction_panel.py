"""Ask a trained model about your own picture, in a notebook."""
import html
import io
from typing import Any, Dict, List, Optional

import ipywidgets as widgets

from allencv_lite.data.image_loading import UnreadableImageError, read_image
from allencv_lite.predictors.predictor import JsonDict, Predictor
from allencv_lite.widgets.image_drop_zone import ImageDropZone
from allencv_lite.widgets.image_encoding import png_bytes


class PredictionPanel(widgets.VBox):
    """An upload button and a drop zone; the chosen or dropped image is shown with the
    predicted label and one probability bar per label.

    One line in a notebook: ``PredictionPanel(predictor)`` with an image predictor such as
    ``Predictor.from_archive(load_archive("model.tar.gz"), "default_image")``.

    The button is ipywidgets 8's ``FileUpload``, which opens the browser's file chooser but
    takes no drops; the :class:`ImageDropZone` beside it takes a file dragged onto it. Both
    give a ``value`` in ipywidgets 8's upload format, a sequence of dicts with ``name``,
    ``type``, ``size``, ``last_modified`` and ``content`` (a ``memoryview`` of the file's
    bytes); the most recent file is classified. A file that is not an image gives a message
    instead of a prediction.

    Args:
        predictor: a predictor whose ``predict_image(uint8 array (height, width, 3))``
            returns ``{"label": ..., "probabilities": {label: probability}}``, as
            ``ImagePredictor`` (``default_image``) does.
        thumbnail_size: longest side of the shown image, in pixels.

    Attributes:
        upload: the ``FileUpload``; ``drop_zone``: the :class:`ImageDropZone`;
            ``image``: the shown picture; ``label``: the ``HTML``
            with the predicted label (or the message); ``bars``: ``{label: FloatProgress}``
            with values in [0, 1]; ``prediction``: the predictor's last output, or ``None``.
    """

    def __init__(self, predictor: Predictor, thumbnail_size: int = 256) -> None:
        self.predictor = predictor
        self.thumbnail_size = thumbnail_size
        self.prediction: Optional[JsonDict] = None
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="Choose an image",
                                         layout=widgets.Layout(width="auto"))
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width=f"{thumbnail_size}px",
                                                                       display="none"))
        self.drop_zone = ImageDropZone()
        self.label = widgets.HTML("Choose or drop an image to classify.")
        self.bars: Dict[str, widgets.FloatProgress] = {}
        self.bar_rows = widgets.VBox()
        super().__init__([widgets.HBox([self.upload, self.drop_zone], layout=widgets.Layout(grid_gap="8px")),
                          widgets.HBox([self.image, widgets.VBox([self.label, self.bar_rows])])])
        self.add_class("allencv-prediction-panel")
        self.upload.observe(self._on_upload, "value")
        self.drop_zone.observe(self._on_upload, "value")

    def _on_upload(self, change: Dict[str, Any]) -> None:
        files = change["new"]
        if files:
            latest = files[-1]
            self.show_prediction(latest["name"], bytes(latest["content"]))

    def show_prediction(self, name: str, content: bytes) -> Optional[JsonDict]:
        """Classify the file ``name`` with bytes ``content`` and show the result; returns
        the prediction, or ``None`` (and shows why) when the bytes are not an image."""
        try:
            image = read_image(io.BytesIO(content))
        except UnreadableImageError as error:
            self.prediction = None
            self.image.layout.display = "none"
            self.label.value = (f"<span class='allencv-upload-error' style='color: #b00020'>"
                                f"{html.escape(name)} is {html.escape(error.reason)}: please choose a photo "
                                "(JPEG, PNG, GIF, BMP, WebP or TIFF).</span>")
            self._show_bars({})
            return None
        self.prediction = self.predictor.predict_image(image)
        self.image.value = png_bytes(image, self.thumbnail_size)
        self.image.layout.display = None
        probability = self.prediction["probabilities"][self.prediction["label"]]
        self.label.value = (f"{html.escape(name)}: <b class='allencv-predicted-label'>"
                            f"{html.escape(self.prediction['label'])}</b> ({probability:.1%})")
        self._show_bars(self.prediction["probabilities"])
        return self.prediction

    def _show_bars(self, probabilities: Dict[str, float]) -> None:
        ranked: List = sorted(probabilities.items(), key=lambda pair: -pair[1])
        self.bars = {label: widgets.FloatProgress(value=p, min=0.0, max=1.0, description=label,
                                                  style={"description_width": "initial"})
                     for label, p in ranked}
        self.bar_rows.children = [widgets.HBox([bar, widgets.Label(f"{bar.value:.1%}")]) for bar in self.bars.values()]

    def __repr__(self) -> str:
        labels = self.predictor.model.vocab.get_index_to_token_vocabulary()
        return f"PredictionPanel(labels={list(labels.values())})"
