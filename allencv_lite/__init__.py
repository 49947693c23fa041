"""allencv-lite: image classification in PyTorch, taught step by step, in the spirit of AllenCV.

Importing the package is cheap: its sub-packages (``data``, ``models``, ``modules``,
``predictors``, ``training``, ...) and every built-in reader, encoder, model and predictor are
imported when first used, and a config finds each registered name without importing it first
(see :mod:`allencv_lite.common.registrable`). Nothing makes a network call.
"""
import os

from allencv_lite.common.lazy_exports import lazy_exports

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations checks PyPI on import otherwise

__version__ = "0.1.0"

__getattr__ = lazy_exports(__name__, {})[0]  # allencv_lite.models etc., imported when first named
