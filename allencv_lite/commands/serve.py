"""``allencv-lite serve --archive-path A``: the web demo (see :mod:`allencv_lite.service.server_simple`)."""
import argparse

from allencv_lite.commands.help_format import DefaultsHelpFormatter
from allencv_lite.service import add_server_arguments


def run_serve(args: argparse.Namespace) -> int:
    """Run the ``serve`` command (Flask and the model are imported only now)."""
    from allencv_lite.service.server_simple import run_server

    return run_server(args)


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``serve`` subcommand on the ``allencv-lite`` parser."""
    parser = subparsers.add_parser(
        "serve", formatter_class=DefaultsHelpFormatter, help="serve a web demo of a trained model",
        description="Serve a page where you drop an image and see the model's prediction, as "
                    "`python -m allennlp.service.server_simple` (also `python -m allencv_lite.service.server_simple`).")
    add_server_arguments(parser)
    parser.set_defaults(func=run_serve)
    return parser
