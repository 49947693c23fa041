"""Global average pooling: one vector per image, whatever the feature map's height and width."""
from typing import Optional

import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.modules.im2vec_encoders.im2vec_encoder import Im2VecEncoder


@Im2VecEncoder.register("global_average")
class GlobalAverageEncoder(Im2VecEncoder):
    """Averages each channel over all positions: ``(batch, input_channels, height, width)`` ->
    ``(batch, input_channels)`` (Lin et al. 2014, "Network In Network", section 3.2).

    Unlike ``flatten`` it accepts any height and width, so the image size can change without
    touching the config of the classifier.

    Args:
        input_channels: channels of the incoming feature map (the im2im encoder's
            ``get_output_channels()``, e.g. 1280 for EfficientNet-Lite0); ``None`` (left out)
            takes that value from the classifier's im2im encoder.

    Raises:
        ConfigurationError: (in ``forward``) the feature map has another number of channels;
            the message says which value to set.
    """

    def __init__(self, input_channels: Optional[int] = None) -> None:
        super().__init__()
        self.input_channels = input_channels

    def get_output_dim(self) -> int:
        return self.known_input_channels()

    def forward(self, feature_map: torch.Tensor) -> torch.Tensor:
        """``(batch, C, H, W)`` -> ``(batch, C)``."""
        self.check_feature_map(feature_map)
        if feature_map.shape[1] != self.input_channels:
            raise ConfigurationError(
                f"global_average encoder expected feature maps of shape (batch, {self.input_channels}, height, width) "
                f"but got {tuple(feature_map.shape)}; set input_channels to the im2im_encoder's output channels."
            )
        return feature_map.mean(dim=(2, 3))
