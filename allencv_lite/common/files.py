"""Writing files so that a crash, a kill or a full disk never leaves half of one.

Every file the trainer and the commands write (``config.json``, ``metrics*.json``,
``metrics.csv``, checkpoints, ``best.th``, ``model.tar.gz``, ``skipped_files.csv``,
``vocabulary/``, ``lr_find.*``, ``cleaning.json``) goes through :func:`atomic_writer`: it is
written to ``<name>.partial`` beside its destination, then renamed onto it with
``os.replace``, which POSIX and Windows make atomic, so a reader sees the old file whole or the
new one whole.
"""
import contextlib
import io
import os
from pathlib import Path
from typing import IO, Any, Iterator, Union

from allencv_lite.common.checks import ConfigurationError


@contextlib.contextmanager
def writing(path: Union[str, os.PathLike]) -> Iterator[None]:
    """Turn an ``OSError`` raised while writing ``path`` (a full or read-only disk, a folder
    that cannot be created, ``/dev/full``) into a one-line ``ConfigurationError`` naming it.

    Raises:
        ConfigurationError: ``Cannot write <path>: <the system's reason>.`` and the fix.
    """
    try:
        yield
    except OSError as error:
        raise ConfigurationError(f"Cannot write {path}: {error.strerror or error}. Free some space on its disk or "
                                 "choose a folder you can write to.") from None


@contextlib.contextmanager
def atomic_writer(path: Union[str, os.PathLike], binary: bool = False) -> Iterator[IO[Any]]:
    """A file to write ``path``'s new content into (text in UTF-8 with ``newline=""``, or bytes
    with ``binary``); when the ``with`` block ends without an error it replaces ``path``, and
    otherwise neither ``path`` nor a temporary file changes or stays behind.

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
            with (open(partial, "wb") if binary else open(partial, "w", encoding="utf-8", newline="")) as file:
                yield file
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)


def write_bytes_atomically(data: Union[bytes, memoryview], path: Union[str, os.PathLike]) -> None:
    """Write ``data`` to ``path`` with :func:`atomic_writer`."""
    with atomic_writer(path, binary=True) as file:
        file.write(data)


def write_text_atomically(text: str, path: Union[str, os.PathLike]) -> None:
    """Write ``text`` (UTF-8) to ``path`` with :func:`atomic_writer`."""
    with atomic_writer(path) as file:
        file.write(text)


def save_atomically(obj: Any, path: Union[str, os.PathLike]) -> None:
    """``torch.save`` ``obj`` with :func:`write_bytes_atomically`. The bytes are made in memory
    first, because torch's own file writer reports a full disk as an unnamed ``RuntimeError``."""
    import torch  # only the trainer and archives need it: the command line starts without torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes_atomically(buffer.getbuffer(), path)
