"""Predictors: JSON-to-JSON prediction with a trained model (each imported on first use)."""
from allencv_lite.common.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "ImagePredictor": f"{__name__}.image_predictor",
    "Predictor": f"{__name__}.predictor",
})
__all__ = __dir__()
