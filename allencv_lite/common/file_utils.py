"""Writing files so that a crash or a full disk never leaves half of one."""
import os
from pathlib import Path
from typing import Union

from allencv_lite.common.checks import ConfigurationError, writing


def write_bytes_atomically(data: Union[bytes, memoryview], path: Union[str, os.PathLike]) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename: a crash or a full disk
    never leaves half a file at ``path`` (nor the temporary one).

    Raises:
        ConfigurationError: ``path`` cannot be written (full or read-only disk), or is a device
            or folder that the rename would replace, naming it.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        raise ConfigurationError(f"Cannot write {path}: it is not a regular file, and writing it would replace it. "
                                 "Choose a file name.")
    partial = path.with_name(path.name + ".partial")
    with writing(path):
        try:
            partial.write_bytes(data)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)


def write_text_atomically(text: str, path: Union[str, os.PathLike]) -> None:
    """Write ``text`` (UTF-8) with :func:`write_bytes_atomically`."""
    write_bytes_atomically(text.encode("utf-8"), path)
