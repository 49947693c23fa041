"""A web demo for a trained model, as AllenNLP's ``server_simple``, on Flask::

    python -m allencv_lite.service.server_simple --archive-path runs/cats_dogs_cpu/model.tar.gz \\
        --predictor default_image --title "Cats and Dogs Classifier" --classification

(or ``allencv-lite serve`` with the same options) serves, on http://127.0.0.1:8000/, a page
where you drop or pick an image, see it, and see the model's probability for each label.

The page posts to ``POST /predict``, which takes either a multipart form with the image file
in the field ``image`` or a JSON object ``{"image": "<base64 of the file>"}`` and answers with
the predictor's JSON. With ``"explain": true`` in the JSON (or a form field ``explain`` set to
``true``, which the page's "Show where the model looks" checkbox sends) the answer also has
``"explanation"``, the Grad-CAM overlay as a PNG data URL, which the page shows beside the
picture. A body that is not an image gets ``400`` with ``{"error": "..."}``, a
sentence for the person at the page (for a file that cannot be decoded, also ``"reason"``, the
same words the command line uses, such as ``"empty file"``, and ``"detail"``); one larger than
``max_upload_bytes`` gets ``413``. ``/favicon.ico`` is the demo's icon. The server never reads files named in a request
(``image_path`` is refused), listens on the loopback interface unless ``--host`` says
otherwise, and runs one prediction at a time (a lock), so concurrent requests are safe.
"""
import argparse
import base64
import logging
import os
import re
import signal
import socket
import sys
import threading
from typing import Any, List, Optional, Tuple

from flask import Flask, Response, jsonify, render_template, request, send_from_directory
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.serving import WSGIRequestHandler, make_server

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.exit_status import exit_status
from allencv_lite.common.logs import log_to_stderr
from allencv_lite.common.plugins import add_include_package_argument, import_plugins
from allencv_lite.data.image_loading import UnreadableImageError
from allencv_lite.export.onnx_model import load_model_file
from allencv_lite.predictors import min_confidence_option
from allencv_lite.predictors.predictor import JsonDict, Predictor
from allencv_lite.service import DEFAULT_MAX_UPLOAD_MB, add_server_arguments

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

# The Select Graphic Rendition sequences Werkzeug colours a request's log line with (ECMA-48).
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


class RequestLogHandler(WSGIRequestHandler):
    """Werkzeug's request handler, logging each request (``"GET /nowhere HTTP/1.1" 404 -``)
    in colour on a terminal and in plain text elsewhere: a log file or pipe would keep the
    colour codes as noise (Werkzeug colours whenever the platform can)."""

    def log(self, type: str, message: str, *args: Any) -> None:
        if not sys.stderr.isatty():  # Werkzeug escaped control characters of the request before colouring
            args = tuple(ANSI_COLOUR.sub("", arg) if isinstance(arg, str) else arg for arg in args)
        super().log(type, message, *args)


class BadRequest(Exception):
    """A request the demo cannot answer; becomes ``400`` with its message."""


def request_inputs() -> JsonDict:
    """The predictor input carried by the current ``POST /predict`` request.

    Raises:
        BadRequest: no image in the request, or an ``image_path`` (the demo does not read
            files on the server).
        RequestEntityTooLarge: the body is larger than the app's ``MAX_CONTENT_LENGTH``.
    """
    if request.files:
        upload = request.files.get("image")
        if upload is None:
            raise BadRequest(f"Send the image in the form field 'image'; got fields {sorted(request.files)}.")
        inputs = {"image": base64.b64encode(upload.read()).decode("ascii")}
        if "explain" in request.form:
            inputs["explain"] = request.form["explain"].lower() in ("true", "1", "on")
        return inputs
    if request.is_json:
        inputs = request.get_json(silent=True)
        if not isinstance(inputs, dict):
            raise BadRequest('The JSON body must be an object such as {"image": "<base64 of the file>"}.')
        if "image_path" in inputs:
            raise BadRequest("The demo does not read files on the server; send the image itself, "
                             'as {"image": "<base64 of the file>"} or a multipart upload.')
        return inputs
    raise BadRequest('POST an image: a multipart form with the file in the field "image", '
                     'or JSON {"image": "<base64 of the file>"}.')


def refusal(status: int, answer: JsonDict) -> Tuple[Response, int]:
    """The JSON ``answer`` (``{"error": ..., maybe "detail": ...}``) with HTTP ``status``; the
    reason is logged too, since Werkzeug's line for the request gives only the status."""
    logger.info("Refused %s %s (%d): %s", request.method, request.path, status, answer.get("detail", answer["error"]))
    return jsonify(answer), status


def make_app(predictor: Predictor, title: str = "allencv-lite demo", classification: bool = True,
             max_upload_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * 2**20)) -> Flask:
    """The Flask app of the demo.

    Args:
        predictor: answers each request with ``predictor.predict_json(inputs)``.
        title: the page's title and heading.
        classification: the page draws one probability bar per label (the output needs
            ``label`` and ``probabilities``); otherwise it shows the output JSON.
        max_upload_bytes: larger request bodies are refused with ``413``.

    Routes:
        ``GET /``: the page. ``POST /predict``: see the module docstring.
    """
    app = Flask(__name__)  # templates/ and static/ live beside this module (package data)
    app.config["MAX_CONTENT_LENGTH"] = max_upload_bytes
    lock = threading.Lock()  # one prediction at a time: the model and augmentation pipeline are shared

    @app.get("/")
    def index() -> str:
        return render_template("index.html", title=title, classification=classification,
                               max_upload_bytes=max_upload_bytes)

    @app.get("/favicon.ico")
    def favicon() -> Any:
        return send_from_directory(app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon")

    @app.post("/predict")
    def predict() -> Any:
        try:
            inputs = request_inputs()
            with lock:
                return jsonify(predictor.predict_json(inputs))
        except UnreadableImageError as error:
            return refusal(400, {"error": error.for_people(), "reason": error.reason, "detail": str(error)})
        except (BadRequest, ConfigurationError) as error:
            return refusal(400, {"error": str(error)})

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> Any:
        return refusal(413, {"error": f"The upload is larger than the limit of {max_upload_bytes} bytes "
                                      f"({max_upload_bytes / 2**20:.1f} MiB)."})

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        return jsonify({"error": error.description}), error.code

    return app


def run_server(args: argparse.Namespace) -> int:
    """Load the archive and serve the demo until Ctrl-C (Werkzeug's threaded server, as
    Flask's ``app.run``). The port is bound before "Serving ..." is logged, so the line is true.

    Raises:
        ConfigurationError: bad archive or predictor name, a non-positive upload limit, a
            ``--min-confidence`` outside [0, 1], or a
            host and port that cannot be listened on (in use, not this machine's).
    """
    if args.max_upload_mb <= 0:
        raise ConfigurationError(f"--max-upload-mb must be positive, got {args.max_upload_mb}.")
    options = min_confidence_option(args.min_confidence)
    predictor = Predictor.from_archive(load_model_file(args.archive_path, cuda_device=args.cuda_device),
                                       args.predictor, **options)
    app = make_app(predictor, title=args.title, classification=args.classification,
                   max_upload_bytes=int(args.max_upload_mb * 2**20))
    if args.host not in LOOPBACK_HOSTS:
        logger.warning("Listening on %s: the demo is reachable from other machines.", args.host)
    try:  # bound here, not by Werkzeug, which prints two lines and exits on a port in use
        listening = socket.create_server((args.host, args.port),
                                         family=socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)  # create_server appends the address
        raise ConfigurationError(f"Cannot listen on {args.host} port {args.port}: {reason}. Pass another "
                                 "--port, or stop the program that uses this one.") from None
    with listening:  # Werkzeug serves on a duplicate of it
        server = make_server(args.host, args.port, app, threaded=True, request_handler=RequestLogHandler,
                             fd=listening.fileno())
        port = listening.getsockname()[1]  # the one the system chose for --port 0
    stop_on_interrupt()  # before the line that tells a script the server is up: it may send SIGINT at once
    try:
        logger.info("Serving %r on http://%s:%d/", args.title, args.host, port)
        server.serve_forever()  # until Ctrl-C, which Werkzeug takes as the way to stop, closing the socket
    except KeyboardInterrupt:  # it came before serve_forever was listening for it
        server.server_close()
    logger.info("Stopped.")
    return 0


def stop_on_interrupt() -> None:
    """Make SIGINT (Ctrl-C, ``kill -INT``) stop the server cleanly even when a shell started it
    as a background job (``serve ... &`` in a script), which starts with SIGINT ignored.
    SIGTERM keeps its default: the process ends at once (status -15), as the lessons'
    ``DemoServer.stop`` expects."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m allencv_lite.service.server_simple ...``: the same as ``allencv-lite serve ...``."""
    log_to_stderr()
    parser = argparse.ArgumentParser(prog="python -m allencv_lite.service.server_simple",
                                     description="Serve a web demo of a trained model (as `allencv-lite serve`).")
    add_server_arguments(parser)
    add_include_package_argument(parser)
    args = parser.parse_args(argv)

    def run() -> int:
        import_plugins(args.include_package)
        return run_server(args)

    return exit_status(run)


if __name__ == "__main__":
    sys.exit(main())
