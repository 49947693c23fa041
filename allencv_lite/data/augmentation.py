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
albumentations transform, declaring its traits there (:class:`Traits`)::

    @Augmentation.register("to_gray_always", deterministic=True)
    def to_gray_always() -> albumentations.ToGray:
        return albumentations.ToGray(p=1.0)

A deterministic step is kept when a model predicts with its training reader (see
:func:`~allencv_lite.models.archival.prediction_reader_config`); the others are dropped there.
"""
import inspect
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Dict, List, Optional, TypeVar

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


T = TypeVar("T")


# What a transform does to an image's size (``Traits.size``), for the checks of augmentation_checks.py.
KEEPS_SIZE = "keeps size"  # flips, colour changes, noise, blur, rotations that keep the frame
FIXED_SIZE = "fixed size"  # one output size whatever the input (resize, random_resized_crop)
CROP = "crop"  # a fixed size cut out of the image, which must be at least as large
RANDOM_SIZE = "random size"  # a size drawn at random (random_scale)
MAYBE_TURNED = "maybe turned"  # turned by 90 degrees at random, swapping height and width


@dataclass(frozen=True)
class Traits:
    """What a registered transform does, declared where it is registered.

    Attributes:
        deterministic: applied with ``p`` 1 it gives the same output for the same input and draws
            no random number (a resize, a centre crop, ``normalize``): prediction keeps it.
        working_size: a deterministic resize or crop that keeps ``uint8`` pixels, so an eager
            dataset may apply a leading run of them once, when it decodes (see
            :attr:`~allencv_lite.data.augmentation_pipeline.AugmentationPipeline.working_size_steps`).
        size: what it does to the image size: :data:`KEEPS_SIZE`, :data:`FIXED_SIZE`, :data:`CROP`,
            :data:`RANDOM_SIZE` or :data:`MAYBE_TURNED` (see :mod:`allencv_lite.data.augmentation_checks`).
    """

    deterministic: bool = False
    working_size: bool = False
    size: str = KEEPS_SIZE


class Augmentation(Registrable, FromParams):
    """Registry of augmentation transforms; ``from_params`` returns an albumentations transform.

    A transform's keys are its albumentations arguments, which albumentations checks itself;
    its ``ValueError`` is reported under the step's key path
    (``dataset_reader.augmentation[1]: 1 validation error for InitSchema ...``).
    """

    _traits: ClassVar[Dict[Any, Traits]] = {}  # the registered class or function -> its traits

    @classmethod
    def register(cls, name: str, exist_ok: bool = False, deterministic: bool = False,  # type: ignore[override]
                 working_size: bool = False, size: str = KEEPS_SIZE) -> Callable[[T], T]:
        """Register a transform (a class or a function returning one) under ``name``, with its
        :class:`Traits` (``working_size`` implies ``deterministic``).

        Raises:
            ConfigurationError: ``name`` is taken and ``exist_ok`` is false.
        """
        add_to_registry = super().register(name, exist_ok)

        def add_with_traits(transform: T) -> T:
            add_to_registry(transform)
            cls._traits[transform] = Traits(deterministic=deterministic or working_size, working_size=working_size,
                                            size=size)
            return transform

        return add_with_traits

    @classmethod
    def traits_of(cls, name: str) -> Traits:
        """The traits declared for the transform registered as ``name``.

        Raises:
            ConfigurationError: nothing is registered as ``name`` (the message suggests names).
        """
        return cls._traits.get(cls.by_name(name), Traits())

    @classmethod
    def traits_of_transform(cls, transform: Any) -> Traits:
        """The traits declared for a built transform's class (default traits for a transform
        registered as a function, whose result's class is not itself registered)."""
        return cls._traits.get(type(transform), Traits())


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


# The built-in transforms' traits, declared when they are registered below.
_BUILT_IN_TRAITS = {
    albumentations.Resize: Traits(deterministic=True, working_size=True, size=FIXED_SIZE),
    albumentations.SmallestMaxSize: Traits(deterministic=True, working_size=True),
    albumentations.LongestMaxSize: Traits(deterministic=True, working_size=True),
    albumentations.CenterCrop: Traits(deterministic=True, working_size=True, size=CROP),
    albumentations.Normalize: Traits(deterministic=True),
    albumentations.PadIfNeeded: Traits(deterministic=True),
    albumentations.RandomCrop: Traits(size=CROP),
    albumentations.Crop: Traits(size=CROP),
    albumentations.CropNonEmptyMaskIfExists: Traits(size=CROP),
    albumentations.RandomResizedCrop: Traits(size=FIXED_SIZE),
    albumentations.RandomSizedCrop: Traits(size=FIXED_SIZE),
    albumentations.RandomScale: Traits(size=RANDOM_SIZE),
    albumentations.RandomCropFromBorders: Traits(size=RANDOM_SIZE),
    albumentations.RandomCropNearBBox: Traits(size=RANDOM_SIZE),
    albumentations.BBoxSafeRandomCrop: Traits(size=RANDOM_SIZE),
    albumentations.CropAndPad: Traits(size=RANDOM_SIZE),
    albumentations.RandomRotate90: Traits(size=MAYBE_TURNED),
    albumentations.D4: Traits(size=MAYBE_TURNED),
    albumentations.SquareSymmetry: Traits(size=MAYBE_TURNED),
}


def _register_albumentations() -> None:
    for class_name in dir(albumentations):
        transform = getattr(albumentations, class_name)
        if (inspect.isclass(transform) and issubclass(transform, albumentations.BasicTransform)
                and not inspect.isabstract(transform) and class_name[0].isupper()
                and class_name not in ("BasicTransform", "DualTransform", "ImageOnlyTransform")):
            _register_built_in(snake_case(class_name), transform)
    for composition in _COMPOSITIONS:
        Augmentation.register(snake_case(composition.__name__), exist_ok=True)(_composition(composition))
    for name, transform in _SHORT_NAMES.items():
        _register_built_in(name, transform)


def _register_built_in(name: str, transform: type) -> None:
    traits = _BUILT_IN_TRAITS.get(transform, Traits())
    Augmentation.register(name, exist_ok=True, deterministic=traits.deterministic, working_size=traits.working_size,
                          size=traits.size)(transform)


_register_albumentations()
