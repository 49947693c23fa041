"""The seed recipe, ``training_config/cats_dogs_resnet50.jsonnet``, as the tests read it."""
from pathlib import Path

from allencv_lite.common.params import load_config

SEED_CONFIG = Path(__file__).resolve().parents[2] / "training_config" / "cats_dogs_resnet50.jsonnet"


def seed_config() -> dict:
    """The seed recipe as a dict, its data paths (``TRAIN_PATH``, ``VALIDATION_PATH``) set to "unused"."""
    return load_config(SEED_CONFIG, ext_vars={"TRAIN_PATH": "unused", "VALIDATION_PATH": "unused"})
