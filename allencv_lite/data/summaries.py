"""Looking at a dataset in a notebook: how many images per class, and a grid of samples."""
import collections
import random
from typing import Optional

import albumentations
import numpy as np
import pandas
from matplotlib import pyplot
from matplotlib.figure import Figure

from allencv_lite.data.dataset import ImageDataset
from allencv_lite.data.augmentation_pipeline import AugmentationPipeline
from allencv_lite.data.image_loading import UnreadableImageError


def class_counts(dataset: ImageDataset) -> pandas.DataFrame:
    """Images per label, as a table indexed by ``label`` (sorted) with columns ``count``
    (images) and ``fraction`` (of all labelled images, 0-1).

    Unlabelled samples are not counted; files the reader skipped are not in the dataset.
    """
    counts = collections.Counter(label for label in dataset.labels if label is not None)
    table = pandas.DataFrame({"count": pandas.Series(counts, dtype="int64")}).sort_index()
    table.index.name = "label"
    table["fraction"] = table["count"] / max(int(table["count"].sum()), 1)
    return table


def plot_samples(dataset: ImageDataset, num_images: int = 16, columns: int = 4, augmented: bool = False,
                 seed: Optional[int] = 0, image_size: float = 2.5) -> Figure:
    """A grid of randomly chosen images with their labels as titles.

    Args:
        dataset: the images to draw from.
        num_images: how many to show (fewer if the dataset is smaller).
        columns: images per row.
        augmented: show each image as the model receives it (after the reader's
            augmentation, with the normalization undone so colours look natural) instead of
            as decoded from the file.
        seed: which images are picked (``None``: different ones on each call).
        image_size: width and height of each cell, in inches.

    Returns:
        the matplotlib ``Figure``, left open: a notebook shows it once at the end of the cell
        (write ``figure = plot_samples(...)`` so that it is not also shown as the cell's value), and
        ``figure.savefig("samples.png")`` or ``pyplot.savefig`` saves it.

    Unreadable images get a title saying so instead of a picture.

    Raises:
        ValueError: the dataset is empty.
    """
    if not len(dataset):
        raise ValueError("The dataset is empty; there is nothing to plot.")
    indices = random.Random(seed).sample(range(len(dataset)), min(num_images, len(dataset)))
    rows = -(-len(indices) // columns)
    figure, axes = pyplot.subplots(rows, columns, figsize=(columns * image_size, rows * image_size), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, index in zip(axes.flat, indices):
        path, label = dataset.samples[index]
        title = label if label is not None else "(no label)"
        try:
            image = dataset.pipeline.load_image(path)
        except UnreadableImageError as error:
            axis.set_title(f"{title}\n(unreadable: {error.reason})", fontsize=10)
            continue
        axis.imshow(_model_view(dataset.pipeline, image) if augmented else image)
        axis.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


def _model_view(pipeline: AugmentationPipeline, image: np.ndarray) -> np.ndarray:
    """``image`` after the augmentation ``pipeline``, as ``(height, width, 3)`` floats 0-1 for ``imshow``."""
    tensor = pipeline.image_to_tensor(image)  # (3, height, width), normalized
    view = tensor.permute(1, 2, 0).numpy()
    normalize = next(t for t in pipeline.transforms if isinstance(t, albumentations.Normalize))
    if normalize.normalization == "standard":  # x = (pixel / max_pixel_value - mean) / std
        view = view * np.asarray(normalize.std) + np.asarray(normalize.mean)
    else:  # per-image statistics cannot be undone; stretch to 0-1
        view = (view - view.min()) / max(float(view.max() - view.min()), 1e-8)
    return view.clip(0.0, 1.0)
