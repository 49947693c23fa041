"""``allencv-lite predict ARCHIVE INPUT``: one JSON object per line in, one per line out.

INPUT is a JSON-lines file (or ``-``, stdin), or image files and folders: one record per image
naming its file, and a summary line (see :mod:`allencv_lite.predictors.image_files`).
"""
import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable, Iterator, List, Tuple

from allencv_lite.commands.help_format import DefaultsHelpFormatter
from allencv_lite.common.checks import ConfigurationError, Interrupted
from allencv_lite.common.text import plural
from allencv_lite.data.image_loading import IMAGE_EXTENSIONS
from allencv_lite.predictors import add_min_confidence_argument, min_confidence_option

if TYPE_CHECKING:  # imported where used, so that the command line starts without torch
    from allencv_lite.predictors.predictor import JsonDict, Predictor


INPUT_FORMAT_HINT = ('INPUT holds one JSON object per line, such as {"image_path": "cat.jpg"}; to predict image '
                     'files, pass them (or their folder) directly: allencv-lite predict ARCHIVE cat.jpg dog.png')


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
        from allencv_lite.predictors.image_files import predict_each

        for (number, _), output in zip(pending, predict_each(predictor, [inputs for _, inputs in pending])):
            if isinstance(output, Exception):
                yield False, {"line": number, "error": str(output)}
            else:
                yield True, output
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
        raise ConfigurationError(f"Cannot open the {role} {path}: {error.strerror}.") from None


def names_images(path: str) -> bool:
    """Whether INPUT ``path`` names images to predict: a folder, or a file name ending in one of
    :data:`~allencv_lite.data.image_loading.IMAGE_EXTENSIONS` (any case)."""
    return os.path.isdir(path) or Path(path).suffix.lower() in IMAGE_EXTENSIONS


def open_inputs(inputs: List[str]) -> IO[str]:
    """The JSON lines to predict: the file (or stdin for ``-``) named by ``inputs``.

    Raises:
        ConfigurationError: several inputs that are not all images or folders, or a file that
            cannot be opened.
    """
    if len(inputs) > 1:
        raise ConfigurationError(f"INPUT is one JSON-lines file (or - for stdin) or image files and folders "
                                 f"({' '.join(IMAGE_EXTENSIONS)}); got {inputs}.")
    if inputs[0] == "-":  # strict UTF-8, as for a file: under the C locale Python's own stdin lets binary through
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="strict", newline=None) \
            if hasattr(sys.stdin, "buffer") else sys.stdin
    return _open(inputs[0], "r", "input file")


def _write(write: Callable[["JsonDict"], None], sink: IO[str], record: "JsonDict") -> None:
    try:
        write(record)
    except OSError as error:
        raise ConfigurationError(f"Cannot write the output file {sink.name}: {error.strerror}.") from None


def run_predict(args: argparse.Namespace) -> int:
    """Run the ``predict`` command.

    Successful predictions go to stdout (unless ``--silent``), error records to stderr;
    both go to ``--output-file`` in input order, a line at a time (CSV for a ``.csv`` name when
    INPUT names images). Image files and folders end with a summary line on stderr.

    Returns:
        0 if every line (image) was predicted, 1 if any failed.

    Raises:
        ConfigurationError: bad archive, predictor name, batch size, INPUT that is not JSON
            lines, a CSV output file for JSON-lines input, or a file that cannot be opened or
            written (exit status 2).
        Interrupted: Ctrl-C; says how many lines were done and where they were written.
    """
    if args.batch_size < 1:
        raise ConfigurationError(f"--batch-size must be at least 1, got {args.batch_size}.")
    options = min_confidence_option(args.min_confidence)
    images = all(names_images(path) for path in args.input_file)
    if not images and args.output_file and Path(args.output_file).suffix.lower() == ".csv":
        raise ConfigurationError(f"--output-file {args.output_file}: CSV is written for image files and folders "
                                 "given as INPUT; JSON-lines input gives JSON lines (name the file .jsonl).")
    from allencv_lite.export.onnx_model import load_model_file
    from allencv_lite.predictors import image_files
    from allencv_lite.predictors.predictor import Predictor

    archive = load_model_file(args.archive_file, cuda_device=args.cuda_device)
    predictor = Predictor.from_archive(archive, args.predictor, **options)
    if images:
        found, passed_over = image_files.find_images(args.input_file)
        if not found:
            raise ConfigurationError(f"No images in {' '.join(args.input_file)}: INPUT folders are searched for "
                                     f"files ending in {', '.join(IMAGE_EXTENSIONS)}.")
        source, results, unit = None, image_files.predict_image_files(predictor, found, args.batch_size), "image"
    else:
        source = open_inputs(args.input_file)
        results, unit = predict_lines(predictor, source, args.batch_size), "input line"
    sink = _open(args.output_file, "w", "output file") if args.output_file else None
    write = image_files.record_writer(sink, args.output_file, image_files.model_labels(predictor)) if sink else None
    tally = image_files.PredictionTally()
    try:
        for ok, record in results:
            tally.add(ok, record)
            if write is not None:
                _write(write, sink, record)
            if not args.silent or not ok:
                print(json.dumps(record), file=sys.stdout if ok else sys.stderr, flush=True)  # as soon as known
    except KeyboardInterrupt:
        written = f"; they are in {args.output_file}" if sink is not None else ""
        raise Interrupted(f"predict stopped after {plural(tally.total, unit)} ({tally.failed} failed){written}."
                          ) from None
    finally:
        if source is not None and source is not sys.stdin:
            source.close()
        if sink is not None:
            try:
                sink.close()
            except OSError:
                pass  # already reported by _write
    if images:
        skipped = f"; {passed_over.summary()}" if len(passed_over) else ""
        print(f"allencv-lite predict: {tally.summary()}{skipped}.", file=sys.stderr)
    elif tally.failed:
        print(f"allencv-lite predict: {tally.failed} of {plural(tally.total, unit)} failed.", file=sys.stderr)
    return 1 if tally.failed else 0


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``predict`` subcommand on the ``allencv-lite`` parser."""
    parser = subparsers.add_parser("predict", formatter_class=DefaultsHelpFormatter,
                                   help="predict with a trained model",
                                   description="Predict each JSON line of INPUT (as `allennlp predict`), or every "
                                   "image in the files and folders given as INPUT (folders searched recursively; one "
                                   'record per image, the JSON-lines record with "path" first, and a summary line). '
                                   "A bad line or image gives an error record and the others still run. Exit status: 0 "
                                   "all predicted, 1 some line or image failed, 2 bad archive or arguments, 130 Ctrl-C.")
    parser.add_argument("archive_file", help="model.tar.gz from `allencv-lite train` (or the run folder holding it), "
                                             "or model.onnx from `allencv-lite export`")
    parser.add_argument("input_file", nargs="+", metavar="INPUT",
                        help='a JSON-lines file, one object per line such as {"image_path": "cat.jpg"} (- reads '
                             "stdin); or image files and folders of images")
    parser.add_argument("--predictor", default="default_image", help="registered predictor name")
    parser.add_argument("--output-file", default=None, help="also write the records here: JSON lines, or CSV for a .csv name "
                                                                 "(image INPUT only)")
    parser.add_argument("--batch-size", type=int, default=1, help="images per forward pass")
    parser.add_argument("--cuda-device", type=int, default=-1, help="-1 for CPU, else the GPU index")
    parser.add_argument("--silent", action="store_true", help="do not print predictions to stdout")
    add_min_confidence_argument(parser)
    parser.set_defaults(func=run_predict)
    return parser
