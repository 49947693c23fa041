"""``allencv-lite predict ARCHIVE INPUT``: one JSON object per line in, one per line out.

INPUT is a JSON-lines file (or ``-``, stdin), or one or more image files, each predicted as
if its line were ``{"image_path": "<the file>"}``.
"""
import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Iterator, List, Tuple

from allencv_lite.commands.help_format import DefaultsHelpFormatter
from allencv_lite.common.checks import ConfigurationError, Interrupted
from allencv_lite.common.text import plural
from allencv_lite.data.image_loading import IMAGE_EXTENSIONS, UnreadableImageError
from allencv_lite.predictors import add_min_confidence_argument, min_confidence_option

if TYPE_CHECKING:  # imported where used, so that the command line starts without torch
    from allencv_lite.predictors.predictor import JsonDict, Predictor


# What a bad input line raises: it becomes an error record, and the other lines still run.
INPUT_ERRORS = (ConfigurationError, UnreadableImageError)


INPUT_FORMAT_HINT = ('INPUT holds one JSON object per line, such as {"image_path": "cat.jpg"}; to predict image '
                     'files, pass them directly: allencv-lite predict ARCHIVE cat.jpg dog.png')


def _numbered_lines(stream: IO[str]) -> Iterator[Tuple[int, str]]:
    """The non-blank lines of ``stream`` with their numbers (from 1).

    Raises:
        ConfigurationError: a line is not UTF-8 text (an image or other binary file given as INPUT).
    """
    number = 0
    try:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                yield number, line
    except UnicodeDecodeError:
        name = getattr(stream, "name", "INPUT")
        raise ConfigurationError(f"{name} is not JSON lines: line {number + 1} is not UTF-8 text (an image or other "
                                 f"binary file?). {INPUT_FORMAT_HINT}.") from None


def predict_lines(predictor: "Predictor", stream: IO[str], batch_size: int = 1) -> Iterator[Tuple[bool, "JsonDict"]]:
    """Predict each JSON line of ``stream``; yields ``(ok, record)`` in input order.

    Lines are predicted ``batch_size`` at a time, in one forward pass each. A line that
    fails (bad JSON, missing file, not an image) gives the record ``{"line": n, "error":
    "..."}`` (``n`` counts from 1, blank lines included) and the others still run; a batch
    holding a bad line is re-run one line at a time to find it.
    """
    pending: List[Tuple[int, "JsonDict"]] = []

    def flush() -> Iterator[Tuple[bool, "JsonDict"]]:
        if not pending:
            return
        try:
            outputs = predictor.predict_batch_json([inputs for _, inputs in pending])
            yield from ((True, output) for output in outputs)
        except INPUT_ERRORS:
            for number, inputs in pending:  # find the failing line(s) one at a time
                try:
                    yield True, predictor.predict_json(inputs)
                except INPUT_ERRORS as error:
                    yield False, {"line": number, "error": str(error)}
        pending.clear()

    for number, line in _numbered_lines(stream):
        try:
            inputs = json.loads(line)
            if not isinstance(inputs, dict):
                raise ValueError("expected a JSON object")
        except ValueError as error:
            yield from flush()
            yield False, {"line": number, "error": f"not a JSON object: {error}. Write one object per line, such as "
                                                   '{"image_path": "cat.jpg"}'}
            continue
        pending.append((number, inputs))
        if len(pending) >= batch_size:
            yield from flush()
    yield from flush()


def _open(path: str, mode: str, role: str) -> IO[str]:
    try:
        return open(path, mode, encoding="utf-8", buffering=1)  # line-buffered: what is printed is also written
    except OSError as error:
        hint = (" To score every image of a <label>/<image> folder, run `allencv-lite evaluate ARCHIVE FOLDER`."
                if role == "input file" and os.path.isdir(path) else "")
        raise ConfigurationError(f"Cannot open the {role} {path}: {error.strerror}.{hint}") from None


def is_image_file_name(path: str) -> bool:
    """Whether ``path`` ends in one of :data:`~allencv_lite.data.image_loading.IMAGE_EXTENSIONS` (any case)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def open_inputs(inputs: List[str]) -> IO[str]:
    """The JSON lines to predict: the file (or stdin for ``-``) named by ``inputs``, or, when
    every entry is an image file name, one ``{"image_path": ...}`` line per image.

    Raises:
        ConfigurationError: several inputs that are not all images, or a file that cannot be opened.
    """
    if all(is_image_file_name(path) for path in inputs):
        return io.StringIO("".join(json.dumps({"image_path": path}) + "\n" for path in inputs))
    if len(inputs) > 1:
        raise ConfigurationError(f"INPUT is one JSON-lines file (or - for stdin) or image files "
                                 f"({' '.join(IMAGE_EXTENSIONS)}); got {inputs}.")
    if inputs[0] == "-":  # strict UTF-8, as for a file: under the C locale Python's own stdin lets binary through
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="strict", newline=None) \
            if hasattr(sys.stdin, "buffer") else sys.stdin
    return _open(inputs[0], "r", "input file")


def _write(sink: IO[str], line: str) -> None:
    try:
        sink.write(line + "\n")
    except OSError as error:
        raise ConfigurationError(f"Cannot write the output file {sink.name}: {error.strerror}.") from None


def run_predict(args: argparse.Namespace) -> int:
    """Run the ``predict`` command.

    Successful predictions go to stdout (unless ``--silent``), error records to stderr;
    both go to ``--output-file`` in input order, a line at a time.

    Returns:
        0 if every line was predicted, 1 if any line failed.

    Raises:
        ConfigurationError: bad archive, predictor name, batch size, INPUT that is not JSON
            lines, or a file that cannot be opened or written (exit status 2).
        Interrupted: Ctrl-C; says how many lines were done and where they were written.
    """
    if args.batch_size < 1:
        raise ConfigurationError(f"--batch-size must be at least 1, got {args.batch_size}.")
    options = min_confidence_option(args.min_confidence)
    from allencv_lite.export.onnx_model import load_model_file
    from allencv_lite.predictors.predictor import Predictor

    archive = load_model_file(args.archive_file, cuda_device=args.cuda_device)
    predictor = Predictor.from_archive(archive, args.predictor, **options)
    source = open_inputs(args.input_file)
    sink = _open(args.output_file, "w", "output file") if args.output_file else None
    failures = lines = 0
    try:
        for ok, record in predict_lines(predictor, source, args.batch_size):
            failures += not ok
            lines += 1
            line = json.dumps(record)
            if sink is not None:
                _write(sink, line)
            if not args.silent or not ok:
                print(line, file=sys.stdout if ok else sys.stderr, flush=True)  # a line as soon as it is known
    except KeyboardInterrupt:
        written = f"; they are in {args.output_file}" if sink is not None else ""
        raise Interrupted(f"predict stopped after {plural(lines, 'input line')} ({failures} failed){written}."
                          ) from None
    finally:
        if source is not sys.stdin:
            source.close()
        if sink is not None:
            try:
                sink.close()
            except OSError:
                pass  # already reported by _write
    if failures:
        print(f"allencv-lite predict: {failures} of {plural(lines, 'input line')} failed.", file=sys.stderr)
    return 1 if failures else 0


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``predict`` subcommand on the ``allencv-lite`` parser."""
    parser = subparsers.add_parser("predict", formatter_class=DefaultsHelpFormatter,
                                   help="predict with a trained model",
                                   description="Predict each JSON line of INPUT (as `allennlp predict`), or each "
                                   "image file given as INPUT. A bad line gives an "
                                   "error record with its line number and the others still run. Exit status: 0 "
                                   "all lines predicted, 1 some line failed, 2 bad archive or arguments, 130 Ctrl-C.")
    parser.add_argument("archive_file", help="model.tar.gz from `allencv-lite train` (or the run folder holding it), "
                                             "or model.onnx from `allencv-lite export`")
    parser.add_argument("input_file", nargs="+", metavar="INPUT",
                        help='a JSON-lines file, one object per line such as {"image_path": "cat.jpg"} (- reads '
                             "stdin); or image files, each predicted as its own line")
    parser.add_argument("--predictor", default="default_image", help="registered predictor name")
    parser.add_argument("--output-file", default=None, help="also write the JSON lines here")
    parser.add_argument("--batch-size", type=int, default=1, help="images per forward pass")
    parser.add_argument("--cuda-device", type=int, default=-1, help="-1 for CPU, else the GPU index")
    parser.add_argument("--silent", action="store_true", help="do not print predictions to stdout")
    add_min_confidence_argument(parser)
    parser.set_defaults(func=run_predict)
    return parser
