"""Data: readers, datasets, vocabulary, augmentation and image decoding.

Each name is imported on first use (``from allencv_lite.data import Vocabulary`` imports only
the vocabulary). ``allencv_lite.data.summaries`` (class counts, sample grids) needs matplotlib.
"""
from allencv_lite.common.lazy_exports import lazy_exports

_READERS = "allencv_lite.data.dataset_readers"
__getattr__, __dir__ = lazy_exports(__name__, {
    "Augmentation": "allencv_lite.data.augmentation",
    "AugmentationPipeline": "allencv_lite.data.augmentation_pipeline",
    "DataLoaderFactory": "allencv_lite.data.data_loader",
    "ImageDataLoader": "allencv_lite.data.data_loader",
    "ImageDataset": "allencv_lite.data.dataset",
    "SkippedFiles": "allencv_lite.data.dataset",
    "SkippedSample": "allencv_lite.data.dataset",
    "collate_samples": "allencv_lite.data.dataset",
    "DatasetReader": f"{_READERS}.dataset_reader",
    "ImageDatasetReader": f"{_READERS}.dataset_reader",
    "ImageClassificationCsvReader": f"{_READERS}.image_classification_csv",
    "ImageClassificationDirectoryReader": f"{_READERS}.image_classification_directory",
    "UnreadableImageError": "allencv_lite.data.image_loading",
    "check_image": "allencv_lite.data.image_loading",
    "read_image": "allencv_lite.data.image_loading",
    "Vocabulary": "allencv_lite.data.vocabulary",
})
__all__ = __dir__()
