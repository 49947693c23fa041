"""ResnetEncoder: torchvision ResNets as AllenCV numbers them, and ImageNet weights from the local cache."""
import re
import socket

import pytest
import torch
import torchvision

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.modules import Im2ImEncoder, ResnetEncoder

RESNET18_FILE = "resnet18-f37072fd.pth"  # the name torchvision's IMAGENET1K_V1 weights have in the hub cache
# Encoder child index -> torchvision ResNet attribute (AllenCV's numbering).
RESNET_CHILDREN = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]


@pytest.fixture
def offline(monkeypatch):
    """No network: every connection attempt fails as it does on a machine without internet."""
    def unreachable(*args, **kwargs):
        raise OSError(101, "Network is unreachable")
    monkeypatch.setattr(socket, "create_connection", unreachable)
    monkeypatch.setattr(socket.socket, "connect", unreachable)


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty torch hub cache, so nothing from the machine's own cache is used."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


def test_resnet18_children_are_numbered_stem_to_layer4():
    encoder = ResnetEncoder("resnet18", pretrained=False)
    reference = torchvision.models.resnet18()
    for index, name in enumerate(RESNET_CHILDREN):
        assert type(encoder.model[index]) is type(getattr(reference, name)), name
    assert len(encoder.model) == 8


def test_regex_model_4_selects_exactly_layer1():
    classifier_parameters = [f"_im2im_encoder.{name}" for name, _ in
                             ResnetEncoder("resnet18", pretrained=False).named_parameters()]
    selected = [name for name in classifier_parameters if re.search(r"^_im2im_encoder\.model\.4", name)]
    layer1 = [f"_im2im_encoder.model.4.{name}" for name, _ in torchvision.models.resnet18().layer1.named_parameters()]
    assert selected == layer1
    assert len(selected) == 12  # 2 basic blocks × (2 convs + 2 batch norms × weight and bias)


def test_output_is_pooled_to_one_position_per_channel():
    encoder = ResnetEncoder("resnet18", pretrained=False).eval()
    features = encoder(torch.zeros(2, 3, 96, 128))
    assert features.shape == (2, 512, 1, 1)
    assert encoder.get_output_channels() == 512


@pytest.mark.parametrize("resnet_model, channels", [("resnet18", 512), ("resnet34", 512), ("resnet50", 2048),
                                                     ("resnet101", 2048), ("resnet152", 2048)])
def test_output_channels_of_each_resnet(resnet_model, channels):
    # Built on the meta device: no memory, no weight initialisation, just the architecture.
    with torch.device("meta"):
        encoder = ResnetEncoder(resnet_model, pretrained=False)
    assert encoder.get_output_channels() == channels


def test_unknown_resnet_model_lists_the_choices():
    with pytest.raises(ConfigurationError, match=r"'resnet19' is not one of \['resnet18', 'resnet34'"):
        ResnetEncoder("resnet19", pretrained=False)


def test_requires_grad_false_freezes_every_backbone_weight():
    encoder = ResnetEncoder("resnet18", pretrained=False, requires_grad=False)
    assert not any(parameter.requires_grad for parameter in encoder.parameters())
    assert all(parameter.requires_grad for parameter in ResnetEncoder("resnet18", pretrained=False).parameters())


def test_registered_as_pretrained_resnet_and_resnet():
    assert Im2ImEncoder.by_name("pretrained_resnet") is ResnetEncoder
    assert Im2ImEncoder.by_name("resnet") is ResnetEncoder


def test_pretrained_loads_the_exact_tensors_from_the_torch_hub_cache(torch_home, offline):
    torch.manual_seed(0)
    cached = torchvision.models.resnet18().state_dict()  # random weights: torchvision's hash check must not apply
    (torch_home / "hub" / "checkpoints").mkdir(parents=True)
    torch.save(cached, torch_home / "hub" / "checkpoints" / RESNET18_FILE)

    encoder = ResnetEncoder("resnet18", pretrained=True)

    loaded = encoder.model.state_dict()
    assert len(loaded) == len(cached) - 2  # all but the ImageNet classifier fc.weight and fc.bias
    for key, tensor in loaded.items():
        index, rest = key.split(".", 1)
        assert torch.equal(tensor, cached[f"{RESNET_CHILDREN[int(index)]}.{rest}"]), key


def test_pretrained_without_cached_file_or_internet_says_where_to_put_it(torch_home, offline):
    with pytest.raises(ConfigurationError) as error:
        ResnetEncoder("resnet18", pretrained=True)
    message = str(error.value)
    assert f"put it at {torch_home / 'hub' / 'checkpoints' / RESNET18_FILE}" in message
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message
    assert '"pretrained": false' in message


def test_pretrained_with_a_corrupt_cached_file_names_it(torch_home, offline):
    cached = torch_home / "hub" / "checkpoints" / RESNET18_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"half a download")
    with pytest.raises(ConfigurationError, match=f"from {re.escape(str(cached))} .*delete it"):
        ResnetEncoder("resnet18", pretrained=True)


def test_channels_last_keeps_the_weights_channels_last_and_computes_the_same_features():
    standard = ResnetEncoder("resnet18", pretrained=False).eval()
    channels_last = ResnetEncoder("resnet18", pretrained=False, channels_last=True).eval()
    channels_last.load_state_dict(standard.state_dict())
    assert channels_last.model[0].weight.is_contiguous(memory_format=torch.channels_last)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(channels_last(images), standard(images), rtol=1e-4, atol=1e-5)
