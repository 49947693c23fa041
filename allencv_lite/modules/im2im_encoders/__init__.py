"""Image-to-image encoders (backbones), registered by name."""
from allencv_lite.modules.im2im_encoders.feedforward_encoder import FeedforwardEncoder
from allencv_lite.modules.im2im_encoders.im2im_encoder import Im2ImEncoder
from allencv_lite.modules.im2im_encoders.resnet_encoder import ResnetEncoder
from allencv_lite.modules.im2im_encoders.timm_encoder import TimmEncoder

__all__ = ["FeedforwardEncoder", "Im2ImEncoder", "ResnetEncoder", "TimmEncoder"]
