"""Models and their archives."""
from allencv_lite.models.archival import Archive, archive_model, load_archive
from allencv_lite.models.basic_image_classifier import BasicImageClassifier
from allencv_lite.models.model import Model

__all__ = ["Archive", "BasicImageClassifier", "Model", "archive_model", "load_archive"]
