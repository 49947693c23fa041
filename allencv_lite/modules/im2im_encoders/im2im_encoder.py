"""The contract every image-to-image encoder (backbone) honours."""
import torch

from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable


class Im2ImEncoder(torch.nn.Module, Registrable, FromParams):
    """Maps images ``(batch, in_channels, height, width)`` to feature maps
    ``(batch, get_output_channels(), out_height, out_width)``."""

    def get_output_channels(self) -> int:
        """Number of channels of the feature map this encoder outputs."""
        raise NotImplementedError
