"""The one image decoder: any file Pillow reads becomes an RGB ``uint8`` array."""
import os
import warnings
from typing import BinaryIO, Optional, Tuple, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class UnreadableImageError(Exception):
    """A file that cannot be decoded as an image; ``reason`` is a short category."""

    def __init__(self, path: Union[str, os.PathLike, BinaryIO], reason: str, detail: str = "") -> None:
        path = path if isinstance(path, (str, os.PathLike)) else "<image bytes>"
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}" + (f" ({detail})" if detail else ""))


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB.

    Transparent pixels (RGBA, LA, palette with transparency) are composited onto white,
    as a browser shows them; 16-bit images are scaled to 8 bits; CMYK and grayscale are
    converted by Pillow's own conversions.
    """
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray((array / peak * 255.0).round().clip(0, 255).astype(np.uint8))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("RGB") if image.mode != "RGB" else image


def read_image(path: Union[str, os.PathLike, BinaryIO], draft_size: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """Decode ``path`` (a file name or a binary file object) into an array of shape ``(height, width, 3)``, dtype ``uint8``, RGB.

    EXIF orientation is applied; GIFs give their first frame.

    Args:
        path: image file.
        draft_size: ``(width, height)`` in pixels; if given, JPEGs may be decoded at a
            reduced scale no smaller than this (Pillow's draft mode), which is much faster
            when the first transform shrinks the image anyway.

    Raises:
        UnreadableImageError: empty, truncated, not an image, too large (Pillow's
            decompression-bomb limit), or unreadable from disk.
    """
    try:
        if isinstance(path, (str, os.PathLike)) and os.path.getsize(path) == 0:
            raise UnreadableImageError(path, "empty file")
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if draft_size is not None and image.format == "JPEG":
                    image.draft("RGB", draft_size)
                image = ImageOps.exif_transpose(image)
                image.load()
                return np.asarray(to_rgb(image))
    except UnreadableImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UnreadableImageError(path, "too large", str(error)) from None
    except UnidentifiedImageError:
        raise UnreadableImageError(path, "not an image") from None
    except OSError as error:
        reason = "truncated or corrupt" if "truncated" in str(error) or "broken" in str(error) else "unreadable"
        raise UnreadableImageError(path, reason, str(error)) from None
    except (ValueError, SyntaxError) as error:
        raise UnreadableImageError(path, "corrupt", str(error)) from None
