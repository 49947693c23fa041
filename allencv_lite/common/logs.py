"""How the command line and the demo server log: one line per record on standard error."""
import logging

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
