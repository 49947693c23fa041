"""What an augmentation pipeline does to an image's size and pixel scale, worked out from the
transforms themselves, so that mistakes are found when the reader is built or when an image is
read, not as a crash in the middle of an epoch.

Three checks, each naming the step at fault by its key path (``augmentation[1].transforms[0]``):

- :func:`check_pixel_scale` (when the reader is built): every ``normalize`` divides by the
  largest value the pixels can have at that point (255 for the decoded ``uint8`` images, 1 after
  ``to_float``), so normalized values are never off by 255×.
- :func:`check_one_output_size` (when the reader is built): the pipeline gives every image of
  one size the same output size, so a batch can be stacked; a size-changing step applied with a
  probability below 1, or a ``one_of`` whose transforms give different sizes, is refused.
- :func:`size_problem` (for each image): no crop is larger than the image it gets.

Sizes are ``(height, width)`` in pixels. What each transform does to the size is the ``size``
trait declared where it is registered (:class:`~allencv_lite.data.augmentation.Traits`);
a transform declaring none is assumed to keep the size (flips, colour changes, noise, blur,
rotations that keep the frame).
"""
from typing import Any, Iterator, Optional, Sequence, Tuple, Union

import albumentations

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.augmentation import CROP, FIXED_SIZE, MAYBE_TURNED, RANDOM_SIZE, Augmentation, snake_case

Size = Tuple[int, int]

_CHOOSING = (albumentations.OneOf, albumentations.SomeOf, albumentations.OneOrOther)


def _size_trait(transform: Any) -> str:
    return Augmentation.traits_of_transform(transform).size


def describe(transform: Any, path: str) -> str:
    """``augmentation[1] ('center_crop')``: where a step is and what it is."""
    return f"{path} ('{snake_case(type(transform).__name__)}')"


def steps(transforms: Sequence[Any], path: str = "augmentation") -> Iterator[Tuple[str, Any]]:
    """``(key path, transform)`` of every step, depth first in order, compositions included."""
    for index, transform in enumerate(transforms):
        where = f"{path}[{index}]"
        yield where, transform
        if isinstance(transform, albumentations.BaseCompose):
            yield from steps(transform.transforms, f"{where}.transforms")


# ----- pixel scale -----

def check_pixel_scale(transforms: Sequence[Any], added_normalize: bool = False) -> None:
    """Refuse a ``normalize`` whose ``max_pixel_value`` is not the largest value pixels can have
    when they reach it: images enter as ``uint8`` 0-255; ``to_float`` divides by its
    ``max_value`` (255 for ``uint8``), ``from_float`` multiplies back to 0-255.

    Albumentations computes ``(pixel / max_pixel_value - mean) / std``, so ``to_float`` followed
    by a default ``normalize`` (``max_pixel_value: 255``), or ``max_pixel_value: 1`` on ``uint8``
    pixels, silently gives values 255 times too small or too large.

    Args:
        added_normalize: the last step is the ImageNet ``normalize`` the reader appended.

    Raises:
        ConfigurationError: naming the step, the scale the pixels have there, and the fix.
    """
    largest, scaled_by = 255.0, "images are decoded as uint8 0-255"
    for path, transform in steps(transforms):
        if isinstance(transform, albumentations.ToFloat):
            largest = largest / (transform.max_value or 255.0)
            scaled_by = f"{describe(transform, path)} scales them to 0-{largest:g}"
        elif isinstance(transform, albumentations.FromFloat):
            largest, scaled_by = float(transform.max_value or 255.0), f"{describe(transform, path)} scales them back"
        elif isinstance(transform, albumentations.Normalize) and transform.normalization == "standard":
            if abs(transform.max_pixel_value - largest) > 1e-6 * largest:
                added = (" (the ImageNet normalize the reader adds)"
                         if added_normalize and path == f"augmentation[{len(transforms) - 1}]" else "")
                raise ConfigurationError(
                    f"{describe(transform, path)}{added}: max_pixel_value is {transform.max_pixel_value:g}, but pixels "
                    f"reach it as 0-{largest:g} ({scaled_by}), so normalized values would be off by "
                    f"{max(largest, transform.max_pixel_value) / min(largest, transform.max_pixel_value):g}x. Set "
                    f"\"max_pixel_value\": {largest:g} on the normalize step, or remove the 'to_float' step "
                    "(normalize divides by max_pixel_value itself).")


# ----- one output size -----

class _RandomSize:
    """The size after a step that makes it random: where, and why."""

    def __init__(self, where: str, why: str) -> None:
        self.where, self.why = where, why


IMAGE = "each image's own size"
StaticSize = Union[Size, str, _RandomSize]  # fixed, IMAGE (a function of the image's size), or random


def check_one_output_size(transforms: Sequence[Any]) -> Optional[Size]:
    """The ``(height, width)`` every image comes out at, or ``None`` when it depends on the image
    (no resize or crop to a fixed size); either way, the same for images of the same size.

    Raises:
        ConfigurationError: a step makes the output size random and no later fixed-size step
            (``resize``, a crop) evens it out, so the images of one batch could not be stacked.
    """
    size = _static_sizes(transforms, IMAGE, "augmentation")
    if isinstance(size, _RandomSize):
        raise ConfigurationError(
            f"{size.where}: {size.why}, so images of one batch would come out in different sizes and could not be "
            "stacked. Give it \"p\": 1.0 (or the same size everywhere), or end the augmentation with a step that "
            "gives every image one size, such as {\"type\": \"resize\", \"height\": 224, \"width\": 224}.")
    return size if isinstance(size, tuple) else None


def _static_sizes(transforms: Sequence[Any], size: StaticSize, path: str) -> StaticSize:
    for index, transform in enumerate(transforms):
        size = _static_size(transform, size, f"{path}[{index}]")
    return size


def _static_size(transform: Any, size: StaticSize, path: str, applied_always: bool = False) -> StaticSize:
    """The size after ``transform`` (applied with its own ``p`` unless ``applied_always``)."""
    where = describe(transform, path)
    if isinstance(transform, _CHOOSING):
        choosing_weights = isinstance(transform, albumentations.OneOf)  # one_of's p of each child is only a weight
        outputs = [_static_size(child, size, f"{path}.transforms[{i}]", applied_always=choosing_weights)
                   for i, child in enumerate(transform.transforms)]
        random = next((output for output in outputs if isinstance(output, _RandomSize)), None)
        if random is not None:
            return random
        if len(set(map(str, outputs))) > 1:
            shown = ", ".join(sorted(set(_show(output) for output in outputs)))
            return _RandomSize(where, f"its transforms give different sizes ({shown})")
        after = outputs[0] if outputs else size
    elif isinstance(transform, albumentations.BaseCompose):
        after = _static_sizes(transform.transforms, size, f"{path}.transforms")
    elif _size_trait(transform) in (FIXED_SIZE, CROP):
        after = fixed_output_size(transform)
    elif _size_trait(transform) == RANDOM_SIZE or (
            isinstance(transform, (albumentations.SmallestMaxSize, albumentations.LongestMaxSize))
            and isinstance(transform.max_size, (list, tuple)) and len(set(transform.max_size)) > 1):
        return _RandomSize(where, "it changes the image size at random")
    elif _size_trait(transform) == MAYBE_TURNED and not (isinstance(size, tuple) and size[0] == size[1]):
        return _RandomSize(where, "it turns images by 90 degrees at random, which swaps height and width of "
                                  "images that are not square")
    elif isinstance(transform, albumentations.Transpose):
        after = (size[1], size[0]) if isinstance(size, tuple) else size
    elif isinstance(size, tuple):
        after = output_size([transform], *size)  # padding, longest/smallest max size: known for a known size
    else:
        after = size
    if isinstance(after, _RandomSize) or applied_always or transform.p >= 1 or str(after) == str(size):
        return after
    return _RandomSize(where, f"it is applied with probability {transform.p:g} and changes the size "
                              f"(from {_show(size)} to {_show(after)})")


def _show(size: StaticSize) -> str:
    return f"{size[0]}x{size[1]}" if isinstance(size, tuple) else str(size)


def fixed_output_size(transform: Any) -> Size:
    """``(height, width)`` of the output of a resize or crop, whatever its input."""
    if isinstance(transform, (albumentations.RandomResizedCrop, albumentations.RandomSizedCrop)):
        return tuple(transform.size)
    if isinstance(transform, albumentations.Crop):
        return transform.y_max - transform.y_min, transform.x_max - transform.x_min
    return transform.height, transform.width


# ----- each image's size -----

def size_problem(transforms: Sequence[Any], height: int, width: int) -> Optional[str]:
    """Why an image of ``height`` × ``width`` pixels cannot go through ``transforms`` (a crop
    larger than the image reaching it, where the crop does not pad), or ``None`` if it can.

    Where randomness picks the size (a step applied with ``p`` below 1, ``one_of``), the
    smallest size the image may have at each step is checked, so an image that passes never
    fails however the dice fall.
    """
    try:
        output_size(transforms, height, width)
    except _TooSmall as error:
        return str(error)
    return None


class _TooSmall(Exception):
    pass


def output_size(transforms: Sequence[Any], height: int, width: int, path: str = "augmentation") -> Size:
    """The smallest ``(height, width)`` an image of this size may have after ``transforms``.

    Raises:
        _TooSmall: a crop that does not pad gets an image smaller than itself.
    """
    size = (height, width)
    for index, transform in enumerate(transforms):
        size = _smallest_size(transform, size, f"{path}[{index}]")
    return size


def _smallest_size(transform: Any, size: Size, path: str) -> Size:
    height, width = size
    if isinstance(transform, _CHOOSING):
        outputs = [_smallest_size(child, size, f"{path}.transforms[{i}]") for i, child in enumerate(transform.transforms)]
        after = (min(h for h, _ in outputs), min(w for _, w in outputs)) if outputs else size
    elif isinstance(transform, albumentations.BaseCompose):
        after = output_size(transform.transforms, height, width, f"{path}.transforms")
    elif _size_trait(transform) == CROP:
        needed = ((transform.y_max, transform.x_max) if isinstance(transform, albumentations.Crop)
                  else (transform.height, transform.width))
        if (height < needed[0] or width < needed[1]) and not getattr(transform, "pad_if_needed", False):
            raise _TooSmall(f"{width}x{height} pixels (width x height) when it reaches {describe(transform, path)}, "
                            f"which needs at least {needed[1]}x{needed[0]}; put a resize before the crop, or give "
                            "the crop \"pad_if_needed\": true")
        after = fixed_output_size(transform)
    elif _size_trait(transform) == FIXED_SIZE:
        after = fixed_output_size(transform)
    elif isinstance(transform, albumentations.PadIfNeeded):
        after = (max(height, transform.min_height or 0), max(width, transform.min_width or 0))
    elif isinstance(transform, (albumentations.SmallestMaxSize, albumentations.LongestMaxSize)) and transform.max_size:
        target = min(transform.max_size) if isinstance(transform.max_size, (list, tuple)) else transform.max_size
        side = min(height, width) if isinstance(transform, albumentations.SmallestMaxSize) else max(height, width)
        after = (max(1, round(height * target / side)), max(1, round(width * target / side)))
    elif isinstance(transform, albumentations.RandomScale):
        smallest = 1 + min(transform.scale_limit)
        after = (max(1, int(height * smallest)), max(1, int(width * smallest)))
    elif _size_trait(transform) == MAYBE_TURNED or isinstance(transform, albumentations.Transpose):
        after = (min(size), min(size))
    else:
        after = size
    if transform.p >= 1:
        return after
    return min(after[0], height), min(after[1], width)  # the step may not run
