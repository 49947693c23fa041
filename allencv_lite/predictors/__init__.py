"""Predictors: JSON-to-JSON prediction with a trained model."""
from allencv_lite.predictors.image_predictor import ImagePredictor
from allencv_lite.predictors.predictor import Predictor

__all__ = ["ImagePredictor", "Predictor"]
