"""Review the images a model finds strangest, and decide about each without touching a file."""
import html
import os
from dataclasses import dataclass
from pathlib import Path
import io
from typing import Any, Dict, List, Optional, Tuple, Union

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image

from allencv_lite.data.cleaning import EXCLUDE, KEEP, CleaningDecisions, relabel, relative_key
from allencv_lite.data.dataset import ImageDataset
from allencv_lite.data.dataset_readers.dataset_reader import ImageDatasetReader
from allencv_lite.data.dataset_readers.image_classification_directory import has_image_extension, is_ignored
from allencv_lite.data.image_loading import read_image
from allencv_lite.data.vocabulary import DEFAULT_NAMESPACE
from allencv_lite.interpret.grad_cam import explain_file
from allencv_lite.interpret.interpretation import dataset_logits
from allencv_lite.models.archival import Archive
from allencv_lite.widgets.image_encoding import figure_bytes, png_bytes
from allencv_lite.widgets.saved_picture import SavedPicture

UNDECIDED = ""


@dataclass(frozen=True)
class ReviewItem:
    """One image to review.

    Attributes:
        path: the file; ``key``: its path relative to the folder, the key in ``cleaning.json``.
        label: its label (its class folder), ``None`` for an unlabelled image.
        predicted, probability: the model's label and its probability.
        score: what the ranking sorts by, highest first: the cross-entropy ``-log p(label)``
            in nats for a labelled image, the uncertainty ``1 - max_c p(c)`` for an unlabelled one.
    """

    path: str
    key: str
    label: Optional[str]
    predicted: str
    probability: float
    score: float


def read_for_review(reader: ImageDatasetReader, folder: Union[str, os.PathLike]) -> ImageDataset:
    """The images of ``folder``: labelled by class folder (``<folder>/<label>/<image>``) when it has
    sub-folders, else the unlabelled images directly inside it."""
    folder = Path(folder)
    if any(entry.is_dir() and not is_ignored(entry.name) for entry in folder.iterdir()):
        return reader.read(folder)
    images = sorted(str(p) for p in folder.iterdir() if has_image_extension(p.name) and not is_ignored(p.name))
    return reader.make_dataset([(path, None) for path in images], source=folder)


def rank_for_review(archive: Archive, dataset: ImageDataset, folder: Union[str, os.PathLike],
                    batch_size: int = 32, progress: bool = False) -> List[ReviewItem]:
    """Every readable image of ``dataset``, the most suspicious first: highest loss for labelled
    images (likely label errors, or photos unlike the rest), highest uncertainty for unlabelled ones.

    Raises:
        ConfigurationError: a label the model does not know, or no readable image.
    """
    vocab = archive.vocab
    labels = [vocab.get_token_from_index(i, DEFAULT_NAMESPACE) for i in range(vocab.get_vocab_size(DEFAULT_NAMESPACE))]
    dataset.index_with(vocab)
    indices, logits = dataset_logits(archive.model, dataset, batch_size=batch_size, progress=progress)
    probabilities = torch.softmax(logits, dim=-1)
    items = []
    for row, index in zip(probabilities, indices):
        path, label = dataset.samples[index]
        predicted = int(row.argmax())
        score = (float(-torch.log(row[labels.index(label)])) if label is not None else float(1.0 - row.max()))
        items.append(ReviewItem(path, relative_key(path, folder), label, labels[predicted], float(row[predicted]),
                                score))
    return sorted(items, key=lambda item: -item.score)


class _Tile(widgets.VBox):
    """One image of the grid: the picture, what the model says, and the decision."""

    def __init__(self, item: ReviewItem, labels: List[str], decision: Optional[str], thumbnail_size: int) -> None:
        self.item = item
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{thumbnail_size}px", height="auto"))
        actual = html.escape(item.label) if item.label is not None else "<i>unlabelled</i>"
        measure = "loss" if item.label is not None else "uncertainty"
        self.caption = widgets.HTML(
            f"<div class='allencv-cleaner-caption' style='font-size: 12px; line-height: 1.3'>"
            f"{html.escape(item.key)}<br>label <b>{actual}</b> · predicted <b>{html.escape(item.predicted)}</b> "
            f"({item.probability:.2f})<br>{measure} {item.score:.2f}</div>")
        verb = "relabel to" if item.label is not None else "label as"
        options = [("(no decision)", UNDECIDED), ("keep", KEEP), ("exclude", EXCLUDE)]
        options += [(f"{verb} {label}", relabel(label)) for label in labels if label != item.label]
        self.action = widgets.Dropdown(options=options, value=decision or UNDECIDED,
                                       layout=widgets.Layout(width=f"{thumbnail_size}px"))
        super().__init__([self.image, self.caption, self.action], layout=widgets.Layout(margin="4px"))
        self.add_class("allencv-cleaner-tile")


class DatasetCleaner(SavedPicture, widgets.VBox):
    """fastai's ``ImageClassifierCleaner``, except that it never deletes or moves a file: the
    images of ``folder`` ranked by how wrong ``archive``'s model finds them, a grid of them with
    the label, the prediction and its probability, and per image a choice of *keep*, *exclude*
    or *relabel to ...*. Every choice is saved at once to ``cleaning_file`` (atomically; see
    :mod:`allencv_lite.data.cleaning`), with the image's path relative to ``folder`` as the key,
    and the decisions already there are shown when the cleaner is opened again. Train on the
    cleaned data by giving the reader ``"cleaning_file"``.

    One line in a notebook: ``DatasetCleaner(load_archive("model.tar.gz"), "data/train")``. A saved
    notebook shows a picture of the page last shown, with each tile's decision (see
    :class:`SavedPicture`).

    Args:
        archive: the trained model and its validation reader (which prepares the images).
        folder: ``<folder>/<label>/<image>`` (ranked by loss), or a folder of unlabelled images
            (ranked by uncertainty, offering *label as ...*).
        cleaning_file: where decisions are kept; created at the first decision.
        num_images: images per page; ``ncols``: tiles per row.
        heatmap: start with the Grad-CAM heatmap of the predicted label over each picture.
        thumbnail_size: width of each tile's picture, in pixels.

    Attributes:
        items: every :class:`ReviewItem`, most suspicious first; ``page``: the page shown (from 0).
        tiles: the tiles of this page, each with ``item``, ``image``, ``caption`` and ``action``
            (the ``Dropdown`` of decisions); ``decisions``: the :class:`CleaningDecisions`.
        heatmap_toggle: the ``Checkbox`` for the heatmaps; ``status``: the line saying what was saved.

    Raises:
        ConfigurationError: a malformed ``cleaning_file``, a label the model does not know, or
            no readable image in ``folder``.
    """

    def __init__(self, archive: Archive, folder: Union[str, os.PathLike],
                 cleaning_file: Union[str, os.PathLike] = "cleaning.json", num_images: int = 12, ncols: int = 4,
                 heatmap: bool = False, thumbnail_size: int = 160) -> None:
        self.archive = archive
        self.folder = Path(folder)
        self.cleaning_file = Path(cleaning_file)
        self.decisions = CleaningDecisions.load(self.cleaning_file, missing_ok=True)
        self.num_images = num_images
        self.ncols = ncols
        self.thumbnail_size = thumbnail_size
        vocab = archive.vocab
        self.labels = [vocab.get_token_from_index(i, DEFAULT_NAMESPACE)
                       for i in range(vocab.get_vocab_size(DEFAULT_NAMESPACE))]
        self.items = rank_for_review(archive, read_for_review(archive.dataset_reader, self.folder), self.folder)
        self.page = 0
        self.tiles: List[_Tile] = []
        self._overlays: Dict[str, bytes] = {}
        self.heatmap_toggle = widgets.Checkbox(value=heatmap, description="Grad-CAM heatmap", indent=False)
        self.previous_button = widgets.Button(description="Previous", icon="arrow-left")
        self.next_button = widgets.Button(description="Next", icon="arrow-right")
        self.page_label = widgets.HTML()
        self.status = widgets.HTML(f"Decisions go to <code>{html.escape(str(self.cleaning_file))}</code> "
                                   f"({len(self.decisions)} there now); no file is deleted or moved.")
        self.grid = widgets.GridBox(layout=widgets.Layout(grid_template_columns=f"repeat({ncols}, auto)"))
        super().__init__([widgets.HBox([self.previous_button, self.next_button, self.page_label, self.heatmap_toggle]),
                          self.grid, self.status])
        self.add_class("allencv-dataset-cleaner")
        self.previous_button.on_click(lambda button: self.show_page(self.page - 1))
        self.next_button.on_click(lambda button: self.show_page(self.page + 1))
        self.heatmap_toggle.observe(self._draw_pictures, "value")
        self.show_page(0)

    @property
    def num_pages(self) -> int:
        return max(1, -(-len(self.items) // self.num_images))

    def show_page(self, page: int) -> None:
        """Show page ``page`` (from 0; clamped to the pages there are)."""
        self.page = min(max(page, 0), self.num_pages - 1)
        start = self.page * self.num_images
        self.tiles = [_Tile(item, self.labels, self.decisions.get(item.key), self.thumbnail_size)
                      for item in self.items[start: start + self.num_images]]
        for tile in self.tiles:
            tile.action.observe(lambda change, tile=tile: self.decide(tile.item.key, change["new"]), "value")
        self.grid.children = self.tiles
        self.page_label.value = (f"page {self.page + 1} of {self.num_pages} ({len(self.items)} images, "
                                 "most suspicious first)")
        self.previous_button.disabled = self.page == 0
        self.next_button.disabled = self.page == self.num_pages - 1
        self._draw_pictures()

    def decide(self, key: str, action: str) -> None:
        """Record ``action`` (``keep``, ``exclude``, ``relabel:<label>``, or ``""`` to forget the
        decision) for the image ``key`` and save the file."""
        if action == UNDECIDED:
            self.decisions.forget(key)
        else:
            self.decisions.decide(key, action)
        self.decisions.save(self.cleaning_file)
        self.status.value = (f"Saved {len(self.decisions)} decisions to <code>{html.escape(str(self.cleaning_file))}"
                             f"</code> (last: {html.escape(key)} → {html.escape(action or 'no decision')}).")
        self.refresh_saved_picture()

    def _draw_pictures(self, change: Optional[Dict[str, Any]] = None) -> None:
        for tile in self.tiles:
            tile.image.value = self._overlay(tile.item) if self.heatmap_toggle.value else png_bytes(
                read_image(tile.item.path), self.thumbnail_size)
        self.refresh_saved_picture()

    def picture(self) -> Tuple[str, bytes]:
        """The page shown, as one JPEG: each tile's picture (with its heatmap when ticked) above
        its name, label, prediction and decision, ``ncols`` tiles a row, about 2 inches each."""
        columns = max(1, min(len(self.tiles), self.ncols))
        rows = max(1, -(-len(self.tiles) // columns))
        figure = Figure(figsize=(2.0 * columns, 2.4 * rows + 0.3), dpi=80)
        figure.suptitle(f"page {self.page + 1} of {self.num_pages}, most suspicious first; "
                        f"{len(self.decisions)} decisions in {self.cleaning_file.name}", fontsize=9)
        for index, tile in enumerate(self.tiles):
            axes = figure.add_subplot(rows, columns, index + 1)
            axes.imshow(np.asarray(Image.open(io.BytesIO(tile.image.value)).convert("RGB")))
            axes.set_axis_off()
            item = tile.item
            decision = self.decisions.get(item.key) or "no decision"
            axes.set_title(f"{Path(item.key).name}\nlabel {item.label or '?'} · predicted {item.predicted} "
                           f"({item.probability:.2f})\n{decision}", fontsize=7)
        return "image/jpeg", figure_bytes(figure, "jpeg")

    def _overlay(self, item: ReviewItem) -> bytes:
        if item.path not in self._overlays:
            overlay = explain_file(self.archive.model, self.archive.dataset_reader, item.path,
                                   label=self.labels.index(item.predicted))
            self._overlays[item.path] = png_bytes(overlay, self.thumbnail_size)
        return self._overlays[item.path]

    def __repr__(self) -> str:
        return (f"DatasetCleaner({len(self.items)} images of {self.folder}, {len(self.decisions)} decisions in "
                f"{self.cleaning_file})")
