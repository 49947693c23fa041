"""Arrays to PNG bytes, the format ``ipywidgets.Image`` shows in every browser."""
import io
import os
from typing import Union

import numpy as np
from PIL import Image

from allencv_lite.data.image_loading import read_image, to_upright_rgb_array

ImageSource = Union[str, os.PathLike, np.ndarray, Image.Image]


def as_rgb_array(image: ImageSource) -> np.ndarray:
    """A file path, PIL image or array as a ``uint8`` RGB array ``(height, width, 3)``.

    Raises:
        UnreadableImageError: a path that is not a readable image (see ``read_image``).
        ValueError: an array that is not ``uint8`` ``(height, width, 3)``.
    """
    if isinstance(image, Image.Image):
        return to_upright_rgb_array(image)
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected a uint8 array of shape (height, width, 3), got {image.dtype} {image.shape}")
        return image
    return read_image(image)


def png_bytes(image: np.ndarray, max_side: int) -> bytes:
    """Encode a ``uint8`` ``(height, width, 3)`` array as PNG, shrunk (aspect kept) so that
    neither side exceeds ``max_side`` pixels; smaller images are not enlarged."""
    picture = Image.fromarray(image)
    picture.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()
