"""``allencv-lite predict ARCHIVE INPUT``: one JSON object per line in, one per line out."""
import argparse
import json
import sys
from typing import IO, TYPE_CHECKING, Iterator, List, Tuple

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.image_loading import UnreadableImageError

if TYPE_CHECKING:  # imported where used, so that the command line starts without torch
    from allencv_lite.predictors.predictor import JsonDict, Predictor


# What a bad input line raises: it becomes an error record, and the other lines still run.
INPUT_ERRORS = (ConfigurationError, UnreadableImageError)


def _numbered_lines(stream: IO[str]) -> Iterator[Tuple[int, str]]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line


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
            yield False, {"line": number, "error": f"not a JSON object: {error}"}
            continue
        pending.append((number, inputs))
        if len(pending) >= batch_size:
            yield from flush()
    yield from flush()


def _open(path: str, mode: str, role: str) -> IO[str]:
    try:
        return open(path, mode, encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(f"Cannot open the {role} {path}: {error.strerror}.") from None


def run_predict(args: argparse.Namespace) -> int:
    """Run the ``predict`` command.

    Successful predictions go to stdout (unless ``--silent``), error records to stderr;
    both go to ``--output-file`` in input order.

    Returns:
        0 if every line was predicted, 1 if any line failed.

    Raises:
        ConfigurationError: bad archive, predictor name, batch size, or a file that
            cannot be opened (exit status 2).
    """
    if args.batch_size < 1:
        raise ConfigurationError(f"--batch-size must be at least 1, got {args.batch_size}.")
    from allencv_lite.models.archival import load_archive
    from allencv_lite.predictors.predictor import Predictor

    archive = load_archive(args.archive_file, cuda_device=args.cuda_device)
    predictor = Predictor.from_archive(archive, args.predictor)
    source = sys.stdin if args.input_file == "-" else _open(args.input_file, "r", "input file")
    sink = _open(args.output_file, "w", "output file") if args.output_file else None
    failures = lines = 0
    try:
        for ok, record in predict_lines(predictor, source, args.batch_size):
            failures += not ok
            lines += 1
            line = json.dumps(record)
            if sink is not None:
                sink.write(line + "\n")
            if not args.silent or not ok:
                print(line, file=sys.stdout if ok else sys.stderr)
    finally:
        if source is not sys.stdin:
            source.close()
        if sink is not None:
            sink.close()
    if failures:
        print(f"allencv-lite predict: {failures} of {lines} input lines failed.", file=sys.stderr)
    return 1 if failures else 0


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``predict`` subcommand on the ``allencv-lite`` parser."""
    parser = subparsers.add_parser("predict", help="predict with a trained model",
                                   description="Predict each JSON line of INPUT (as `allennlp predict`). A bad line gives an "
                                   "error record with its line number and the others still run. Exit status: 0 "
                                   "all lines predicted, 1 some line failed, 2 bad archive or arguments.")
    parser.add_argument("archive_file", help="model.tar.gz from `allencv-lite train`")
    parser.add_argument("input_file", help='JSON lines such as {"image_path": "cat.jpg"}, or - for stdin')
    parser.add_argument("--predictor", default="default_image", help="registered predictor name")
    parser.add_argument("--output-file", default=None, help="also write the JSON lines here")
    parser.add_argument("--batch-size", type=int, default=1, help="images per forward pass")
    parser.add_argument("--cuda-device", type=int, default=-1, help="-1 for CPU, else the GPU index")
    parser.add_argument("--silent", action="store_true", help="do not print predictions to stdout")
    parser.set_defaults(func=run_predict)
    return parser
