"""Test-time augmentation: predict from a few fixed views of each image and average the
probabilities (fastai's ``Learner.tta``; the ten-crop evaluation of Krizhevsky et al. 2012 and
Simonyan & Zisserman 2015, section 3.2, is the same idea).

The views are deterministic and act on the prepared batch ``(batch, 3, height, width)``, after
the validation reader's resize and normalization, so every reader and model accepts them::

    probabilities = average_probabilities(model, images, ["flip", "center_crop"])  # 3 views

Each name adds views to the original image: ``flip`` the mirror image (left-right);
``center_crop`` the central ``CROP_FRACTION`` of the height and width, resized back to the
original size; ``corner_crops`` the same-sized crops at the four corners, resized back. Each
view costs one more forward pass.
"""
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn.functional

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.models.model import Model

CROP_FRACTION = 0.875  # 224 of 256, the resize-then-crop ratio of ImageNet evaluation


def _crop_and_resize(images: torch.Tensor, top_fraction: float, left_fraction: float) -> torch.Tensor:
    """The ``CROP_FRACTION`` crop whose top-left corner lies at these fractions of the free
    margin (0: top/left edge, 0.5: centred, 1: bottom/right edge), bilinearly resized back to
    ``(height, width)``."""
    height, width = images.shape[-2:]
    crop_height, crop_width = round(height * CROP_FRACTION), round(width * CROP_FRACTION)
    top, left = round((height - crop_height) * top_fraction), round((width - crop_width) * left_fraction)
    crop = images[..., top:top + crop_height, left:left + crop_width]
    return torch.nn.functional.interpolate(crop, size=(height, width), mode="bilinear", align_corners=False)


VIEWS: Dict[str, Callable[[torch.Tensor], List[torch.Tensor]]] = {
    "flip": lambda images: [torch.flip(images, dims=[-1])],
    "center_crop": lambda images: [_crop_and_resize(images, 0.5, 0.5)],
    "corner_crops": lambda images: [_crop_and_resize(images, top, left) for top in (0, 1) for left in (0, 1)],
}


def check_tta(tta: Optional[Sequence[str]], path: str = "tta") -> List[str]:
    """``tta`` as a list of view names (``None``: no augmentation, ``[]``).

    Raises:
        ConfigurationError: ``tta`` is not a list of names, or a name is not in ``VIEWS``
            (the message names it and lists the known ones).
    """
    if tta is None:
        return []
    if isinstance(tta, str) or not all(isinstance(name, str) for name in tta):
        raise ConfigurationError(f"{path}: expected a list of view names such as [\"flip\"], got {tta!r}.")
    unknown = [name for name in tta if name not in VIEWS]
    if unknown:
        raise ConfigurationError(f"{path}: unknown test-time augmentation {unknown}; choose from {sorted(VIEWS)}.")
    return list(tta)


def augmented_views(images: torch.Tensor, tta: Sequence[str]) -> List[torch.Tensor]:
    """The original batch ``(batch, 3, height, width)`` followed by the views each name of
    ``tta`` adds, each of the same shape."""
    return [images] + [view for name in tta for view in VIEWS[name](images)]


def average_probabilities(model: Model, images: torch.Tensor, tta: Sequence[str] = ()) -> torch.Tensor:
    """The model's ``probs`` ``(batch, num_labels)`` averaged over :func:`augmented_views`
    (one forward pass per view, without gradients; with no ``tta``, one pass)."""
    with torch.inference_mode():
        return torch.stack([model(image=view)["probs"].float() for view in augmented_views(images, tta)]).mean(0)
