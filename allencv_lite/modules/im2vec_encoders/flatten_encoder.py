"""Flattening a fixed-size feature map into a vector."""
from typing import Optional, Tuple

import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.modules.im2vec_encoders.im2vec_encoder import Im2VecEncoder


@Im2VecEncoder.register("flatten")
class FlattenEncoder(Im2VecEncoder):
    """Reshapes ``(batch, input_channels, input_height, input_width)`` to
    ``(batch, input_channels * input_height * input_width)``.

    Args:
        input_channels: channels of the incoming feature map; ``None`` (left out) takes the
            classifier's im2im encoder's ``get_output_channels()``.
        input_height, input_width: its height and width, in cells (1 after global pooling).

    Raises:
        ConfigurationError: (in ``forward``) the incoming feature map has another shape;
            the message says which shape was expected, so the config can be fixed.
    """

    def __init__(self, input_channels: Optional[int] = None, input_height: int = 1, input_width: int = 1) -> None:
        super().__init__()
        self.input_channels = input_channels
        self.input_height = input_height
        self.input_width = input_width

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """``(channels, height, width)`` of the feature maps accepted."""
        return self.known_input_channels(), self.input_height, self.input_width

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
