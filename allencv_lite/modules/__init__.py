"""Neural network building blocks: image-to-image and image-to-vector encoders (each imported
on first use, so a CNN never imports timm or torchvision)."""
from allencv_lite.common.lazy_exports import lazy_exports

_IM2IM, _IM2VEC = f"{__name__}.im2im_encoders", f"{__name__}.im2vec_encoders"
__getattr__, __dir__ = lazy_exports(__name__, {
    "FeedforwardEncoder": f"{_IM2IM}.feedforward_encoder",
    "Im2ImEncoder": f"{_IM2IM}.im2im_encoder",
    "ResidualEncoder": f"{_IM2IM}.residual_encoder",
    "ResnetEncoder": f"{_IM2IM}.resnet_encoder",
    "TimmEncoder": f"{_IM2IM}.timm_encoder",
    "FlattenEncoder": f"{_IM2VEC}.flatten_encoder",
    "GlobalAverageEncoder": f"{_IM2VEC}.global_average_encoder",
    "Im2VecEncoder": f"{_IM2VEC}.im2vec_encoder",
})
__all__ = __dir__()
