"""The Im2ImEncoder contract, checked once for every registered encoder (as timm tests its models)."""
import pytest
import torch

from allencv_lite.modules import Im2ImEncoder

# One small, weight-free config per registered name.
SMALL_CONFIGS = {
    "feedforward": {"hidden_channels": [8, 16]},
    "pretrained_resnet": {"resnet_model": "resnet18", "pretrained": False},
    "resnet": {"resnet_model": "resnet18", "pretrained": False},
    "timm": {"model_name": "tf_efficientnet_lite0"},
}


def test_every_registered_encoder_has_a_case_here():
    assert sorted(Im2ImEncoder.list_available()) == sorted(SMALL_CONFIGS)


@pytest.mark.parametrize("name", sorted(SMALL_CONFIGS))
def test_output_is_a_feature_map_with_the_announced_channels(name):
    encoder = Im2ImEncoder.from_params({"type": name, **SMALL_CONFIGS[name]}).eval()
    with torch.no_grad():
        features = encoder(torch.randn(3, 3, 64, 64))
    assert features.dim() == 4
    assert features.shape[:2] == (3, encoder.get_output_channels())
