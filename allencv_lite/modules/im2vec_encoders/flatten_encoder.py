"""Flattening a fixed-size feature map into a vector."""
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.modules.im2vec_encoders.im2vec_encoder import Im2VecEncoder


@Im2VecEncoder.register("flatten")
class FlattenEncoder(Im2VecEncoder):
    """Reshapes ``(batch, input_channels, input_height, input_width)`` to
    ``(batch, input_channels * input_height * input_width)``.

    Raises:
        ConfigurationError: (in ``forward``) the incoming feature map has another shape;
            the message says which shape was expected, so the config can be fixed.
    """

    def __init__(self, input_channels: int, input_height: int = 1, input_width: int = 1) -> None:
        super().__init__()
        self.input_shape = (input_channels, input_height, input_width)

    def get_output_dim(self) -> int:
        channels, height, width = self.input_shape
        return channels * height * width

    def forward(self, feature_map: torch.Tensor) -> torch.Tensor:
        """``(batch, C, H, W)`` -> ``(batch, C * H * W)``."""
        self.check_feature_map(feature_map)
        if tuple(feature_map.shape[1:]) != self.input_shape:
            channels, height, width = feature_map.shape[1:]
            raise ConfigurationError(
                f"flatten encoder expected feature maps of shape (batch, {', '.join(map(str, self.input_shape))}) "
                f"but got {tuple(feature_map.shape)}; set input_channels={channels}, "
                f"input_height={height}, input_width={width} to match the im2im_encoder."
            )
        return feature_map.flatten(start_dim=1)
