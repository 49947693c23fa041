"""Models and their archives (each imported on first use)."""
from allencv_lite.common.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "Archive": f"{__name__}.archival",
    "archive_model": f"{__name__}.archival",
    "load_archive": f"{__name__}.archival",
    "BasicImageClassifier": f"{__name__}.basic_image_classifier",
    "Model": f"{__name__}.model",
})
__all__ = __dir__()
