"""The contract every model honours."""
from typing import Any, Dict

import torch

from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable
from allencv_lite.data.vocabulary import Vocabulary


class Model(torch.nn.Module, Registrable, FromParams):
    """A model takes a batch dict (``image`` ``(batch, 3, H, W)``, optional ``label``
    ``(batch,)``) and returns a dict of tensors, with ``"loss"`` when labels are given.

    Args:
        vocab: the label vocabulary, passed by the trainer/archive (never in the config).
    """

    def __init__(self, vocab: Vocabulary) -> None:
        super().__init__()
        self.vocab = vocab

    def get_metrics(self, reset: bool = False) -> Dict[str, float]:
        """Metrics accumulated since the last reset (e.g. ``{"accuracy": 0.93}``)."""
        return {}

    def make_output_human_readable(self, output_dict: Dict[str, Any]) -> Dict[str, Any]:
        """Add readable fields (label strings) to the output of ``forward``."""
        return output_dict


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of ``model``'s first parameter; the CPU for a model without parameters (an
    ONNX export run by onnxruntime, :class:`~allencv_lite.export.onnx_model.OnnxClassifier`)."""
    return next((parameter.device for parameter in model.parameters()), torch.device("cpu"))


# The built-in implementations, each imported when a config first names it.
Model.register_lazily("basic_image_classifier", "allencv_lite.models.basic_image_classifier")
