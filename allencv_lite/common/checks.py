"""Errors raised for bad configuration or bad input."""
import contextlib
import os
from typing import Iterator, Union


class ConfigurationError(Exception):
    """A config, a file or an argument is wrong in a way the user can fix.

    The message always names the key path (``model.im2im_encoder.type``), file or value at
    fault and, where possible, what would fix it.
    """


class Interrupted(Exception):
    """Ctrl-C stopped a command. The message says, in one line, what was finished, where it
    was written and how to go on; the command line prints it and exits with status 130
    (128 + SIGINT, as shells report it)."""


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
