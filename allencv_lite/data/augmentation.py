"""Augmentation transforms by name: every albumentations transform, plus AllenCV's short names.

A config's ``"augmentation"`` list is built here::

    [{"type": "resize", "height": 224, "width": 224}, {"type": "flip", "p": 0.5}]

Names are the snake_case of albumentations' class names (``random_brightness_contrast``
is ``A.RandomBrightnessContrast``) plus ``resize``, ``normalize``, ``flip`` (horizontal) and
``channel_shuffle`` as in AllenCV's configs. The compositions ``one_of``, ``some_of``,
``sequential``, ``one_or_other`` and ``random_order`` take a nested ``"transforms"`` list::

    {"type": "one_of", "transforms": [{"type": "blur"}, {"type": "sharpen"}], "p": 0.5}

A composition without ``"p"`` always runs (albumentations' own default is 0.5), and the steps
inside it apply with their own ``p``, so a nested ``resize`` or ``normalize`` applies to every
image at any depth. Steps that would give the images of one batch different sizes, a
``normalize`` on the wrong pixel scale, and crops larger than an image are caught by
:mod:`allencv_lite.data.augmentation_checks`.

``to_tensor_v2`` is not for configs: the reader adds it as the last step. Register your own with
``@Augmentation.register("my_transform")`` on a class or function returning an
albumentations transform.
"""
import inspect
import os
import re
from typing import Any, Dict

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # importing albumentations must not phone home

import albumentations  # noqa: E402

from allencv_lite.common.checks import ConfigurationError  # noqa: E402
from allencv_lite.common.from_params import FromParams  # noqa: E402
from allencv_lite.common.registrable import Registrable  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_SHORT_NAMES = {
    "flip": albumentations.HorizontalFlip,
    "resize": albumentations.Resize,
    "normalize": albumentations.Normalize,
    "channel_shuffle": albumentations.ChannelShuffle,
}


def snake_case(name: str) -> str:
    """``RandomBrightnessContrast`` -> ``random_brightness_contrast``; ``CLAHE`` -> ``clahe``;
    ``BBoxSafeRandomCrop`` -> ``bbox_safe_random_crop``; ``CenterCrop3D`` -> ``center_crop3d``."""
    name = name.replace("BBox", "Bbox")
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class Augmentation(Registrable, FromParams):
    """Registry of augmentation transforms; ``from_params`` returns an albumentations transform."""

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "", **extras: Any) -> Any:
        """Build the transform named by ``params["type"]`` with the remaining keys.

        Raises:
            ConfigurationError: unknown name, a key the transform does not take, or a value
                albumentations rejects; the message names the key path.
        """
        if not isinstance(params, dict):
            raise ConfigurationError(f"{path}: expected a transform block such as {{\"type\": \"flip\"}}, got {params!r}")
        name = params.get("type")
        if name is None:
            raise ConfigurationError(f"{path}.type: missing; e.g. \"resize\", \"flip\", \"normalize\".")
        factory, params = cls.resolve(params, path)
        if inspect.isclass(factory) and issubclass(factory, FromParams):
            return factory.from_params(params, path, **extras)
        if inspect.isclass(factory) and issubclass(factory, albumentations.BaseCompose):
            params.setdefault("p", 1.0)  # albumentations' 0.5 would skip the steps inside half the time
        if inspect.isclass(factory) and issubclass(factory, albumentations.BaseCompose) and "transforms" in params:
            if not isinstance(params["transforms"], list):
                raise ConfigurationError(f"{path}.transforms: expected a list of transforms, got {params['transforms']!r}")
            params["transforms"] = [cls.from_params(block, f"{path}.transforms[{i}]", **extras)
                                    for i, block in enumerate(params["transforms"])]
        accepted = [n for n, p in inspect.signature(factory).parameters.items()
                    if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        unexpected = sorted(set(params) - set(accepted))
        if unexpected:
            raise ConfigurationError(f"{path}: unexpected key(s) {unexpected} for '{name}'; accepted keys: {accepted}.")
        try:
            return factory(**params)
        except (TypeError, ValueError) as error:
            raise ConfigurationError(f"{path} ('{name}'): {error}") from None


_COMPOSITIONS = (albumentations.OneOf, albumentations.SomeOf, albumentations.Sequential,
                 albumentations.OneOrOther, albumentations.RandomOrder)


def _register_albumentations() -> None:
    for class_name in dir(albumentations):
        transform = getattr(albumentations, class_name)
        if (inspect.isclass(transform) and issubclass(transform, albumentations.BasicTransform)
                and not inspect.isabstract(transform) and class_name[0].isupper()
                and class_name not in ("BasicTransform", "DualTransform", "ImageOnlyTransform")):
            Augmentation.register(snake_case(class_name), exist_ok=True)(transform)
    for composition in _COMPOSITIONS:
        Augmentation.register(snake_case(composition.__name__), exist_ok=True)(composition)
    for name, transform in _SHORT_NAMES.items():
        Augmentation.register(name, exist_ok=True)(transform)


_register_albumentations()
