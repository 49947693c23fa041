"""Dataset readers, registered by name."""
from allencv_lite.data.dataset_readers.dataset_reader import DatasetReader, ImageDatasetReader
from allencv_lite.data.dataset_readers.image_classification_csv import ImageClassificationCsvReader
from allencv_lite.data.dataset_readers.image_classification_directory import ImageClassificationDirectoryReader

__all__ = ["DatasetReader", "ImageDatasetReader", "ImageClassificationCsvReader", "ImageClassificationDirectoryReader"]
