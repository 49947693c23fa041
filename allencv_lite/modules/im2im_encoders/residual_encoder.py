"""A small residual CNN that trains from scratch on a CPU (the shape of Page's ResNet-9)."""
from typing import List, Optional

import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.modules.im2im_encoders.feedforward_encoder import conv_bn_relu
from allencv_lite.modules.im2im_encoders.im2im_encoder import Im2ImEncoder


class ResidualBlock(torch.nn.Module):
    """``x + relu(bn(conv(relu(bn(conv(x))))))``: two 3×3 convolutions beside an identity
    shortcut, shapes unchanged ``(batch, channels, height, width)`` (He et al. 2016, "Deep
    Residual Learning", with the addition after the second ReLU as in Page's ResNet-9, "How to
    train your ResNet", 2018)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(*conv_bn_relu(channels, channels), *conv_bn_relu(channels, channels))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``(batch, channels, height, width)`` -> the same shape."""
        return features + self.body(features)


@Im2ImEncoder.register("residual")
class ResidualEncoder(Im2ImEncoder):
    """A stem, then one stage per entry of ``stage_channels``: conv 3×3, batch norm, ReLU, 2×2
    max pooling, then ``blocks_per_stage`` :class:`ResidualBlock` s.

    Input ``(batch, input_channels, height, width)``; output the last feature map ``(batch,
    stage_channels[-1], height / (stem_stride · 2^n), width / (stem_stride · 2^n))`` for n
    stages (rounded down at each halving), e.g. ``(batch, 128, 6, 6)`` for 96×96 images with
    ``stem_stride`` 2 and three stages. Pool it with the ``global_average`` im2vec encoder.

    ``self.model`` is an ``nn.Sequential``: ``model.0`` the stem (conv, batch norm, ReLU),
    ``model.1`` … ``model.n`` the stages.

    Args:
        input_channels: channels of the input images (3 for RGB).
        stem_channels: output channels of the stem's 3×3 convolution.
        stem_stride: the stem's stride, 1 or 2; 2 halves height and width before the first
            stage (a quarter of the stages' work, for large images).
        stage_channels: output channels of each stage, e.g. ``[32, 64, 128]``.
        blocks_per_stage: residual blocks after each stage's pooling (0: a plain CNN).

    Raises:
        ConfigurationError: no stages, ``stem_stride`` other than 1 or 2, or a negative
            ``blocks_per_stage``.
    """

    def __init__(self, input_channels: int = 3, stem_channels: int = 16, stem_stride: int = 1,
                 stage_channels: Optional[List[int]] = None, blocks_per_stage: int = 1) -> None:
        super().__init__()
        stage_channels = [32, 64, 128] if stage_channels is None else stage_channels
        if not stage_channels:
            raise ConfigurationError("stage_channels: give at least one stage's channels, e.g. [32, 64, 128].")
        if stem_stride not in (1, 2):
            raise ConfigurationError(f"stem_stride: must be 1 or 2, got {stem_stride}.")
        if blocks_per_stage < 0:
            raise ConfigurationError(f"blocks_per_stage: must be 0 or more, got {blocks_per_stage}.")
        stages: List[torch.nn.Module] = [torch.nn.Sequential(*conv_bn_relu(input_channels, stem_channels, stem_stride))]
        for in_channels, out_channels in zip([stem_channels] + stage_channels[:-1], stage_channels):
            stages.append(torch.nn.Sequential(*conv_bn_relu(in_channels, out_channels), torch.nn.MaxPool2d(2),
                                              *[ResidualBlock(out_channels) for _ in range(blocks_per_stage)]))
        self.model = torch.nn.Sequential(*stages)
        self._output_channels = stage_channels[-1]

    def get_output_channels(self) -> int:
        return self._output_channels

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(batch, input_channels, height, width)`` -> ``(batch, stage_channels[-1], height /
        (stem_stride · 2^n), width / (stem_stride · 2^n))``."""
        return self.model(images)
