"""Base classes for dataset readers: a reader turns a path into an :class:`ImageDataset`."""
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import albumentations
import numpy as np
import torch
from albumentations.pytorch import ToTensorV2

from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable
from allencv_lite.data.augmentation import IMAGENET_MEAN, IMAGENET_STD, Augmentation, has_normalize
from allencv_lite.data.dataset import ImageDataset, Sample
from allencv_lite.data.image_loading import read_image


class DatasetReader(Registrable, FromParams):
    """Reads a dataset from a path (registered by name, e.g. ``image_classification_directory``)."""

    def read(self, file_path: Union[str, os.PathLike]) -> ImageDataset:
        """The dataset found at ``file_path``."""
        raise NotImplementedError


class ImageDatasetReader(DatasetReader):
    """A reader that owns decoding and augmentation of images.

    The model always receives ``float32`` tensors of shape ``(3, height, width)``,
    normalized exactly once: if ``augmentation`` has no ``normalize`` step, ImageNet's
    mean and std (``IMAGENET_MEAN``, ``IMAGENET_STD``, on 0-255 pixel values) are appended,
    since pretrained backbones expect them. ``ToTensorV2`` (HWC -> CHW) is always added last.

    Args:
        augmentation: albumentations transforms, applied in order (see
            :mod:`allencv_lite.data.augmentation` for the names).
        lazy: read images from disk on each access (memory flat in dataset size) instead of
            decoding them all once into memory.
    """

    def __init__(self, augmentation: Optional[List[Augmentation]] = None, lazy: bool = False) -> None:
        transforms = list(augmentation or [])
        self.draft_size = self._draft_size(transforms)
        if not has_normalize(transforms):
            transforms.append(albumentations.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD))
        self.lazy = lazy
        self.transforms = transforms
        seed = int(torch.randint(2**31 - 1, ()).item())  # follows torch.manual_seed
        self._pipeline = albumentations.Compose(transforms + [ToTensorV2()], seed=seed)

    @staticmethod
    def _draft_size(transforms: Sequence[Any]) -> Optional[Tuple[int, int]]:
        first = transforms[0] if transforms else None
        if isinstance(first, albumentations.Resize):
            return first.width, first.height
        return None

    def reseed(self, seed: int) -> None:
        """Restart the augmentation's random stream from ``seed`` (used per data-loader worker)."""
        self._pipeline.set_random_seed(seed)

    def load_image(self, path: Union[str, os.PathLike]) -> np.ndarray:
        """Decode ``path`` to ``uint8`` ``(height, width, 3)`` RGB (see ``read_image``)."""
        return read_image(path, draft_size=self.draft_size)

    def augment(self, image: np.ndarray, **targets: Any) -> Dict[str, Any]:
        """Apply the augmentation (and ``ToTensorV2``) to an image and optional targets.

        Args:
            image: ``uint8`` array ``(height, width, 3)``.
            **targets: albumentations targets (``mask``, ``masks``, ``bboxes``, ``keypoints``)
                transformed with the same spatial parameters as the image.

        Returns:
            albumentations' result dict; ``"image"`` is a float32 tensor ``(3, H, W)``.
        """
        return self._pipeline(image=image, **targets)

    def image_to_tensor(self, image: np.ndarray) -> torch.Tensor:
        """``uint8`` ``(height, width, 3)`` -> normalized float32 tensor ``(3, H, W)``."""
        return self.augment(image)["image"]

    def make_dataset(self, samples: Iterable[Sample]) -> ImageDataset:
        """An :class:`ImageDataset` over ``samples`` that decodes and augments like this reader."""
        return ImageDataset(list(samples), self, lazy=self.lazy)
