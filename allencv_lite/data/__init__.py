"""Data: readers, datasets, vocabulary, augmentation and image decoding.

``allencv_lite.data.summaries`` (class counts, sample grids) is imported on its own, since
it needs matplotlib.
"""
from allencv_lite.data.augmentation import Augmentation
from allencv_lite.data.data_loader import DataLoaderFactory, ImageDataLoader
from allencv_lite.data.dataset import ImageDataset, SkippedFiles, SkippedSample, collate_samples
from allencv_lite.data.dataset_readers import (DatasetReader, ImageClassificationCsvReader,
                                               ImageClassificationDirectoryReader, ImageDatasetReader)
from allencv_lite.data.image_loading import UnreadableImageError, check_image, read_image
from allencv_lite.data.vocabulary import Vocabulary

__all__ = ["Augmentation", "DataLoaderFactory", "DatasetReader", "ImageClassificationCsvReader",
           "ImageClassificationDirectoryReader", "ImageDataLoader", "ImageDataset", "ImageDatasetReader",
           "SkippedFiles", "SkippedSample", "UnreadableImageError", "Vocabulary", "check_image",
           "collate_samples", "read_image"]
