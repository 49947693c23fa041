"""Arrays and figures to PNG or JPEG bytes, the formats ``ipywidgets.Image`` and saved notebooks show
in every browser."""
import io
import os
from typing import Union

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from allencv_lite.data.image_loading import array_to_rgb, read_image, to_upright_rgb_array

ImageSource = Union[str, os.PathLike, np.ndarray, Image.Image]


def as_rgb_array(image: ImageSource) -> np.ndarray:
    """A file path, PIL image or array as a ``uint8`` RGB array ``(height, width, 3)``, by the
    rules the predictor uses (``read_image``, ``to_upright_rgb_array``, ``array_to_rgb``).

    Raises:
        UnreadableImageError: a path that is not a readable image (see ``read_image``).
        ConfigurationError: an array that is not ``uint8`` ``(height, width, 3)`` or ``(height, width)``.
    """
    if isinstance(image, Image.Image):
        return to_upright_rgb_array(image)
    if isinstance(image, np.ndarray):
        return array_to_rgb(image)
    return read_image(image)


def thumbnail(image: np.ndarray, max_side: int) -> np.ndarray:
    """A ``uint8`` ``(height, width, 3)`` array shrunk (aspect kept) so that neither side exceeds
    ``max_side`` pixels; smaller images are not enlarged."""
    picture = Image.fromarray(image)
    picture.thumbnail((max_side, max_side))
    return np.asarray(picture)


def png_bytes(image: np.ndarray, max_side: int) -> bytes:
    """Encode a ``uint8`` ``(height, width, 3)`` array as PNG, shrunk as :func:`thumbnail` does."""
    buffer = io.BytesIO()
    Image.fromarray(thumbnail(image, max_side)).save(buffer, format="PNG")
    return buffer.getvalue()


def figure_bytes(figure: Figure, image_format: str = "png") -> bytes:
    """A matplotlib figure encoded as ``"png"`` (line art) or ``"jpeg"`` (photos: a few times
    smaller; quality 80), at the figure's own size and dpi."""
    buffer = io.BytesIO()
    options = {"pil_kwargs": {"quality": 80}} if image_format == "jpeg" else {}
    figure.savefig(buffer, format=image_format, **options)
    return buffer.getvalue()
