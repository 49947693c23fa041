"""``allencv-lite serve --archive-path A``: the web demo (see :mod:`allencv_lite.service.server_simple`)."""
import argparse

from allencv_lite.commands.help_format import DefaultsHelpFormatter
from allencv_lite.service import DEFAULT_MAX_UPLOAD_MB


def add_server_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of the demo server (``--include-package`` is added by the command line)."""
    parser.add_argument("--archive-path", required=True, help="model.tar.gz from `allencv-lite train`")
    parser.add_argument("--predictor", default="default_image", help="registered predictor name")
    parser.add_argument("--title", default="allencv-lite demo", help="the page's title")
    parser.add_argument("--classification", action="store_true",
                        help="draw a probability bar per label (else show the output JSON)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on; the default is reachable only from this machine")
    parser.add_argument("--port", type=int, default=8000, help="TCP port")
    parser.add_argument("--max-upload-mb", type=float, default=DEFAULT_MAX_UPLOAD_MB,
                        help="larger uploads are refused with 413 (MiB)")
    parser.add_argument("--cuda-device", type=int, default=-1, help="-1 for CPU, else the GPU index")
    return parser


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
