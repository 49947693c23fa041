"""Im2VecEncoders: flatten (fixed shape, checked) and global_average (any height and width)."""
import pytest
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.modules import FlattenEncoder, GlobalAverageEncoder, Im2VecEncoder


def test_flatten_turns_a_feature_map_into_one_vector_per_image():
    encoder = FlattenEncoder(input_channels=2, input_height=2, input_width=3)
    feature_map = torch.arange(24.0).reshape(2, 2, 2, 3)
    assert encoder.get_output_dim() == 12
    assert torch.equal(encoder(feature_map), torch.arange(24.0).reshape(2, 12))


def test_flatten_names_the_expected_shape_and_the_settings_that_would_fit():
    encoder = FlattenEncoder(input_channels=2048, input_height=1, input_width=1)
    with pytest.raises(ConfigurationError) as error:
        encoder(torch.zeros(4, 512, 1, 1))
    assert str(error.value) == ("flatten encoder expected feature maps of shape (batch, 2048, 1, 1) but got "
                                "(4, 512, 1, 1); set input_channels=512, input_height=1, input_width=1 to match "
                                "the im2im_encoder.")


def test_global_average_averages_each_channel_over_height_and_width():
    feature_map = torch.tensor([[[[1.0, 2.0], [3.0, 6.0]], [[0.0, 0.0], [0.0, 4.0]]]])  # (1, 2, 2, 2)
    encoder = GlobalAverageEncoder(input_channels=2)
    assert encoder.get_output_dim() == 2
    assert torch.equal(encoder(feature_map), torch.tensor([[3.0, 1.0]]))


def test_global_average_accepts_any_spatial_size():
    encoder = GlobalAverageEncoder(input_channels=1280)
    assert encoder(torch.zeros(2, 1280, 4, 4)).shape == encoder(torch.zeros(2, 1280, 7, 5)).shape == (2, 1280)


def test_global_average_names_the_channels_it_expected():
    with pytest.raises(ConfigurationError, match=r"expected feature maps of shape \(batch, 2048, height, width\) "
                                                 r"but got \(2, 1280, 4, 4\)"):
        GlobalAverageEncoder(input_channels=2048)(torch.zeros(2, 1280, 4, 4))


def test_registered_names():
    assert Im2VecEncoder.by_name("flatten") is FlattenEncoder
    assert Im2VecEncoder.by_name("global_average") is GlobalAverageEncoder


@pytest.mark.parametrize("encoder", [GlobalAverageEncoder(192), FlattenEncoder(192, 2, 2)])
def test_tokens_instead_of_a_feature_map_are_named_without_wrong_advice(encoder):
    with pytest.raises(ConfigurationError, match=r"expects feature maps \(batch, channels, height, width\) but got "
                                                 r"shape \(2, 5, 192\); give the classifier an im2im_encoder"):
        encoder(torch.zeros(2, 5, 192))


@pytest.mark.parametrize("encoder", [GlobalAverageEncoder(), FlattenEncoder()])
def test_input_channels_left_out_are_named_until_a_classifier_sets_them(encoder):
    with pytest.raises(ConfigurationError, match="input_channels is unknown; set it, or give this encoder to a "
                                                 "BasicImageClassifier"):
        encoder.get_output_dim()
    encoder.take_input_channels(16)
    assert encoder.get_input_channels() == 16 and encoder.get_output_dim() == 16
