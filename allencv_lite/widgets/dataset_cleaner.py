"""Review the images most likely mislabelled, and decide about each without touching a file."""
import html
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image

from allencv_lite.audit.plots import NEIGHBOUR_SIDE, square_thumbnail
from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.cleaning import EXCLUDE, KEEP, CleaningDecisions, relabel, relative_key
from allencv_lite.data.dataset import ImageDataset
from allencv_lite.data.dataset_readers.dataset_reader import ImageDatasetReader
from allencv_lite.data.dataset_readers.image_classification_directory import has_image_extension, is_ignored
from allencv_lite.data.image_loading import read_image
from allencv_lite.data.vocabulary import DEFAULT_NAMESPACE
from allencv_lite.interpret.calibration import model_temperature
from allencv_lite.interpret.grad_cam import explain_file
from allencv_lite.interpret.interpretation import dataset_logits
from allencv_lite.models.archival import Archive
from allencv_lite.widgets.image_encoding import figure_bytes, png_bytes
from allencv_lite.widgets.saved_picture import SavedPicture

if TYPE_CHECKING:
    from allencv_lite.audit.report import AuditReport

UNDECIDED = ""
NEIGHBOURS = 3  # nearest training images shown beside each audited image
IN_SAMPLE_WARNING = ("Ranked in-sample: by the loss of a model trained on these very images, so the top shows what "
                     "it failed to memorise rather than what is mislabelled. An audit ranks out of sample: "
                     "<code>DatasetCleaner(audit(DATA_DIR), folder)</code>.")


@dataclass(frozen=True)
class Neighbour:
    """A training image close to a reviewed one in the audit's feature space: its ``path`` on disk,
    ``label`` and cosine ``similarity``."""

    path: str
    label: str
    similarity: float


@dataclass(frozen=True)
class ReviewItem:
    """One image to review.

    Attributes:
        path: the file; ``key``: its path relative to the folder, the key in ``cleaning.json``.
        label: its label (its class folder), ``None`` for an unlabelled image.
        predicted, probability: the suggested label and its probability: out of sample (a
            model that never saw the image) from an audit, in-sample from an archive's model.
        score: what the ranking sorts by. From an audit: the label quality, the out-of-sample
            probability of ``label``, lowest first. In-sample: the cross-entropy ``-log p(label)``
            in nats for a labelled image, the uncertainty ``1 - max_c p(c)`` for an unlabelled
            one, highest first.
        measure: what ``score`` is, as the caption names it.
        neighbours: from an audit, the :data:`NEIGHBOURS` training images closest to this one.
    """

    path: str
    key: str
    label: Optional[str]
    predicted: str
    probability: float
    score: float
    measure: str = "loss"
    neighbours: Tuple[Neighbour, ...] = ()


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
    probabilities = torch.softmax(logits / model_temperature(archive.model), dim=-1)  # what the predictor says
    items = []
    for row, index in zip(probabilities, indices):
        path, label = dataset.samples[index]
        predicted = int(row.argmax())
        score = (float(-torch.log(row[labels.index(label)])) if label is not None else float(1.0 - row.max()))
        items.append(ReviewItem(path, relative_key(path, folder), label, labels[predicted], float(row[predicted]),
                                score, "loss" if label is not None else "uncertainty"))
    return sorted(items, key=lambda item: -item.score)


def rank_from_audit(report: "AuditReport", folder: Union[str, os.PathLike]) -> List[ReviewItem]:
    """The audited images under ``folder``, lowest label quality (out-of-sample probability of the
    given label) first, each with its suggested label and its :data:`NEIGHBOURS` nearest training images.

    Raises:
        ConfigurationError: the audit holds no image under ``folder``.
    """
    folder = Path(folder).resolve()
    root = report.root.resolve()
    under = [row for row in report.images.itertuples() if (root / row.path).is_relative_to(folder)]
    if not under:
        raise ConfigurationError(f"The audit of {report.root} holds no image under {folder}; give the cleaner a "
                                 "folder inside the audited one (e.g. its train/).")
    under = sorted(under, key=lambda row: row.score)
    nearest = report.neighbours([row.path for row in under], k=NEIGHBOURS).groupby("of", sort=False)
    neighbours = {path: tuple(Neighbour(str(report.root / near.path), near.label, near.similarity)
                              for near in rows.itertuples()) for path, rows in nearest}
    items = []
    for row in under:
        probability = float(report.probabilities[row.Index][report.classes.index(row.suggested_label)])
        items.append(ReviewItem(str(report.root / row.path), relative_key(root / row.path, folder), row.label,
                                row.suggested_label, probability, float(row.score), "label quality",
                                neighbours.get(row.path, ())))
    return items


class _Tile(widgets.VBox):
    """One image of the grid: the picture, what the audit (or the model) says, the nearest
    training images when there are, and the decision."""

    def __init__(self, item: ReviewItem, labels: List[str], decision: Optional[str], thumbnail_size: int) -> None:
        self.item = item
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{thumbnail_size}px", height="auto"))
        actual = html.escape(item.label) if item.label is not None else "<i>unlabelled</i>"
        verdict = "suggested" if item.neighbours else "predicted"
        self.caption = widgets.HTML(
            f"<div class='allencv-cleaner-caption' style='font-size: 12px; line-height: 1.3'>"
            f"{html.escape(item.key)}<br>label <b>{actual}</b> · {verdict} <b>{html.escape(item.predicted)}</b> "
            f"({item.probability:.2f})<br>{item.measure} {item.score:.2f}</div>")
        side = thumbnail_size // NEIGHBOURS - 4
        self.neighbour_images = [widgets.Image(value=png_bytes(read_image(near.path), side), format="png",
                                               layout=widgets.Layout(width=f"{side}px", height="auto"))
                                 for near in item.neighbours]
        near_row = [widgets.HTML(f"<div style='font-size: 11px'>nearest training images: "
                                 f"{', '.join(html.escape(near.label) for near in item.neighbours)}</div>"),
                    widgets.HBox(self.neighbour_images)] if item.neighbours else []
        verb = "relabel to" if item.label is not None else "label as"
        options = [("(no decision)", UNDECIDED), ("keep", KEEP), ("exclude", EXCLUDE)]
        options += [(f"{verb} {label}", relabel(label)) for label in labels if label != item.label]
        self.action = widgets.Dropdown(options=options, value=decision or UNDECIDED,
                                       layout=widgets.Layout(width=f"{thumbnail_size}px"))
        super().__init__([self.image, self.caption, *near_row, self.action], layout=widgets.Layout(margin="4px"))
        self.add_class("allencv-cleaner-tile")


class DatasetCleaner(SavedPicture, widgets.VBox):
    """fastai's ``ImageClassifierCleaner``, except that it ranks out of sample and never deletes or
    moves a file: the images of ``folder``, the likeliest label errors first, a grid of them with
    the label, the suggested label and its probability, the three nearest training images with
    their labels (why the audit thinks so), and per image a choice of *keep*, *exclude* or
    *relabel to ...*. Every choice is saved at once to ``cleaning_file`` (atomically; see
    :mod:`allencv_lite.data.cleaning`), with the image's path relative to ``folder`` as the key,
    and the decisions already there are shown when the cleaner is opened again. Train on the
    cleaned data by giving the reader ``"cleaning_file"``.

    One line in a notebook: ``DatasetCleaner(audit("data"), "data/train")``. A saved notebook
    shows a picture of the page last shown, with each tile's decision (see :class:`SavedPicture`).

    Args:
        source: an :class:`~allencv_lite.audit.report.AuditReport` of a folder holding ``folder``
            (ranked by label quality: the out-of-sample probability of the given label, lowest
            first), or, with ``in_sample=True``, a trained archive (ranked by its model's loss
            on ``folder``, which it may have trained on; its validation reader prepares the images).
        folder: ``<folder>/<label>/<image>``; with an archive also a folder of unlabelled images
            (ranked by uncertainty, offering *label as ...*).
        cleaning_file: where decisions are kept; created at the first decision.
        num_images: images per page; ``ncols``: tiles per row.
        heatmap: start with the Grad-CAM heatmap of the predicted label over each picture (an
            archive's model only).
        thumbnail_size: width of each tile's picture, in pixels.
        in_sample: the explicit choice to rank by an archive's in-sample loss; the panel then
            says in one line what that ranking means.

    Attributes:
        items: every :class:`ReviewItem`, most suspicious first; ``page``: the page shown (from 0).
        tiles: the tiles of this page, each with ``item``, ``image``, ``caption``,
            ``neighbour_images`` and ``action`` (the ``Dropdown`` of decisions);
            ``decisions``: the :class:`CleaningDecisions`.
        heatmap_toggle: the ``Checkbox`` for the heatmaps; ``ranking``: the line saying how the
            images are ranked; ``status``: the line saying what was saved.

    Raises:
        ConfigurationError: an archive without ``in_sample=True``, a malformed ``cleaning_file``,
            a label the model does not know, no readable image in ``folder``, or an audit
            holding no image under it.
    """

    def __init__(self, source: Union["AuditReport", Archive], folder: Union[str, os.PathLike],
                 cleaning_file: Union[str, os.PathLike] = "cleaning.json", num_images: int = 12, ncols: int = 4,
                 heatmap: bool = False, thumbnail_size: int = 160, in_sample: bool = False) -> None:
        self.folder = Path(folder)
        self.archive = source if isinstance(source, Archive) else None
        if self.archive is not None and not in_sample:
            raise ConfigurationError(
                "DatasetCleaner(archive, ...) would rank by the loss of a model on images it may have trained on "
                "(in-sample), which finds what it failed to memorise, not what is mislabelled. Pass an audit "
                "instead, DatasetCleaner(audit(DATA_DIR), folder), or in_sample=True to rank by that loss anyway.")
        if self.archive is None and heatmap:
            raise ConfigurationError("heatmap=True needs a model: the Grad-CAM heatmap comes from an archive "
                                     "(DatasetCleaner(archive, folder, in_sample=True, heatmap=True)).")
        self.cleaning_file = Path(cleaning_file)
        self.decisions = CleaningDecisions.load(self.cleaning_file, missing_ok=True)
        self.num_images = num_images
        self.ncols = ncols
        self.thumbnail_size = thumbnail_size
        if self.archive is not None:
            vocab = self.archive.vocab
            self.labels = [vocab.get_token_from_index(i, DEFAULT_NAMESPACE)
                           for i in range(vocab.get_vocab_size(DEFAULT_NAMESPACE))]
            self.items = rank_for_review(self.archive, read_for_review(self.archive.dataset_reader, self.folder),
                                         self.folder)
            ranking = IN_SAMPLE_WARNING
        else:
            self.labels = list(source.classes)
            self.items = rank_from_audit(source, self.folder)
            ranking = (f"Ranked out of sample: each image by the probability of its label from a classifier that "
                       f"never saw it ({source.settings['folds']}-fold cross-validation on {source.backbone} "
                       "features); the lowest first.")
        self.page = 0
        self.tiles: List[_Tile] = []
        self._overlays: Dict[str, bytes] = {}
        self.heatmap_toggle = widgets.Checkbox(value=heatmap, description="Grad-CAM heatmap", indent=False,
                                               layout=widgets.Layout(display=None if self.archive else "none"))
        self.previous_button = widgets.Button(description="Previous", icon="arrow-left")
        self.next_button = widgets.Button(description="Next", icon="arrow-right")
        self.page_label = widgets.HTML()
        self.ranking = widgets.HTML(f"<div style='font-size: 12px'>{ranking}</div>")
        self.status = widgets.HTML(f"Decisions go to <code>{html.escape(str(self.cleaning_file))}</code> "
                                   f"({len(self.decisions)} there now); no file is deleted or moved.")
        self.grid = widgets.GridBox(layout=widgets.Layout(grid_template_columns=f"repeat({ncols}, auto)"))
        super().__init__([widgets.HBox([self.previous_button, self.next_button, self.page_label, self.heatmap_toggle]),
                          self.ranking, self.grid, self.status])
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
        """The page shown, as one JPEG readable at its stored size: each tile's picture (with its
        heatmap when ticked) under its name, label, suggestion and decision, with a strip of its
        nearest training images and their labels below when it has them; ``ncols`` tiles a row,
        260 pixels each, 9-point text."""
        columns = max(1, min(len(self.tiles), self.ncols))
        rows = max(1, -(-len(self.tiles) // columns))
        with_neighbours = any(tile.item.neighbours for tile in self.tiles)
        tile_height = 3.6 if with_neighbours else 3.0
        figure = Figure(figsize=(2.6 * columns, tile_height * rows + 0.4), dpi=100)
        figure.suptitle(f"page {self.page + 1} of {self.num_pages}, most suspicious first; "
                        f"{len(self.decisions)} decisions in {self.cleaning_file.name}", fontsize=10,
                        y=1 - 0.08 / figure.get_figheight())
        grid = figure.add_gridspec(rows * (2 if with_neighbours else 1), columns,
                                   height_ratios=[3, 1] * rows if with_neighbours else None)
        for index, tile in enumerate(self.tiles):
            row, column = divmod(index, columns)
            axes = figure.add_subplot(grid[row * (2 if with_neighbours else 1), column])
            axes.imshow(np.asarray(Image.open(io.BytesIO(tile.image.value)).convert("RGB")))
            axes.set_axis_off()
            item = tile.item
            verdict = "suggested" if item.neighbours else "predicted"
            decision = self.decisions.get(item.key) or "no decision"
            axes.set_title(f"{Path(item.key).name}\nlabel {item.label or '?'} · {verdict} {item.predicted} "
                           f"({item.probability:.2f})\n{item.measure} {item.score:.2f} · {decision}", fontsize=9)
            if item.neighbours:
                strip = figure.add_subplot(grid[row * 2 + 1, column])
                strip.imshow(np.hstack([square_thumbnail(read_image(near.path), NEIGHBOUR_SIDE) for near in item.neighbours]))
                strip.set_axis_off()
                strip.set_title("nearest: " + ", ".join(near.label for near in item.neighbours), fontsize=8)
        figure.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.9 / figure.get_figheight(),
                               hspace=0.45, wspace=0.08)
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

