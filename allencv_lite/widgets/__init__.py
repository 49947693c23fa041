"""Notebook panels (ipywidgets 8): explore augmentation, watch training, ask the model, clean the data."""
from allencv_lite.widgets.augmentation_explorer import AugmentationExplorer
from allencv_lite.widgets.dataset_cleaner import DatasetCleaner
from allencv_lite.widgets.image_drop_zone import ImageDropZone
from allencv_lite.widgets.live_training_curves import LiveTrainingCurves
from allencv_lite.widgets.prediction_panel import PredictionPanel

__all__ = ["AugmentationExplorer", "DatasetCleaner", "ImageDropZone", "LiveTrainingCurves", "PredictionPanel"]
