"""Image-to-vector encoders, registered by name (each imported on first use)."""
from allencv_lite.common.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "FlattenEncoder": f"{__name__}.flatten_encoder",
    "GlobalAverageEncoder": f"{__name__}.global_average_encoder",
    "Im2VecEncoder": f"{__name__}.im2vec_encoder",
})
__all__ = __dir__()
