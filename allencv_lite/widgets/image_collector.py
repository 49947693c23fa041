"""Collect your own images per class (drop, choose, or webcam), train on them, then try the model.

Teachable Machine's "collect a few examples per class, train, try it", inside a notebook. The
collection *is* a class-per-folder dataset on disk (``<folder>/<label>/<image>.jpg``): every
image is written as a JPEG the moment it arrives and deleted when its thumbnail is removed, so
``allencv-lite train training_config/own_images.jsonnet`` and every reader see exactly what the
panel shows.
"""
import base64
import html
import io
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import anywidget
import ipywidgets as widgets
import numpy as np
import traitlets
from matplotlib.figure import Figure
from PIL import Image

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.files import write_bytes_atomically
from allencv_lite.data.dataset import SkippedFiles
from allencv_lite.data.dataset_readers.image_classification_directory import images_in_folder, is_ignored
from allencv_lite.data.image_loading import UnreadableImageError, read_image
from allencv_lite.widgets.image_encoding import figure_bytes, png_bytes, thumbnail
from allencv_lite.widgets.live_training_curves import LiveTrainingCurves
from allencv_lite.widgets.saved_picture import SavedPicture

JPEG_QUALITY = 92  # what a file that is not a JPEG already is re-encoded at
THUMBNAILS_PER_CLASS = 48  # the newest images of each class that get a thumbnail; the count says how many in all
RECIPE = Path(__file__).resolve().parents[2] / "training_config" / "own_images.jsonnet"

# Runs in the browser (an ES module, as anywidget loads it). Python owns the state (classes,
# thumbnails, message, mode); the browser sends what the person does as messages, with the
# bytes of a dropped or chosen file, or of a webcam frame drawn on a canvas and encoded as JPEG.
_COLLECTOR_ESM = """
function button(text, className, onClick) {
  const element = document.createElement("button");
  element.className = "jupyter-widgets jupyter-button widget-button " + className;
  element.textContent = text;
  element.addEventListener("click", onClick);
  return element;
}

async function sendFile(model, kind, label, file) {
  const content = await file.arrayBuffer();
  model.send({kind, label, name: file.name}, undefined, [content]);
}

// One camera per widget, shared by its views: {camera key: {stream, views}} (anywidget may load this
// module again for each view, so the map lives on the page).
const cameras = (globalThis.allencvCollectorCameras = globalThis.allencvCollectorCameras || new Map());

function render({ model, el }) {
  el.classList.add("allencv-image-collector");
  const toolbar = document.createElement("div");
  toolbar.className = "allencv-collector-toolbar";
  const newClass = document.createElement("input");
  newClass.type = "text";
  newClass.placeholder = "class name";
  newClass.className = "allencv-collector-new-class";
  const addClass = () => {
    if (newClass.value.trim()) model.send({kind: "add_class", label: newClass.value.trim()});
    newClass.value = "";
  };
  newClass.addEventListener("keydown", (event) => { if (event.key === "Enter") addClass(); });
  const video = document.createElement("video");
  video.className = "allencv-collector-webcam";
  video.autoplay = true;
  video.muted = true;
  video.playsInline = true;
  // The camera belongs to the widget, not to one view: a saved-picture update redraws the view,
  // and the new view must keep showing the same stream rather than stop it.
  const camera = cameras.get(model.get("camera_key")) || {stream: null, views: 0};
  cameras.set(model.get("camera_key"), camera);
  camera.views += 1;
  const showCamera = () => {
    video.srcObject = camera.stream;
    video.style.display = camera.stream ? "" : "none";
    webcamButton.textContent = camera.stream ? "Stop webcam" : "Start webcam";
    draw();
  };
  const webcamButton = button("Start webcam", "allencv-collector-webcam-toggle", async () => {
    if (camera.stream) {
      camera.stream.getTracks().forEach((track) => track.stop());
      camera.stream = null;
    } else {
      try {
        camera.stream = await navigator.mediaDevices.getUserMedia({video: true, audio: false});
      } catch (error) {
        model.send({kind: "webcam_error", name: String(error && error.message || error)});
        return;
      }
    }
    showCamera();
  });
  const frame = async () => {
    // a view drawn again shows the stream in a new video element: wait for its first frame
    if (video.readyState < 2) await new Promise((ready) => video.addEventListener("loadeddata", ready, {once: true}));
    await new Promise((painted) => requestAnimationFrame(() => requestAnimationFrame(painted)));
    return await new Promise((resolve) => {
      const canvas = document.createElement("canvas");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      canvas.toBlob((blob) => resolve(new File([blob], "webcam.jpg", {type: "image/jpeg"})), "image/jpeg", 0.92);
    });
  };
  const classifyButton = button("Classify webcam frame", "allencv-collector-classify", async () => {
    if (camera.stream && video.videoWidth) await sendFile(model, "classify", "", await frame());
  });
  toolbar.append(newClass, button("Add class", "allencv-collector-add-class", addClass), webcamButton,
                 classifyButton);
  const message = document.createElement("div");
  message.className = "allencv-collector-message";
  const classes = document.createElement("div");
  classes.className = "allencv-collector-classes";
  el.append(toolbar, video, message, classes);

  function classBox(label, pictures, count) {
    const box = document.createElement("div");
    box.className = "allencv-collector-class";
    box.dataset.label = label;
    const header = document.createElement("div");
    header.className = "allencv-collector-class-header";
    const title = document.createElement("b");
    title.textContent = label;
    const counter = document.createElement("span");
    counter.className = "allencv-collector-count";
    counter.textContent = count === 1 ? "1 image" : count + " images";
    const chooser = document.createElement("input");
    chooser.type = "file";
    chooser.accept = "image/*";
    chooser.multiple = true;
    chooser.style.display = "none";
    chooser.addEventListener("change", async () => {
      for (const file of chooser.files) await sendFile(model, "add", label, file);
    });
    const choose = button("Choose images", "allencv-collector-choose", () => { chooser.value = ""; chooser.click(); });
    const capture = button("Webcam photo", "allencv-collector-capture", async () => {
      if (camera.stream && video.videoWidth) await sendFile(model, "add", label, await frame());
    });
    capture.disabled = !camera.stream;
    header.append(title, counter, choose, capture, chooser);
    const strip = document.createElement("div");
    strip.className = "allencv-collector-thumbnails";
    for (const picture of pictures) {
      const figure = document.createElement("figure");
      figure.className = "allencv-collector-thumbnail";
      figure.title = picture.name;
      const image = document.createElement("img");
      image.src = picture.src;
      const remove = button("×", "allencv-collector-remove", () => {
        model.send({kind: "remove", label, name: picture.name});
      });
      remove.title = "Remove " + picture.name + " (deletes the file)";
      figure.append(image, remove);
      strip.append(figure);
    }
    box.append(header, strip);
    box.addEventListener("dragover", (event) => {
      event.preventDefault();
      box.classList.add("allencv-drop-zone-over");
    });
    box.addEventListener("dragleave", () => box.classList.remove("allencv-drop-zone-over"));
    box.addEventListener("drop", async (event) => {
      event.preventDefault();
      box.classList.remove("allencv-drop-zone-over");
      for (const file of (event.dataTransfer ? event.dataTransfer.files : [])) await sendFile(model, "add", label, file);
    });
    return box;
  }

  function draw() {
    const predicting = model.get("mode") === "predict";
    classifyButton.style.display = predicting ? "" : "none";
    classifyButton.disabled = !camera.stream;
    message.textContent = model.get("message");
    const thumbnails = model.get("thumbnails");
    const counts = model.get("counts");
    classes.replaceChildren(...model.get("classes").map(
      (label) => classBox(label, thumbnails[label] || [], counts[label] || 0)));
  }
  ["change:classes", "change:thumbnails", "change:counts", "change:message", "change:mode"].forEach(
    (event) => model.on(event, draw));
  showCamera();
  return () => {  // the view is gone: stop the camera unless another view of the widget shows it
    camera.views -= 1;
    setTimeout(() => {
      if (camera.views === 0 && camera.stream) {
        camera.stream.getTracks().forEach((track) => track.stop());
        camera.stream = null;
      }
    }, 1000);
  };
}
export default { render };
"""

_COLLECTOR_CSS = """
.allencv-image-collector { display: flex; flex-direction: column; gap: 6px; font-size: var(--jp-ui-font-size1, 13px); }
.allencv-collector-toolbar { display: flex; gap: 6px; align-items: center; }
.allencv-collector-webcam { max-width: 320px; border-radius: 4px; }
.allencv-collector-message { color: var(--jp-ui-font-color2, #555); min-height: 1.2em; }
.allencv-collector-class { border: 2px dashed var(--jp-border-color1, #999); border-radius: 6px; padding: 4px 6px; }
.allencv-collector-class.allencv-drop-zone-over { border-color: var(--jp-brand-color1, #1976d2);
  background: rgba(25, 118, 210, 0.08); }
.allencv-collector-class-header { display: flex; gap: 8px; align-items: center; }
.allencv-collector-thumbnails { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; min-height: 8px; }
.allencv-collector-thumbnail { position: relative; margin: 0; }
.allencv-collector-thumbnail img { height: 64px; border-radius: 3px; display: block; }
.allencv-collector-remove { position: absolute; top: 0; right: 0; width: auto; padding: 0 4px; height: auto;
  min-width: 0; line-height: 1.2; }
"""


class _CollectorView(anywidget.AnyWidget):
    """The browser part of :class:`ImageCollector`: class boxes with thumbnails, drops, the file
    chooser and the webcam. ``thumbnails`` is ``{label: [{"name": file name, "src": data URL}]}``
    (the newest :data:`THUMBNAILS_PER_CLASS`), ``counts`` ``{label: images in all}``, ``mode``
    ``"collect"`` or ``"predict"`` (which shows the "Classify webcam frame" button), ``camera_key``
    names the widget's webcam stream on the page, which every view of it shows."""

    _esm = _COLLECTOR_ESM
    _css = _COLLECTOR_CSS
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    thumbnails = traitlets.Dict().tag(sync=True)
    counts = traitlets.Dict().tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    mode = traitlets.Unicode("collect").tag(sync=True)
    camera_key = traitlets.Unicode().tag(sync=True)

    @traitlets.default("camera_key")
    def _new_camera_key(self) -> str:
        return uuid.uuid4().hex


def check_label_name(label: str, existing: Sequence[str] = ()) -> str:
    """``label`` without surrounding spaces, if it can name a class folder.

    Raises:
        ConfigurationError: empty, a path separator, a hidden or system name the readers pass
            over (``.name``, ``__MACOSX``), or a class that exists already.
    """
    label = label.strip()
    if not label or "/" in label or "\\" in label or label in (".", ".."):
        raise ConfigurationError(f"'{label}' cannot name a class folder: use letters, digits, spaces, - or _.")
    if is_ignored(label):
        raise ConfigurationError(f"'{label}' is a hidden or system folder name that readers pass over; choose "
                                 "another class name.")
    if label in existing:
        raise ConfigurationError(f"There is a class '{label}' already.")
    return label


def as_jpeg(content: bytes, source: str = "<image bytes>") -> bytes:
    """The bytes of a JPEG of the image in ``content``: a readable JPEG is kept byte for byte, any
    other image decoded by the one decoder (upright, RGB, alpha on white) and encoded at quality
    :data:`JPEG_QUALITY`.

    Raises:
        UnreadableImageError: ``content`` is not a readable image (named ``source``).
    """
    try:
        pixels = read_image(io.BytesIO(content))
    except UnreadableImageError as error:
        raise UnreadableImageError(source, error.reason, error.detail) from None
    if content[:3] == b"\xff\xd8\xff":
        return content
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def free_file_name(folder: Path, name: str) -> str:
    """A ``.jpg`` name for ``name`` (a dropped file's or ``webcam.jpg``) not yet used in ``folder``:
    ``cat.png`` → ``cat.jpg``, then ``cat_2.jpg``, ``cat_3.jpg``, ...; characters other than letters,
    digits, ``-``, ``_`` and ``.`` become ``_``; a hidden name loses its leading dots."""
    stem = re.sub(r"[^\w.-]+", "_", Path(name).stem).lstrip(".") or "image"
    candidate, number = f"{stem}.jpg", 1
    while (folder / candidate).exists():
        number += 1
        candidate = f"{stem}_{number}.jpg"
    return candidate


class ImageCollector(SavedPicture, widgets.VBox):
    """Name classes, add images to each (drop files on a class, choose them, or take webcam
    photos), remove wrong ones, then **Train**: train on the collection with live curves in
    place, after which the panel predicts dropped or chosen images and webcam frames.

    The collection is the folder ``folder`` laid out as ``<folder>/<label>/<image>.jpg``, written
    as things happen: each image is saved as a JPEG (see :func:`as_jpeg`) when it arrives,
    atomically, and its file deleted when its thumbnail's × is clicked. An existing folder of
    class folders is picked up as it is (point the collector at photos you already have).
    Training runs ``training_config/own_images.jsonnet`` (``config_file``) with ``DATA_PATH``
    set to ``folder``, which holds out a seeded fifth of each class for validation and fits a
    linear probe on frozen features (at least 6 images per class; the curves show it as epoch
    0). The webcam runs in the browser (``getUserMedia``; the browser asks for permission), so it
    works wherever the notebook is opened, also on a remote server.

    In Python, :meth:`add_label`, :meth:`add_image`, :meth:`remove_image` and :meth:`train` do
    what the buttons do. A saved notebook shows a picture of the classes and their thumbnails
    (see :class:`SavedPicture`).

    Args:
        folder: where the dataset lives (created if missing).
        labels: class names to start with (added to the class folders already in ``folder``).
        config_file: the training recipe; ``DATA_PATH`` is set to ``folder``.
        serialization_dir: where training writes its run (default ``<folder>_run`` beside the
            folder, so the model never becomes part of the data).

    Attributes:
        view: the browser part (an anywidget); ``train_button``; ``status``: the ``HTML`` line
            under it; ``curves``: the :class:`LiveTrainingCurves` of the last training (the log
            goes where the command line's goes, standard error); ``prediction_panel``: the
            :class:`PredictionPanel` shown after training (``None`` before); ``predictor``.

    Raises:
        ConfigurationError: ``folder`` is a file, or a class name that cannot name a folder.
    """

    def __init__(self, folder: Union[str, os.PathLike], labels: Sequence[str] = (),
                 config_file: Union[str, os.PathLike] = RECIPE,
                 serialization_dir: Optional[Union[str, os.PathLike]] = None) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ConfigurationError(f"{self.folder} is a file; ImageCollector needs a folder for <label>/<image>.")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config_file = Path(config_file)
        self.serialization_dir = (Path(serialization_dir) if serialization_dir is not None
                                  else self.folder.with_name(self.folder.name + "_run"))
        self.predictor = None
        self.prediction_panel = None
        self.view = _CollectorView()
        self.train_button = widgets.Button(description="Train", icon="play", button_style="primary")
        self.status = widgets.HTML("")
        self.curves: Optional[LiveTrainingCurves] = None
        self._thumbnails: Dict[str, Dict[str, str]] = {}  # label → {file name: data URL}, oldest first
        self._pictures: Dict[str, Dict[str, np.ndarray]] = {}  # the same thumbnails as arrays, for the saved picture
        super().__init__([self.view, widgets.HBox([self.train_button, self.status])])
        self.add_class("allencv-image-collector-panel")
        for entry in sorted(self.folder.iterdir()):
            if entry.is_dir() and not is_ignored(entry.name):
                self._load_class(entry.name)
        for label in labels:
            if label not in self.labels:
                self.add_label(label)
        self.view.on_msg(self._on_message)
        self.train_button.on_click(lambda _: self.train())
        self._say(f"Images are saved in {self.folder}/<class>/." if self.labels else
                  "Name a class to start, then drop images on it, choose them, or use the webcam.")

    # --- the collection ---------------------------------------------------------------------------
    @property
    def labels(self) -> List[str]:
        """The class names (labels), in the order they were added (existing folders sorted first)."""
        return list(self.view.classes)

    @property
    def images(self) -> Dict[str, List[Path]]:
        """``{label: [image files]}``, as the directory reader finds them (sorted)."""
        return {label: [Path(path) for path in images_in_folder(self.folder / label, SkippedFiles(warn=False))]
                for label in self.labels}

    def add_label(self, label: str) -> str:
        """Add a class (and its empty folder); returns its name without surrounding spaces.

        Raises:
            ConfigurationError: see :func:`check_label_name`.
        """
        label = check_label_name(label, self.labels)
        (self.folder / label).mkdir(exist_ok=True)
        self._load_class(label)
        return label

    def add_image(self, label: str, name: str, content: bytes) -> Path:
        """Save the image file ``name`` with bytes ``content`` as a JPEG in class ``label``'s
        folder (under a free name, see :func:`free_file_name`) and show its thumbnail.

        Raises:
            ConfigurationError: an unknown class.
            UnreadableImageError: ``content`` is not a readable image; nothing is written.
        """
        if label not in self.labels:
            raise ConfigurationError(f"No class '{label}'; add it first (classes: {self.labels}).")
        jpeg = as_jpeg(content, name)
        path = self.folder / label / free_file_name(self.folder / label, name)
        write_bytes_atomically(jpeg, path)
        self._add_thumbnail(label, path, read_image(io.BytesIO(jpeg)))
        self._publish()
        return path

    def remove_image(self, label: str, file_name: str) -> None:
        """Delete ``<folder>/<label>/<file_name>`` and its thumbnail.

        Raises:
            ConfigurationError: no such image in that class.
        """
        path = self.folder / label / file_name
        if label not in self.labels or Path(file_name).name != file_name or not path.is_file():
            raise ConfigurationError(f"No image {file_name} in class '{label}' ({self.folder / label}).")
        path.unlink()
        self._thumbnails[label].pop(file_name, None)
        self._pictures[label].pop(file_name, None)
        self._publish()

    def _load_class(self, label: str) -> None:
        """Show class ``label`` with thumbnails of its newest images already on disk."""
        self._thumbnails[label], self._pictures[label] = {}, {}
        self.view.classes = [*self.view.classes, label]
        for path in images_in_folder(self.folder / label, SkippedFiles(warn=False))[-THUMBNAILS_PER_CLASS:]:
            try:
                self._add_thumbnail(label, Path(path), read_image(path, draft_size=(128, 128)))
            except UnreadableImageError as error:
                self._say(f"Not shown: {error}")
        self._publish()

    def _add_thumbnail(self, label: str, path: Path, pixels: np.ndarray) -> None:
        small = thumbnail(pixels, 128)
        thumbnails, pictures = self._thumbnails[label], self._pictures[label]
        thumbnails[path.name] = "data:image/png;base64," + base64.b64encode(png_bytes(small, 128)).decode("ascii")
        pictures[path.name] = small
        for oldest in list(thumbnails)[:-THUMBNAILS_PER_CLASS]:
            del thumbnails[oldest], pictures[oldest]

    def _publish(self) -> None:
        """Send the thumbnails and counts to the browser, and the new picture to the saved notebook."""
        self.view.thumbnails = {label: [{"name": name, "src": src} for name, src in thumbnails.items()]
                                for label, thumbnails in self._thumbnails.items()}
        self.view.counts = {label: len(paths) for label, paths in self.images.items()}
        self.refresh_saved_picture()

    def _say(self, text: str) -> None:
        self.view.message = text

    def _on_message(self, _: Any, content: Dict[str, Any], buffers: List[memoryview]) -> None:
        """What the browser sends: ``add_class``, ``add`` / ``classify`` (with the file's bytes),
        ``remove``, ``webcam_error``. A mistake becomes the message line, never a traceback."""
        kind, label, name = content.get("kind"), content.get("label", ""), content.get("name", "")
        try:
            if kind == "add_class":
                self._say(f"Added class '{self.add_label(label)}'.")
            elif kind == "add":
                path = self.add_image(label, name, bytes(buffers[0]))
                self._say(f"Saved {path.relative_to(self.folder)}.")
            elif kind == "remove":
                self.remove_image(label, name)
                self._say(f"Removed {label}/{name} (file deleted).")
            elif kind == "classify" and self.prediction_panel is not None:
                self.prediction_panel.show_prediction("webcam frame", bytes(buffers[0]))
            elif kind == "webcam_error":
                self._say(f"The webcam did not start: {name}. Allow the camera in the browser, or drop images.")
        except (ConfigurationError, UnreadableImageError) as error:
            self._say(error.for_people() if isinstance(error, UnreadableImageError) else str(error))

    # --- training and prediction ------------------------------------------------------------------
    def train(self) -> Optional[Path]:
        """Train on the collection with ``config_file`` (live curves shown in place), then
        show the prediction panel; returns the ``model.tar.gz`` written, or ``None`` when the
        data or config was refused (the reason is shown in the status line)."""
        from allencv_lite.training.from_config import train_model
        from allencv_lite.common.params import load_config
        from allencv_lite.models.archival import ARCHIVE_NAME, load_archive
        from allencv_lite.predictors.predictor import Predictor
        from allencv_lite.widgets.prediction_panel import PredictionPanel

        self.train_button.disabled = True
        self.status.value = "training…"
        self.curves = LiveTrainingCurves(redraw_interval=1.0, notebook=True, display_on_start=False)  # a new run
        self.children = [self.view, self.children[1], self.curves]
        try:
            config = load_config(self.config_file, ext_vars={"DATA_PATH": str(self.folder)})
            train_model(config, self.serialization_dir, force=True, callbacks=[self.curves])
        except ConfigurationError as error:
            self.status.value = f"<span style='color: #b00020'>{html.escape(str(error))}</span>"
            return None
        finally:
            self.train_button.disabled = False
        archive = self.serialization_dir / ARCHIVE_NAME
        self.predictor = Predictor.from_archive(load_archive(archive), "default_image")
        self.prediction_panel = PredictionPanel(self.predictor)
        metrics = json.loads((self.serialization_dir / "metrics.json").read_text(encoding="utf-8"))
        accuracy = metrics.get("best_validation_accuracy")
        self.status.value = (f"trained: {html.escape(str(archive))}" +
                             (f" · best validation accuracy {accuracy:.1%}" if accuracy is not None else "") +
                             " · now drop an image below, or classify a webcam frame")
        self.train_button.description = "Train again"
        self.view.mode = "predict"
        self.children = [*self.children, self.prediction_panel]
        self.refresh_saved_picture()
        return archive

    # --- saved notebook -----------------------------------------------------------------------------
    def picture(self) -> Tuple[str, bytes]:
        """One row per class: its name, how many images, and its newest thumbnails (JPEG)."""
        rows = max(len(self.labels), 1)
        columns = 8
        figure = Figure(figsize=(1.1 * (columns + 2), 1.1 * rows + 0.3), dpi=80)
        counts = {label: len(paths) for label, paths in self.images.items()}
        if not self.labels:
            figure.text(0.02, 0.5, "ImageCollector: no classes yet", fontsize=12, va="center")
        for row, label in enumerate(self.labels):
            top = 1 - (row + 0.5) / rows
            figure.text(0.01, top, f"{label}\n{counts[label]} images", fontsize=11, va="center")
            for column, small in enumerate(list(self._pictures[label].values())[-columns:]):
                axes = figure.add_axes((0.2 + column * 0.1, 1 - (row + 1) / rows + 0.05 / rows, 0.095, 0.9 / rows))
                axes.imshow(small)
                axes.set_axis_off()
        return "image/jpeg", figure_bytes(figure, "jpeg")

    def __repr__(self) -> str:
        return f"ImageCollector(folder={str(self.folder)!r}, labels={self.labels})"
