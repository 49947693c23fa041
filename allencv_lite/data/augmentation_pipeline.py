"""The augmentation pipeline: a config's ``"augmentation"`` list, checked, composed and applied.

:class:`AugmentationPipeline` turns the transforms a reader's config names (built by
:mod:`allencv_lite.data.augmentation`) into what a dataset calls: ``decode`` (a file to ``uint8``
pixels, decoded no larger than the first resize needs) and ``transform`` (pixels to a tensor
``(3, height, width)``), and the model's ``normalization``. It is checked when built and against
each image by :mod:`allencv_lite.data.augmentation_checks`.
"""
import copy
import os
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import albumentations
import numpy as np
import torch
from albumentations.pytorch import ToTensorV2

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.augmentation import IMAGENET_MEAN, IMAGENET_STD, Augmentation
from allencv_lite.data.augmentation_checks import check_one_output_size, check_pixel_scale, size_problem
from allencv_lite.data.image_loading import ImageSource, UnreadableImageError, read_image
from allencv_lite.data.normalization import PixelNormalization

BBOX_FORMATS = ("pascal_voc", "coco")
TOO_SMALL_FOR_CROP = "smaller than a crop"


class AugmentationPipeline:
    """A list of albumentations transforms, checked and composed, that prepares images for the model.

    The model always receives ``float32`` tensors of shape ``(3, height, width)``,
    normalized exactly once: if ``transforms`` has no ``normalize`` step, ImageNet's
    mean and std (``IMAGENET_MEAN``, ``IMAGENET_STD``, on pixel values divided by 255)
    are appended, since pretrained backbones expect them; ``ToTensorV2`` (HWC -> CHW) is
    always added last. Images enter the pipeline as ``uint8`` (0-255), so albumentations'
    ``Normalize`` divides by 255 exactly once.

    When that ``normalize`` is the last step (the usual case, and always when it is the
    appended one), it runs as :attr:`normalization` (see
    :mod:`~allencv_lite.data.normalization`) on the ``uint8`` tensor the other steps give;
    the model gets the same floats either way. An eager dataset also applies the leading
    steps registered as ``working_size`` (``resize``, ``smallest_max_size``,
    ``longest_max_size``, ``center_crop`` with ``p`` 1, before the first other step) once,
    when it decodes, and keeps the images at that working size: every epoch starts from
    the small arrays, with the same results.

    Augmentation is reproducible: its random stream is seeded from ``torch``'s generator
    when the pipeline is built (so ``torch.manual_seed`` fixes it), and each data-loader
    worker restarts it from the worker's own seed (see :meth:`reseed`).

    Args:
        transforms: albumentations transforms, applied in order.
        bbox_format: how :meth:`augment` reads and returns boxes, in pixels:
            ``"pascal_voc"`` ``(x_min, y_min, x_max, y_max)`` or ``"coco"``
            ``(x_min, y_min, width, height)``.

    Attributes:
        transforms: the steps, the appended ``normalize`` included.
        output_size: the ``(height, width)`` every image comes out at (``None`` when that
            depends on the image).
        normalization: the last ``normalize`` step as a
            :class:`~allencv_lite.data.normalization.PixelNormalization`, or ``None`` when the
            ``normalize`` step is not last and so runs inside the composed steps.
        working_size_steps: how many leading steps an eager dataset applies when it decodes.

    Raises:
        ConfigurationError: more than one ``normalize`` step, a ``to_tensor_v2`` step, an
            unknown ``bbox_format``, a ``normalize`` whose ``max_pixel_value`` does not match
            the pixels' scale (after ``to_float``), or a step that makes the output size
            random (a resize applied with ``p`` below 1, a ``one_of`` of different sizes).
    """

    def __init__(self, transforms: Sequence[Any], bbox_format: str = "pascal_voc") -> None:
        transforms = list(transforms)
        for i, transform in enumerate(transforms):
            if isinstance(transform, ToTensorV2):
                raise ConfigurationError(f"augmentation[{i}]: remove 'to_tensor_v2'; the reader adds it as the last "
                                         "step, after which no transform could run.")
        normalize_steps = [i for i, t in enumerate(transforms) if isinstance(t, albumentations.Normalize)]
        if len(normalize_steps) > 1:
            raise ConfigurationError(f"augmentation: 'normalize' appears {len(normalize_steps)} times (at "
                                     f"{normalize_steps}); images must be normalized exactly once, keep one.")
        if not normalize_steps:
            transforms.append(albumentations.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD))
        check_pixel_scale(transforms, added_normalize=not normalize_steps)
        self.output_size = check_one_output_size(transforms)
        if bbox_format not in BBOX_FORMATS:
            raise ConfigurationError(f"bbox_format: '{bbox_format}' is not one of {list(BBOX_FORMATS)}.")
        self.transforms = transforms
        self.draft_size = self._draft_size(transforms)
        self.normalization, per_image = self._split_normalization(transforms)
        self.working_size_steps = self._count_working_size_steps(per_image)
        seed = int(torch.randint(2**31 - 1, ()).item())  # follows torch.manual_seed
        self._pipeline = self._compose(per_image, seed, bbox_format)
        # Its own copies of the steps: albumentations gives the steps of a Compose that Compose's
        # random generator. The leading steps draw no random number, so both streams stay alike.
        self._pipeline_from_working_size = self._compose(copy.deepcopy(per_image[self.working_size_steps:]), seed,
                                                         bbox_format)

    @staticmethod
    def _compose(transforms: List[Any], seed: int, bbox_format: str) -> albumentations.Compose:
        with warnings.catch_warnings():  # "processor for bboxes but no transform": fine, boxes then stay put
            warnings.filterwarnings("ignore", message="Got processor for", category=UserWarning)
            return albumentations.Compose(transforms + [ToTensorV2()], seed=seed,
                                          bbox_params=albumentations.BboxParams(format=bbox_format),
                                          keypoint_params=albumentations.KeypointParams(format="xy"))

    @staticmethod
    def _split_normalization(transforms: List[Any]) -> Tuple[Optional[PixelNormalization], List[Any]]:
        """The last step as a batch normalization, and the steps before it, when that step is a
        ``normalize`` that always runs with the standard formula; else ``None`` and all steps."""
        last = transforms[-1]
        if (isinstance(last, albumentations.Normalize) and last.normalization == "standard" and last.p >= 1
                and last.mean is not None and last.std is not None and last.max_pixel_value is not None):
            return PixelNormalization(last.mean, last.std, last.max_pixel_value), transforms[:-1]
        return None, transforms

    @staticmethod
    def _count_working_size_steps(transforms: Sequence[Any]) -> int:
        """How many leading steps are registered with the ``working_size`` trait (resizes and
        centre crops) and always run, each with one size (a ``max_size`` list picks one at random)."""
        count = 0
        for transform in transforms:
            if not (Augmentation.traits_of_transform(transform).working_size and transform.p >= 1
                    and not isinstance(getattr(transform, "max_size", None), (list, tuple))):
                break
            count += 1
        return count

    @staticmethod
    def _draft_size(transforms: Sequence[Any]) -> Optional[Tuple[int, int]]:
        """``(width, height)`` a JPEG may be decoded down to, when the first transform shrinks
        every image to a size known in advance (``resize``, or ``smallest_max_size`` whose
        shorter side is at least ``max_size`` when both sides are)."""
        first = transforms[0] if transforms else None
        if isinstance(first, albumentations.Resize):
            return first.width, first.height
        if isinstance(first, albumentations.SmallestMaxSize) and isinstance(first.max_size, int):
            return first.max_size, first.max_size
        return None

    def reseed(self, seed: int) -> None:
        """Restart the augmentation's random stream from ``seed`` (used per data-loader worker)."""
        self._pipeline.set_random_seed(seed)
        self._pipeline_from_working_size.set_random_seed(seed)

    def load_image(self, path: ImageSource) -> np.ndarray:
        """Decode ``path`` (a file name, or a binary file object such as ``io.BytesIO(bytes)``)
        to ``uint8`` ``(height, width, 3)`` RGB (see ``read_image``).

        Raises:
            UnreadableImageError: the file cannot be decoded, or is smaller than a crop of
                the augmentation (reason :data:`TOO_SMALL_FOR_CROP`).
        """
        image = read_image(path, draft_size=self.draft_size)
        self.check_image_size(image, path)
        return image

    def load_at_working_size(self, path: Union[str, os.PathLike]) -> np.ndarray:
        """:meth:`load_image`, then the first :attr:`working_size_steps` steps of the
        augmentation: ``uint8`` ``(height, width, 3)`` at the size an eager dataset keeps.

        Raises:
            UnreadableImageError: as :meth:`load_image`.
        """
        image = self.load_image(path)
        for transform in self.transforms[:self.working_size_steps]:
            image = transform(image=image)["image"]
        return image

    def check_image_size(self, image: np.ndarray, source: Union[str, os.PathLike] = "<image>") -> None:
        """Check that no crop of the augmentation is larger than ``image`` (``(height, width, 3)``)
        will be when it reaches it (see :func:`~allencv_lite.data.augmentation_checks.size_problem`).

        Raises:
            UnreadableImageError: with reason :data:`TOO_SMALL_FOR_CROP`, naming ``source``, the
                image's size, the crop, and the fix.
        """
        problem = size_problem(self.transforms, image.shape[0], image.shape[1])
        if problem is not None:
            raise UnreadableImageError(source, TOO_SMALL_FOR_CROP, problem)

    def augment(self, image: np.ndarray, masks: Optional[Sequence[np.ndarray]] = None,
                boxes: Optional[Sequence[Sequence[float]]] = None,
                keypoints: Optional[Sequence[Sequence[float]]] = None) -> Dict[str, Any]:
        """Apply the augmentation to an image and, with the same spatial parameters, to its
        masks, boxes and keypoints (albumentations' targets), then ``ToTensorV2``.

        Args:
            image: ``(height, width, 3)`` RGB, ``uint8`` 0-255, or floating point 0-1 (which
                is converted to ``uint8`` first, so it is not divided by 255 twice).
            masks: arrays ``(height, width)``, resized with nearest-neighbour interpolation.
            boxes: ``(N, 4)`` in ``bbox_format``, in pixels; extra columns after the 4
                coordinates (e.g. a class id) are carried along, and boxes a crop removes
                disappear with them.
            keypoints: ``(N, 2)`` ``(x, y)`` in pixels.

        Returns:
            ``{"image": float32 tensor (3, H, W)}`` plus, for each target given,
            ``"masks"`` (list of tensors ``(H, W)``), ``"boxes"`` (array ``(N', 4+)``),
            ``"keypoints"`` (array ``(N', 2)``).

        Raises:
            ValueError: an image that is not ``(height, width, 3)``, a float image with
                values outside 0-1, or pixels neither ``uint8`` nor floating point.
            UnreadableImageError: the image is smaller than a crop (see :meth:`check_image_size`).
        """
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"Expected an RGB image of shape (height, width, 3), got {image.shape}.")
        self.check_image_size(image)
        if np.issubdtype(image.dtype, np.floating):
            low, high = float(image.min()), float(image.max())
            if low < 0.0 or high > 1.0:
                raise ValueError(f"A floating-point image must hold values in 0-1, got {low:.3g}..{high:.3g}; "
                                 "pass uint8 0-255 pixels instead.")
            image = (image * 255.0).round().astype(np.uint8)
        elif image.dtype != np.uint8:
            raise ValueError(f"Expected uint8 (0-255) or floating-point (0-1) pixels, got {image.dtype}.")
        targets: Dict[str, Any] = {}
        if masks is not None:
            targets["masks"] = list(masks)
        if boxes is not None:
            boxes = np.asarray(boxes, dtype=np.float32)
            targets["bboxes"] = boxes if boxes.size else boxes.reshape(0, 4)
        if keypoints is not None:
            targets["keypoints"] = np.asarray(keypoints, dtype=np.float32).reshape(-1, 2)
        result = self._pipeline(image=image, **targets)
        output = {"image": self._normalized(result["image"])}
        for name, key in (("masks", "masks"), ("boxes", "bboxes"), ("keypoints", "keypoints")):
            if key in targets:
                output[name] = result[key]
        return output

    def image_to_tensor(self, image: np.ndarray) -> torch.Tensor:
        """``uint8`` ``(height, width, 3)`` -> normalized float32 tensor ``(3, H, W)``."""
        return self.augment(image)["image"]

    def transform(self, image: np.ndarray) -> torch.Tensor:
        """A decoded ``uint8`` image ``(height, width, 3)`` (from :meth:`load_image`) through every
        step: the model's ``float32`` tensor ``(3, H, W)``. A lazy dataset's ``transform``."""
        return self._normalized(self._pipeline(image=image)["image"])

    def transform_from_working_size(self, image: np.ndarray) -> torch.Tensor:
        """:meth:`transform` for an image from :meth:`load_at_working_size`: the steps after the
        working size only. An eager dataset's ``transform``."""
        return self._normalized(self._pipeline_from_working_size(image=image)["image"])

    def _normalized(self, image: torch.Tensor) -> torch.Tensor:
        return image if self.normalization is None else self.normalization(image)
