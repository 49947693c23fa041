"""allencv-lite: image classification in PyTorch, taught step by step, in the spirit of AllenCV.

Importing the package registers every built-in reader, encoder, model, optimizer and
predictor, and makes no network call.
"""
import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations checks PyPI on import otherwise

from allencv_lite import data, models, modules, predictors, training  # noqa: E402,F401

__version__ = "0.1.0"
