"""The contract every image-to-vector encoder honours."""
import torch

from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable


class Im2VecEncoder(torch.nn.Module, Registrable, FromParams):
    """Maps feature maps ``(batch, channels, height, width)`` to vectors
    ``(batch, get_output_dim())``."""

    def get_output_dim(self) -> int:
        """Size of the output vectors."""
        raise NotImplementedError


# The built-in implementations, each imported when a config first names it.
Im2VecEncoder.register_lazily("flatten", "allencv_lite.modules.im2vec_encoders.flatten_encoder")
Im2VecEncoder.register_lazily("global_average", "allencv_lite.modules.im2vec_encoders.global_average_encoder")
