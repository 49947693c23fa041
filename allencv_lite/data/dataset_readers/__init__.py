"""Dataset readers, registered by name (each imported on first use)."""
from allencv_lite.common.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "DatasetReader": f"{__name__}.dataset_reader",
    "ImageDatasetReader": f"{__name__}.dataset_reader",
    "ImageClassificationCsvReader": f"{__name__}.image_classification_csv",
    "ImageClassificationDirectoryReader": f"{__name__}.image_classification_directory",
})
__all__ = __dir__()
