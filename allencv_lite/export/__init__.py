"""ONNX export: a trained model as a verified ``.onnx`` file that runs without PyTorch (each
module imported on first use; onnxruntime is the optional extra ``[onnx]``)."""
from allencv_lite.common.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "export_onnx": f"{__name__}.onnx_export",
    "load_model_file": f"{__name__}.onnx_model",
    "OnnxClassifier": f"{__name__}.onnx_model",
})
__all__ = __dir__()
