"""Image-to-vector encoders, registered by name."""
from allencv_lite.modules.im2vec_encoders.flatten_encoder import FlattenEncoder
from allencv_lite.modules.im2vec_encoders.global_average_encoder import GlobalAverageEncoder
from allencv_lite.modules.im2vec_encoders.im2vec_encoder import Im2VecEncoder

__all__ = ["FlattenEncoder", "GlobalAverageEncoder", "Im2VecEncoder"]
