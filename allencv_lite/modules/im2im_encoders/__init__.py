"""Image-to-image encoders (backbones), registered by name (each imported on first use)."""
from allencv_lite.common.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "FeedforwardEncoder": f"{__name__}.feedforward_encoder",
    "Im2ImEncoder": f"{__name__}.im2im_encoder",
    "ResidualEncoder": f"{__name__}.residual_encoder",
    "ResnetEncoder": f"{__name__}.resnet_encoder",
    "TimmEncoder": f"{__name__}.timm_encoder",
})
__all__ = __dir__()
