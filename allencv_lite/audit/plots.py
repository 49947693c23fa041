"""The worst label issues of an audit as pictures, each with the training images that explain it."""
from typing import TYPE_CHECKING, Any, Optional, Tuple

import numpy as np

from allencv_lite.data.image_loading import read_image

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NEIGHBOUR_SIDE = 96  # pixels of each nearest-image thumbnail


def square_thumbnail(image: np.ndarray, side: int) -> np.ndarray:
    """``image`` ``(height, width, 3)`` resized to ``(side, side, 3)`` (aspect not kept), for a strip."""
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((side, side), Image.BILINEAR))


def plot_label_issues(report: Any, k: int = 6, ncols: int = 3,
                      figsize: Optional[Tuple[float, float]] = None, neighbours: int = 3) -> "Figure":
    """A grid of the ``k`` worst label issues: each image titled with its label, the suggested
    label and the score (the out-of-sample probability of its label), above a strip of its
    ``neighbours`` nearest training images titled with their labels. ``report`` is an
    :class:`~allencv_lite.audit.report.AuditReport` (not imported here: the report imports this module).

    Returns:
        the matplotlib ``Figure``, left open as the other plot helpers' are: a notebook shows it
        once at the end of the cell, and ``figure.savefig`` writes it.
    """
    import matplotlib.pyplot as plt

    worst = report.label_issues.head(k)
    ncols = max(1, min(ncols, len(worst)))
    nrows = max(1, -(-len(worst) // ncols))
    figure = plt.figure(figsize=figsize or (3.0 * ncols, 4.0 * nrows), dpi=100)
    grid = figure.add_gridspec(2 * nrows, ncols, height_ratios=[3, 1] * nrows)
    nearest = report.neighbours(list(worst.path), k=neighbours) if len(worst) else None
    for index, issue in enumerate(worst.itertuples()):
        row, column = divmod(index, ncols)
        axes = figure.add_subplot(grid[2 * row, column])
        axes.imshow(read_image(report.root / issue.path))
        axes.set_axis_off()
        axes.set_title(f"{issue.path.rsplit('/', 1)[-1]}: labelled {issue.label}\n"
                       f"looks like {issue.suggested_label} (score {issue.score:.2f})", fontsize=9)
        close = nearest[nearest["of"] == issue.path]
        strip = figure.add_subplot(grid[2 * row + 1, column])
        strip.imshow(np.hstack([square_thumbnail(read_image(report.root / path), NEIGHBOUR_SIDE)
                                for path in close.path]))
        strip.set_axis_off()
        strip.set_title("nearest training images: " + ", ".join(close.label), fontsize=8)
    height = figure.get_figheight()
    figure.suptitle("Likeliest label errors (out of sample), worst first", y=1 - 0.1 / height)
    figure.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.85 / height, hspace=0.5, wspace=0.1)
    return figure
