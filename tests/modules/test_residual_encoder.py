"""ResidualEncoder: the small residual CNN for CPU runs from scratch."""
import pytest
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.modules import ResidualEncoder
from allencv_lite.modules.im2im_encoders.residual_encoder import ResidualBlock


def test_96_pixel_images_with_a_stride_2_stem_and_three_stages_give_6_by_6_feature_maps():
    encoder = ResidualEncoder(stem_stride=2, stage_channels=[8, 16, 32])
    assert encoder(torch.zeros(2, 3, 96, 96)).shape == (2, 32, 6, 6)
    assert encoder.get_output_channels() == 32


def test_each_stage_is_conv_batchnorm_relu_maxpool_then_its_residual_blocks():
    encoder = ResidualEncoder(stage_channels=[8, 16], blocks_per_stage=2)
    kinds = [type(layer).__name__ for layer in encoder.model[1]]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "ResidualBlock", "ResidualBlock"]
    assert len(encoder.model) == 3  # the stem and two stages


def test_a_residual_block_adds_its_input_to_what_its_convolutions_compute():
    block = ResidualBlock(4).eval()
    features = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(block(features), features + block.body(features))


def test_no_residual_blocks_is_a_plain_cnn():
    encoder = ResidualEncoder(stage_channels=[8], blocks_per_stage=0)
    assert not any(isinstance(module, ResidualBlock) for module in encoder.modules())
    assert encoder(torch.zeros(1, 3, 16, 16)).shape == (1, 8, 8, 8)


@pytest.mark.parametrize("arguments, key", [({"stage_channels": []}, "stage_channels"),
                                            ({"stem_stride": 4}, "stem_stride"),
                                            ({"blocks_per_stage": -1}, "blocks_per_stage")])
def test_impossible_shapes_are_refused_naming_the_key(arguments, key):
    with pytest.raises(ConfigurationError, match=key):
        ResidualEncoder(**arguments)
