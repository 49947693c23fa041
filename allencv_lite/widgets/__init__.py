"""Notebook panels (ipywidgets 8): explore augmentation, watch training, ask the model, clean the data,
collect your own images."""
from allencv_lite.widgets.augmentation_explorer import AugmentationExplorer
from allencv_lite.widgets.dataset_cleaner import DatasetCleaner
from allencv_lite.widgets.image_collector import ImageCollector
from allencv_lite.widgets.image_drop_zone import ImageDropZone
from allencv_lite.widgets.live_training_curves import LiveTrainingCurves
from allencv_lite.widgets.prediction_panel import PredictionPanel

__all__ = ["AugmentationExplorer", "DatasetCleaner", "ImageCollector", "ImageDropZone", "LiveTrainingCurves", "PredictionPanel"]
