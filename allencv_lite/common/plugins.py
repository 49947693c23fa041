"""``--include-package``: importing your own modules so that their ``@register`` calls take
effect before a config names them (AllenNLP's ``--include-package``), for every command and
the demo server alike."""
import argparse
import importlib
from typing import Sequence

from allencv_lite.common.checks import ConfigurationError


def add_include_package_argument(parser: argparse.ArgumentParser) -> None:
    """Add the repeatable ``--include-package PACKAGE`` option (``args.include_package``, a list)."""
    parser.add_argument("--include-package", action="append", default=[], metavar="PACKAGE",
                        help="import this package first, to register your own classes (repeatable)")


def import_plugins(package_names: Sequence[str]) -> None:
    """Import each ``--include-package`` so its ``@register`` calls take effect.

    Raises:
        ConfigurationError: a package cannot be imported, naming it and why.
    """
    for name in package_names:
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise ConfigurationError(f"--include-package {name}: cannot import it ({error}).") from None
