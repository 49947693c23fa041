"""A small convolutional encoder that trains from scratch in minutes on a CPU."""
from typing import List, Optional

import torch

from allencv_lite.modules.im2im_encoders.im2im_encoder import Im2ImEncoder


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1) -> List[torch.nn.Module]:
    """3×3 convolution (no bias: the batch norm has one), batch norm, ReLU: ``(batch,
    in_channels, height, width)`` -> ``(batch, out_channels, height / stride, width / stride)``
    (rounded up). The block of both small CNNs, the feedforward and the residual encoder."""
    return [torch.nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False),
            torch.nn.BatchNorm2d(out_channels), torch.nn.ReLU(inplace=True)]


@Im2ImEncoder.register("feedforward")
class FeedforwardEncoder(Im2ImEncoder):
    """Blocks of 3×3 convolution, batch norm, ReLU and 2×2 max pooling, then global average
    pooling.

    Input ``(batch, input_channels, height, width)``; output ``(batch, hidden_channels[-1],
    1, 1)``. Each block halves height and width before the final pooling.

    Args:
        input_channels: channels of the input images (3 for RGB).
        hidden_channels: output channels of each block, e.g. ``[16, 32, 64]``.
        dropout: probability of zeroing whole feature channels after each block (``Dropout2d``).
    """

    def __init__(self, input_channels: int = 3, hidden_channels: Optional[List[int]] = None,
                 dropout: float = 0.0) -> None:
        super().__init__()
        hidden_channels = hidden_channels or [16, 32, 64]
        layers: List[torch.nn.Module] = []
        for in_channels, out_channels in zip([input_channels] + hidden_channels[:-1], hidden_channels):
            layers += [*conv_bn_relu(in_channels, out_channels), torch.nn.MaxPool2d(2)]
            if dropout:
                layers.append(torch.nn.Dropout2d(dropout))
        layers.append(torch.nn.AdaptiveAvgPool2d(1))
        self.model = torch.nn.Sequential(*layers)
        self._output_channels = hidden_channels[-1]

    def get_output_channels(self) -> int:
        return self._output_channels

    def grad_cam_layer(self) -> torch.nn.Module:
        """The last module of the last block (its pooling, or its dropout), before the global
        average pooling: ``(batch, hidden_channels[-1], height / 2^n, width / 2^n)`` for n blocks."""
        return self.model[-2]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(batch, input_channels, height, width)`` -> ``(batch, hidden_channels[-1], 1, 1)``."""
        return self.model(images)
