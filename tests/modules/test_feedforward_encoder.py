"""FeedforwardEncoder: the small CNN for CPU runs from scratch."""
import torch

from allencv_lite.modules import FeedforwardEncoder


def test_each_block_is_conv_batchnorm_relu_maxpool_then_global_pooling():
    encoder = FeedforwardEncoder(hidden_channels=[8, 16])
    kinds = [type(layer).__name__ for layer in encoder.model]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"] * 2 + ["AdaptiveAvgPool2d"]
    assert encoder(torch.zeros(2, 3, 32, 32)).shape == (2, 16, 1, 1)


def test_default_channels_are_16_32_64():
    encoder = FeedforwardEncoder()
    assert encoder.get_output_channels() == 64
    assert [layer.out_channels for layer in encoder.model if isinstance(layer, torch.nn.Conv2d)] == [16, 32, 64]


def test_dropout_adds_channel_dropout_after_each_block():
    encoder = FeedforwardEncoder(hidden_channels=[8, 16], dropout=0.25)
    dropouts = [layer for layer in encoder.model if isinstance(layer, torch.nn.Dropout2d)]
    assert [layer.p for layer in dropouts] == [0.25, 0.25]


def test_grayscale_input_channels():
    assert FeedforwardEncoder(input_channels=1, hidden_channels=[4])(torch.zeros(1, 1, 8, 8)).shape == (1, 4, 1, 1)
