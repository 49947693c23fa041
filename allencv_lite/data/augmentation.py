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
from typing import Any, Callable, List, Optional

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
    """Registry of augmentation transforms; ``from_params`` returns an albumentations transform.

    A transform's keys are its albumentations arguments, which albumentations checks itself;
    its ``ValueError`` is reported under the step's key path
    (``dataset_reader.augmentation[1]: 1 validation error for InitSchema ...``).
    """


# The arguments of a composition that hold transforms, typed so that their blocks are built as augmentations.
_NESTED_TRANSFORMS = {"transforms": List[Augmentation], "first": Augmentation, "second": Augmentation}


def _composition(composition: type) -> Callable[..., Any]:
    """A registered factory for ``composition`` with albumentations' signature, except that the
    arguments holding transforms (``transforms``, ``first``, ``second``) take augmentation blocks
    and ``p`` defaults to 1 (albumentations' 0.5 would skip the steps inside half the time)."""
    def build(**options: Any) -> Any:
        arguments = build.__signature__.bind(**options)  # type: ignore[attr-defined]
        arguments.apply_defaults()
        return composition(**arguments.arguments)

    parameters = []
    for name, parameter in inspect.signature(composition).parameters.items():
        if name in _NESTED_TRANSFORMS:
            nested = _NESTED_TRANSFORMS[name]
            parameter = parameter.replace(annotation=nested if parameter.default is parameter.empty
                                          else Optional[nested])
        elif name == "p":
            parameter = parameter.replace(default=1.0)
        parameters.append(parameter)
    build.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    build.__name__ = build.__qualname__ = composition.__name__
    build.__doc__ = composition.__doc__
    return build


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
        Augmentation.register(snake_case(composition.__name__), exist_ok=True)(_composition(composition))
    for name, transform in _SHORT_NAMES.items():
        Augmentation.register(name, exist_ok=True)(transform)


_register_albumentations()
