"""The contract every image-to-vector encoder honours."""
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable


class Im2VecEncoder(torch.nn.Module, Registrable, FromParams):
    """Maps feature maps ``(batch, channels, height, width)`` to vectors
    ``(batch, get_output_dim())``."""

    def get_output_dim(self) -> int:
        """Size of the output vectors."""
        raise NotImplementedError

    def check_feature_map(self, feature_map: torch.Tensor) -> None:
        """Raise ``ConfigurationError`` unless ``feature_map`` is 4-D ``(batch, channels, height, width)``."""
        if feature_map.dim() != 4:
            raise ConfigurationError(
                f"{type(self).__name__} expects feature maps (batch, channels, height, width) but got shape "
                f"{tuple(feature_map.shape)}; give the classifier an im2im_encoder that outputs feature maps (the "
                "timm encoder turns a vision transformer's tokens into one).")


# The built-in implementations, each imported when a config first names it.
Im2VecEncoder.register_lazily("flatten", "allencv_lite.modules.im2vec_encoders.flatten_encoder")
Im2VecEncoder.register_lazily("global_average", "allencv_lite.modules.im2vec_encoders.global_average_encoder")
