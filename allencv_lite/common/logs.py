"""How the command line and the demo server log: one line per record on standard error; other
libraries' records for their own developers kept out of it."""
import contextlib
import logging
from typing import Iterator

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_to_stderr() -> None:
    """Log records of level INFO and above to standard error, one line each, e.g.
    ``2026-12-01 15:52:48,764 INFO allencv_lite.training.from_config: Wrote runs/digits/model.tar.gz``.

    torch's loggers are put at WARNING first, the level torch gives them once its import is
    complete: a Ctrl-C during that import would otherwise let its INFO records for its own
    developers through (FakeTensor cache statistics at exit). ``TORCH_LOGS`` still sets them.
    """
    logging.getLogger("torch").setLevel(logging.WARNING)
    logging.basicConfig(format=LOG_FORMAT, level=logging.INFO)


@contextlib.contextmanager
def warnings_only_from(*names: str) -> Iterator[None]:
    """Within the block, the loggers ``names`` (and their children, e.g. ``onnxscript.optimizer``)
    pass on WARNING and above only, whatever the root's level; afterwards each has its own level
    back. A logger already set above WARNING keeps its level.

    For libraries that log their passes at INFO (onnxscript's optimizer: "Removed 20 unused
    nodes"), which would otherwise reach the user's terminal among allencv-lite's own lines.
    """
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger, level in zip(loggers, levels):
        logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
