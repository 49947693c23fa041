"""The ``allencv-lite`` command line: ``train``, ``find-lr``, ``predict``, ``evaluate`` (as ``allennlp``
has them), ``serve`` (the web demo, as ``allennlp.service.server_simple``) and ``audit`` (label
issues, duplicates and leakage in a dataset)."""
import argparse
import signal
import sys
from typing import List, Optional

from allencv_lite.commands import audit, evaluate, export, find_learning_rate, predict, serve, train
from allencv_lite.commands.argument_parser import SuggestingArgumentParser
from allencv_lite.common.exit_status import exit_status
from allencv_lite.common.logs import log_to_stderr
from allencv_lite.common.plugins import add_include_package_argument, import_plugins

SUBCOMMANDS = (train, find_learning_rate, predict, evaluate, serve, audit, export)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per subcommand; a misspelt one, or a misspelt
    option, gets "did you mean" (:class:`~allencv_lite.commands.argument_parser.SuggestingArgumentParser`)."""
    parser = SuggestingArgumentParser(prog="allencv-lite", description="Image classification from configs.")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in SUBCOMMANDS:
        add_include_package_argument(command.add_subparser(subparsers))
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``allencv-lite`` console script; returns the exit status."""
    log_to_stderr()
    args = build_parser().parse_args(argv)

    def run() -> int:
        import_plugins(args.include_package)
        return args.func(args)

    return exit_status(run)


def run_command_line(argv: Optional[List[str]] = None) -> None:
    """The ``allencv-lite`` console script and ``python -m allencv_lite``: :func:`main`, then
    exit with its status. A Ctrl-C while the interpreter shuts down (about a second after a
    command that loaded torch) is ignored: the command's work is done and written, so its
    exit status stands. ``SIG_IGN``, because Python resets its own handlers to the default
    early in shutdown; code that calls this in-process and goes on (a test) restores SIGINT."""
    status = main(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(status)
