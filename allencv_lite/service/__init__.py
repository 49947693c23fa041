"""Serving a trained model: a web demo (``server_simple``) on Flask, imported only when served."""
import argparse

from allencv_lite.predictors import add_min_confidence_argument

DEFAULT_MAX_UPLOAD_MB = 10.0  # uploads larger than this many MiB are refused with 413


def add_server_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of the demo server, for `allencv-lite serve` and `python -m allencv_lite.service.server_simple`
    (each adds ``--include-package`` with :func:`~allencv_lite.common.plugins.add_include_package_argument`)."""
    parser.add_argument("--archive-path", required=True,
                        help="model.tar.gz from `allencv-lite train` (or the run folder holding it), or model.onnx "
                             "from `allencv-lite export`")
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
    add_min_confidence_argument(parser)
    return parser
