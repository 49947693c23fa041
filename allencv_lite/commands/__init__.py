"""The ``allencv-lite`` command line: ``train``, ``find-lr``, ``predict``, ``evaluate`` (as ``allennlp``
has them) and ``serve`` (the web demo, as ``allennlp.service.server_simple``)."""
import argparse
import importlib
import logging
import sys
from typing import List, Optional

from allencv_lite.commands import evaluate, find_learning_rate, predict, serve, train
from allencv_lite.common.checks import ConfigurationError, Interrupted

SUBCOMMANDS = (train, find_learning_rate, predict, evaluate, serve)
INTERRUPTED_STATUS = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C


def import_plugins(package_names: List[str]) -> None:
    """Import each ``--include-package`` so its ``@register`` calls take effect.

    Raises:
        ConfigurationError: a package cannot be imported.
    """
    for name in package_names:
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise ConfigurationError(f"--include-package {name}: cannot import it ({error}).") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per subcommand."""
    parser = argparse.ArgumentParser(prog="allencv-lite", description="Image classification from configs.")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in SUBCOMMANDS:
        subparser = command.add_subparser(subparsers)
        subparser.add_argument("--include-package", action="append", default=[], metavar="PACKAGE",
                               help="import this package first, to register your own classes (repeatable)")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``allencv-lite`` console script; returns the exit status."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    args = build_parser().parse_args(argv)
    try:
        import_plugins(args.include_package)
        return args.func(args) or 0
    except ConfigurationError as error:
        print(f"allencv-lite: error: {error}", file=sys.stderr)
        return 2
    except Interrupted as error:
        print(f"allencv-lite: interrupted: {error}", file=sys.stderr)
        return INTERRUPTED_STATUS
    except KeyboardInterrupt:
        print("allencv-lite: interrupted.", file=sys.stderr)
        return INTERRUPTED_STATUS
