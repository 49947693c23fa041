"""The preprocessing an exported model expects, written as plain JSON so that any program can
repeat it without this package (``standalone_classify.py`` does, with numpy and Pillow).

A reader's validation steps become a list of augmentation blocks in the config's own words::

    [{"type": "smallest_max_size", "max_size": 256},
     {"type": "center_crop", "height": 224, "width": 224},
     {"type": "normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "max_pixel_value": 255.0}]

so that :func:`reader_from_steps` rebuilds the very same reader from them, and the standalone
script implements each of the four ``type`` s in a few lines of numpy. Resizes are bilinear without
antialiasing (OpenCV's ``INTER_LINEAR``, albumentations' default); the normalize step is always
there (the reader appends ImageNet's when a config has none) and always last.
"""
from typing import Any, Dict, List, Optional

import albumentations
import cv2

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset_readers.dataset_reader import DatasetReader, ImageDatasetReader

SUPPORTED_STEPS = ("resize", "smallest_max_size", "longest_max_size", "center_crop", "normalize")


def _step(transform: Any) -> Optional[Dict[str, Any]]:
    """One albumentations transform as a JSON block, or ``None`` when the standalone script could
    not repeat it exactly (another transform, another interpolation, a random size or ``p`` < 1)."""
    if transform.p < 1:
        return None
    if isinstance(transform, (albumentations.Resize, albumentations.SmallestMaxSize, albumentations.LongestMaxSize)):
        if transform.interpolation != cv2.INTER_LINEAR or transform.area_for_downscale is not None:
            return None
    if isinstance(transform, albumentations.Resize):
        return {"type": "resize", "height": transform.height, "width": transform.width}
    if isinstance(transform, (albumentations.SmallestMaxSize, albumentations.LongestMaxSize)):
        if not isinstance(transform.max_size, int):
            return None
        name = "smallest_max_size" if isinstance(transform, albumentations.SmallestMaxSize) else "longest_max_size"
        return {"type": name, "max_size": transform.max_size}
    if isinstance(transform, albumentations.CenterCrop):
        if transform.pad_if_needed:
            return None
        return {"type": "center_crop", "height": transform.height, "width": transform.width}
    if isinstance(transform, albumentations.Normalize) and transform.normalization == "standard":
        channels = (lambda value: [float(v) for v in value] if isinstance(value, (list, tuple)) else [float(value)] * 3)
        return {"type": "normalize", "mean": channels(transform.mean), "std": channels(transform.std),
                "max_pixel_value": float(transform.max_pixel_value)}
    return None


def describe_preprocessing(reader: ImageDatasetReader, source: str) -> Dict[str, Any]:
    """What ``reader`` does to a decoded image before the model sees it, as JSON: ``steps`` (see
    the module docstring), ``jpeg_draft_size`` (``[width, height]`` a JPEG may be decoded down to
    by libjpeg's scaled DCT, Pillow's ``Image.draft``, or ``null``), ``height`` and ``width`` of
    the tensor ``(batch, 3, height, width)``, ``channel_order`` ``"RGB"`` and ``layout`` ``"NCHW"``.

    Args:
        reader: the archive's validation reader.
        source: where the reader comes from, for error messages (the archive's file name).

    Raises:
        ConfigurationError: a step the standalone script cannot repeat exactly (naming its
            position and type, and the supported ones), or images whose size depends on the image.
    """
    steps = []
    for index, transform in enumerate(reader.transforms):
        step = _step(transform)
        if step is None:
            raise ConfigurationError(
                f"{source}: validation_dataset_reader.augmentation[{index}] ({type(transform).__name__}) cannot be "
                f"written for use without allencv-lite; an export supports {', '.join(SUPPORTED_STEPS)} (bilinear, "
                "p 1, one size). Change the validation reader's augmentation and retrain, or export another model.")
        steps.append(step)
    if reader.output_size is None:
        raise ConfigurationError(f"{source}: the validation reader's images have no fixed size (no resize or crop), "
                                 "so the model cannot be exported with a fixed input; add a resize to "
                                 "validation_dataset_reader.augmentation and retrain.")
    height, width = reader.output_size
    draft_size = reader.pipeline.draft_size
    return {"steps": steps, "jpeg_draft_size": list(draft_size) if draft_size else None,
            "height": height, "width": width, "channel_order": "RGB", "layout": "NCHW"}


def reader_from_steps(steps: List[Dict[str, Any]], source: str) -> ImageDatasetReader:
    """The image-folder reader (``<root>/<label>/<image>``) that applies ``steps`` (from
    :func:`describe_preprocessing`), to predict and evaluate with an exported model.

    Raises:
        ConfigurationError: a step that is not one of :data:`SUPPORTED_STEPS`, naming ``source``.
    """
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or step.get("type") not in SUPPORTED_STEPS:
            raise ConfigurationError(f"{source}: preprocessing.steps[{index}] is {step!r:.80}; each step must be an "
                                     f"object whose type is one of {', '.join(SUPPORTED_STEPS)}.")
    return DatasetReader.from_params({"type": "image_classification_directory", "augmentation": steps},
                                     f"{source}: preprocessing")

