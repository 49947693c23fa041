"""Fixtures for the data tests: class-per-folder trees of small images, and the skip warnings logged."""
import logging
from pathlib import Path
from typing import Callable

import pytest

from tests.helpers.image_files import write_image


@pytest.fixture
def image_folder(tmp_path) -> Callable[..., Path]:
    """``image_folder({"Cat/a.jpg": RED, ...})``: a class-per-folder tree of small JPEG/PNG/... images."""
    def build(files: dict, root_name: str = "data") -> Path:
        root = tmp_path / root_name
        for relative, color in files.items():
            write_image(root / relative, color=color)
        return root
    return build


@pytest.fixture
def skip_warnings(caplog) -> Callable[[], list]:
    """The messages of the ``Skipping <file>: <reason>`` warnings logged so far."""
    caplog.set_level(logging.WARNING, logger="allencv_lite")
    return lambda: [r.getMessage() for r in caplog.records if r.getMessage().startswith("Skipping ")]
