"""The one image decoder: any file Pillow reads becomes an RGB ``uint8`` array.

Rules (the README's "Data" section says the same for learners):

- Every colour mode becomes 3-channel RGB: grayscale is repeated, CMYK is converted by
  Pillow (Adobe's inverted CMYK included), 16-bit images are scaled to 8 bits, and
  transparency (RGBA, LA, palette with a transparent colour) is composited onto **white**,
  the way a browser shows such a picture.
- The EXIF orientation tag is applied, so a phone photo is upright; GIFs give their first frame.
- A file that cannot be decoded raises :class:`UnreadableImageError` with a short ``reason``
  (one of :data:`REASONS`), which readers count and report instead of crashing.

Pillow reads every header and decides; the pixels of the commonest file, an upright
(no EXIF rotation) colour JPEG, are decoded by OpenCV's ``imdecode``, about 1.2x Pillow's speed
here and the same pixels (both run libjpeg-turbo; measured equal on the Cats-vs-Dogs photos
and checked by the tests). Every other file, and any JPEG OpenCV refuses, goes through Pillow,
which then gives the reason.
"""
import contextlib
import io
import os
import re
from typing import BinaryIO, Iterator, Optional, Tuple, Union

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from allencv_lite.common.checks import ConfigurationError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")

EMPTY, MISSING, NO_PERMISSION, NOT_AN_IMAGE, TRUNCATED, CORRUPT, TOO_LARGE = (
    "empty file", "missing file", "permission denied", "not an image", "truncated", "corrupt", "too large")
REASONS = (EMPTY, MISSING, NO_PERMISSION, NOT_AN_IMAGE, TRUNCATED, CORRUPT, TOO_LARGE)

# The same causes told to the person at the demo page, each with its reason's words (one wording for
# one cause: the command line says "cat.jpg: empty file", the page "That is an empty file: ...").
_READABLE_FORMATS = "JPEG, PNG, GIF, BMP, TIFF or WebP"
_FOR_PEOPLE = {
    EMPTY: f"That is an empty file: there is no picture in it. Choose a {_READABLE_FORMATS} picture.",
    MISSING: "That is a missing file: it is no longer where it was. Choose it again.",
    NO_PERMISSION: "That file cannot be opened (permission denied). Choose another picture.",
    NOT_AN_IMAGE: f"That file is not an image we can read. Choose a {_READABLE_FORMATS} picture.",
    TRUNCATED: "That picture is truncated: the file ends early, as an unfinished download does. Try another copy.",
    CORRUPT: "That picture is corrupt: its data cannot be decoded. Try another copy.",
    TOO_LARGE: "That picture is too large: it has more than {limit:,} pixels, the limit that protects the server "
               "from decompression bombs.",
}

# EXIF orientations that swap width and height (transpose, rotate 90/270, transverse).
_SIDEWAYS_ORIENTATIONS = (5, 6, 7, 8)

# OpenCV's flags for libjpeg's reduced scales (the DCT itself scaled by 1/2, 1/4, 1/8, as Pillow's
# ``draft`` does), in RGB order: the ``REDUCED_GRAYSCALE`` flags carry only the scale.
_OPENCV_RGB_AT_SCALE = {1: cv2.IMREAD_COLOR_RGB, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2 | cv2.IMREAD_COLOR_RGB,
                        4: cv2.IMREAD_REDUCED_GRAYSCALE_4 | cv2.IMREAD_COLOR_RGB,
                        8: cv2.IMREAD_REDUCED_GRAYSCALE_8 | cv2.IMREAD_COLOR_RGB}

ImageSource = Union[str, os.PathLike, BinaryIO]


class UnreadableImageError(Exception):
    """A file that cannot be decoded as an image.

    Attributes:
        path: the file (``"<image bytes>"`` for a file object).
        reason: a short category from :data:`REASONS` (or a reader's own, such as
            ``"smaller than a crop"``), used to count skipped files.
        detail: the underlying error message and, where there is one, the fix.
    """

    def __init__(self, path: ImageSource, reason: str, detail: str = "") -> None:
        self.path = str(path) if isinstance(path, (str, os.PathLike)) else "<image bytes>"
        self.reason = reason
        self.detail = detail
        super().__init__(f"{self.path}: {reason}" + (f" ({detail})" if detail else ""))

    def for_people(self) -> str:
        """The cause as one sentence for someone who picked the file in a browser, with the
        same reason words as the error message (``"That is an empty file: ..."``); a reason
        given by a reader (such as ``"smaller than a crop"``) keeps the message itself."""
        if self.reason not in _FOR_PEOPLE:
            return str(self)
        return _FOR_PEOPLE[self.reason].format(limit=Image.MAX_IMAGE_PIXELS)


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB (returns ``image`` itself when it already is RGB).

    Transparent pixels (RGBA, LA, PA, palette with transparency) are composited onto
    white; 16-bit grayscale (``I;16``, and ``I`` with values above 255) is scaled from
    0-65535 to 0-255; CMYK, grayscale, palette and bilevel images use Pillow's conversions.
    """
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float32)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray((array * (255.0 / peak)).round().clip(0, 255).astype(np.uint8))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("RGB") if image.mode != "RGB" else image


def to_upright_rgb_array(image: Image.Image, in_place: bool = False) -> np.ndarray:
    """A PIL image as an RGB ``uint8`` array ``(height, width, 3)`` by this module's rules:
    the EXIF orientation applied, then :func:`to_rgb`. Every entry point that receives a PIL
    image (the predictor, the widgets) goes through here, as :func:`read_image` does.

    Args:
        image: any Pillow image, e.g. from ``Image.open("phone.jpg")``.
        in_place: turn ``image`` itself upright (saves a copy of a freshly opened file);
            false leaves a caller's image as it was.

    Returns:
        a writable array of its own (``np.asarray`` of a PIL image is read-only, and torch warns
        about, and cannot protect, tensors made from read-only arrays).
    """
    if in_place:
        ImageOps.exif_transpose(image, in_place=True)  # no copy when upright
    else:
        image = ImageOps.exif_transpose(image)
    return np.array(to_rgb(image))


def array_to_rgb(image: np.ndarray) -> np.ndarray:
    """An image array as ``uint8`` RGB ``(height, width, 3)``, by one rule for every entry point
    that takes arrays (the predictor, the widgets): ``(height, width, 3)`` is kept as it is,
    grayscale ``(height, width)`` repeated into three channels.

    Raises:
        ConfigurationError: pixels that are not ``uint8``, or another shape; says how to convert.
    """
    if image.dtype != np.uint8:
        raise ConfigurationError(f"Image arrays must be uint8 (0-255), got {image.dtype}; "
                                 "e.g. (array * 255).round().astype(np.uint8) for floats in [0, 1].")
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ConfigurationError(f"Image arrays must have shape (height, width, 3) RGB or (height, width), "
                                 f"got {image.shape}.")
    return image


@contextlib.contextmanager
def _decoding(path: ImageSource) -> Iterator[None]:
    """Turn whatever Pillow or the file system raises while reading ``path`` into
    :class:`UnreadableImageError` with a reason (Pillow raises many types on corrupt data)."""
    try:
        if _is_empty(path):
            raise UnreadableImageError(path, EMPTY)
        yield
    except UnreadableImageError:
        raise
    except FileNotFoundError:
        raise UnreadableImageError(path, MISSING, "no such file; a broken symbolic link?") from None
    except PermissionError as error:
        raise UnreadableImageError(path, NO_PERMISSION, str(error)) from None
    except Image.DecompressionBombError as error:
        raise UnreadableImageError(path, TOO_LARGE, _too_large_detail(str(error))) from None
    except UnidentifiedImageError:
        raise UnreadableImageError(path, NOT_AN_IMAGE, "Pillow recognises no image format in it") from None
    except Exception as error:  # noqa: BLE001 - corrupt data makes Pillow raise OSError, SyntaxError, struct.error...
        reason = TRUNCATED if "truncated" in str(error).lower() else CORRUPT
        raise UnreadableImageError(path, reason, f"{type(error).__name__}: {error}") from None


def _is_empty(path: ImageSource) -> bool:
    """Whether the file, or what is left of a binary file object, holds no bytes."""
    if isinstance(path, (str, os.PathLike)):
        return os.path.getsize(path) == 0
    if not path.seekable():
        return False
    position = path.tell()
    empty = not path.read(1)
    path.seek(position)
    return empty


def _too_large_detail(pillow_message: str) -> str:
    """The detail of a ``TOO_LARGE`` error: the image's size and *the* limit,
    ``PIL.Image.MAX_IMAGE_PIXELS``. Pillow's own error, raised when an image is over twice
    that limit, quotes the doubled number; quoting it would make two limits for one rule."""
    size = re.search(r"\((\d+) pixels\)", pillow_message)
    pixels = f"{int(size.group(1)):,} pixels" if size else "the image"
    return (f"{pixels} > PIL.Image.MAX_IMAGE_PIXELS = {Image.MAX_IMAGE_PIXELS:,}, Pillow's decompression-bomb "
            "limit; if you trust this file, raise PIL.Image.MAX_IMAGE_PIXELS before reading")


def _refuse_bombs(image: Image.Image) -> None:
    """Raise Pillow's ``DecompressionBombError`` above ``PIL.Image.MAX_IMAGE_PIXELS``.

    Pillow itself only warns between 1x and 2x that limit; checking here, rather than by
    turning the warning into an error with ``warnings.catch_warnings`` (which is not
    thread-safe), skips every image above the limit.
    """
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and image.width * image.height > limit:
        raise Image.DecompressionBombError(
            f"Image size ({image.width * image.height} pixels) exceeds limit of {limit} pixels, "
            "which could be a decompression bomb DOS attack.")


def check_image(path: ImageSource) -> None:
    """Cheaply check that ``path`` looks like a readable image, reading only its header.

    Finds empty, missing, non-image and too-large files (about 0.1 ms per file); a
    truncated or corrupt body is only found when the pixels are decoded by :func:`read_image`.

    Raises:
        UnreadableImageError: the file certainly cannot be decoded.
    """
    with _decoding(path), Image.open(path) as image:
        _refuse_bombs(image)


def read_image(path: ImageSource, draft_size: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """Decode ``path`` (a file name or a binary file object) into an RGB ``uint8`` array
    of shape ``(height, width, 3)``, following the module's rules (EXIF orientation applied,
    alpha composited onto white, first GIF frame).

    Args:
        path: image file.
        draft_size: ``(width, height)`` in pixels of the upright image; if given, a JPEG is
            decoded at the smallest of libjpeg's reduced scales (1/2, 1/4, 1/8) that is still
            at least this large (Pillow's draft mode, done inside libjpeg's DCT), which is
            much faster when the first transform shrinks the image anyway.

    Raises:
        UnreadableImageError: empty, missing, truncated, corrupt, not an image, or larger
            than Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``).
    """
    with _decoding(path):
        data = _read_bytes(path)
        with Image.open(io.BytesIO(data)) as image:
            _refuse_bombs(image)
            orientation = image.getexif().get(ExifTags.Base.Orientation) if image.format == "JPEG" else None
            stored_draft_size = _as_stored(draft_size, orientation)
            if image.format == "JPEG" and image.mode == "RGB" and orientation in (None, 1):
                flags = _OPENCV_RGB_AT_SCALE[_draft_scale(image.size, stored_draft_size)] | cv2.IMREAD_IGNORE_ORIENTATION
                pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
                if pixels is not None:  # None: truncated or corrupt; Pillow below names which
                    return pixels
            if stored_draft_size is not None and image.format == "JPEG":
                image.draft("RGB", stored_draft_size)
            image.load()
            return to_upright_rgb_array(image, in_place=True)


def _read_bytes(path: ImageSource) -> bytes:
    """The whole file (or what is left of a binary file object)."""
    if isinstance(path, (str, os.PathLike)):
        with open(path, "rb") as file:
            return file.read()
    return path.read()


def _as_stored(draft_size: Optional[Tuple[int, int]], orientation: Optional[int]) -> Optional[Tuple[int, int]]:
    """``draft_size`` (width, height of the upright image) as the file stores it: swapped when
    the EXIF orientation turns the picture sideways."""
    if draft_size is None or orientation not in _SIDEWAYS_ORIENTATIONS:
        return draft_size
    return draft_size[1], draft_size[0]


def _draft_scale(size: Tuple[int, int], draft_size: Optional[Tuple[int, int]]) -> int:
    """The largest of libjpeg's reduced scales (1, 2, 4, 8) that keeps a JPEG of ``size`` (width,
    height, as stored) at least ``draft_size`` in both sides: what Pillow's
    ``JpegImageFile.draft`` chooses."""
    if draft_size is None:
        return 1
    largest = min(size[0] // draft_size[0], size[1] // draft_size[1])
    return next((scale for scale in (8, 4, 2) if largest >= scale), 1)
