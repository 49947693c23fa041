"""Data: readers, datasets, vocabulary, augmentation and image decoding."""
from allencv_lite.data.augmentation import Augmentation
from allencv_lite.data.data_loader import DataLoaderFactory
from allencv_lite.data.dataset import ImageDataset, collate_samples
from allencv_lite.data.dataset_readers import DatasetReader, ImageClassificationDirectoryReader, ImageDatasetReader
from allencv_lite.data.image_loading import UnreadableImageError, read_image
from allencv_lite.data.vocabulary import Vocabulary

__all__ = ["Augmentation", "DataLoaderFactory", "DatasetReader", "ImageClassificationDirectoryReader",
           "ImageDataset", "ImageDatasetReader", "UnreadableImageError", "Vocabulary",
           "collate_samples", "read_image"]
