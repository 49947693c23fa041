"""Predictors: JSON-to-JSON prediction with a trained model (each imported on first use)."""
import argparse
from typing import Dict, Optional

from allencv_lite.common.checks import check_probability
from allencv_lite.common.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "ImagePredictor": f"{__name__}.image_predictor",
    "Predictor": f"{__name__}.predictor",
})
__all__ = __dir__()


def add_min_confidence_argument(parser: argparse.ArgumentParser) -> None:
    """``--min-confidence``, for ``predict`` and ``serve`` (see :func:`min_confidence_option`)."""
    parser.add_argument("--min-confidence", type=float, default=None, metavar="PROBABILITY",
                        help='below this top probability (0 to 1) the answer is "not sure": "label" is null, '
                             '"not_sure" true and "top_2" the two most probable labels; choose it with '
                             "`allencv-lite evaluate --target-accuracy`")


def min_confidence_option(min_confidence: Optional[float]) -> Dict[str, float]:
    """The predictor's keyword argument for ``--min-confidence`` (none when it is not given, so a
    registered predictor without the option still works); checked before any model is loaded.

    Raises:
        ConfigurationError: a value outside [0, 1], in one line naming ``--min-confidence``.
    """
    if min_confidence is None:
        return {}
    return {"min_confidence": check_probability(min_confidence, "--min-confidence")}
