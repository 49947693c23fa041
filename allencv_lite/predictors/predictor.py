"""Predictors: JSON in, JSON out, around a trained model (AllenNLP's ``Predictor``)."""
from typing import Any, Dict, List, Optional

from allencv_lite.common.registrable import Registrable
from allencv_lite.data.dataset_readers.dataset_reader import DatasetReader
from allencv_lite.models.archival import Archive
from allencv_lite.models.model import Model

JsonDict = Dict[str, Any]


class Predictor(Registrable):
    """Wraps a model and the reader that prepares its inputs.

    Subclasses turn an input JSON dict into model input and the model's output into a
    JSON-serialisable dict (:meth:`predict_batch_json`).
    """

    def __init__(self, model: Model, dataset_reader: DatasetReader) -> None:
        self.model = model.eval()
        self.dataset_reader = dataset_reader

    @classmethod
    def from_archive(cls, archive: Archive, predictor_name: Optional[str] = None, **kwargs: Any) -> "Predictor":
        """The predictor registered as ``predictor_name`` (default: ``cls`` itself) over
        ``archive``'s model and validation reader (never the training augmentation).

        Raises:
            ConfigurationError: unknown ``predictor_name``.
        """
        predictor_class = cls.by_name(predictor_name) if predictor_name is not None else cls
        return predictor_class(archive.model, archive.dataset_reader, **kwargs)

    def predict_json(self, inputs: JsonDict) -> JsonDict:
        """Predict for one input dict."""
        return self.predict_batch_json([inputs])[0]

    def predict(self, inputs: JsonDict) -> JsonDict:
        """Same as :meth:`predict_json`."""
        return self.predict_json(inputs)

    def predict_batch_json(self, inputs: List[JsonDict]) -> List[JsonDict]:
        """Predict for several input dicts in one forward pass."""
        raise NotImplementedError


# The built-in implementations, each imported when a config first names it.
Predictor.register_lazily("default_image", "allencv_lite.predictors.image_predictor")
