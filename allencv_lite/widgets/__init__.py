"""Notebook panels (ipywidgets 8): explore augmentation, watch training, ask the model, clean the
data, collect your own images. Each is imported when first named, so ``import allencv_lite.widgets``
loads none of them (nor torch, nor ipywidgets)."""
from allencv_lite.common.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "AugmentationExplorer": f"{__name__}.augmentation_explorer",
    "DatasetCleaner": f"{__name__}.dataset_cleaner",
    "ImageCollector": f"{__name__}.image_collector",
    "ImageDropZone": f"{__name__}.image_drop_zone",
    "LiveTrainingCurves": f"{__name__}.live_training_curves",
    "PredictionPanel": f"{__name__}.prediction_panel",
})
__all__ = __dir__()
