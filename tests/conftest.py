"""Shared fixtures: the embedded digits data and the real Cats-vs-Dogs photos."""
import os
from pathlib import Path

import pytest

from data_scripts.make_digits_dataset import write_digits


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory) -> Path:
    """The embedded default dataset, written once per test session."""
    root = tmp_path_factory.mktemp("digits")
    write_digits(root)
    return root


@pytest.fixture(scope="session")
def cats_dogs_dir() -> Path:
    """``$ALLENCV_DATA_DIR`` (a folder with train/ and val/ of Cat/ and Dog/ photos), or skip."""
    value = os.environ.get("ALLENCV_DATA_DIR")
    if not value:
        pytest.skip("ALLENCV_DATA_DIR is not set; point it at a folder with train/ and val/ "
                    "(CI sets ../shared/data/cats_dogs)")
    root = Path(value)
    if not (root / "train").is_dir() or not (root / "val").is_dir():
        pytest.skip(f"ALLENCV_DATA_DIR={root} has no train/ and val/ folders")
    return root
