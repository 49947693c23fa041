"""Neural network building blocks: image-to-image and image-to-vector encoders."""
from allencv_lite.modules.im2im_encoders import FeedforwardEncoder, Im2ImEncoder, ResnetEncoder, TimmEncoder
from allencv_lite.modules.im2vec_encoders import FlattenEncoder, GlobalAverageEncoder, Im2VecEncoder

__all__ = ["FeedforwardEncoder", "FlattenEncoder", "GlobalAverageEncoder", "Im2ImEncoder", "Im2VecEncoder",
           "ResnetEncoder", "TimmEncoder"]
