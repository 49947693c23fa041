"""Grad-CAM heatmaps (``allencv_lite.interpret.grad_cam``): the paper's formula, every backbone, real photos."""
import base64
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.interpret.grad_cam import explain, overlay_heatmap, png_data_url
from allencv_lite.models.archival import load_archive
from allencv_lite.models.basic_image_classifier import BasicImageClassifier
from allencv_lite.modules import Im2ImEncoder
from allencv_lite.modules.im2vec_encoders.global_average_encoder import GlobalAverageEncoder
from tests.helpers.small_encoders import SMALL_CONFIGS


def classifier(encoder_config: dict) -> BasicImageClassifier:
    torch.manual_seed(0)
    encoder = Im2ImEncoder.from_params(encoder_config)
    vocab = Vocabulary({"labels": {"cat": 1, "dog": 1, "fox": 1}})
    return BasicImageClassifier(vocab, GlobalAverageEncoder(input_channels=encoder.get_output_channels()), encoder)


@pytest.fixture
def small_model() -> BasicImageClassifier:
    return classifier({"type": "feedforward", "hidden_channels": [8, 16]}).eval()


def test_heatmap_is_relu_of_the_gradient_weighted_feature_maps_scaled_to_0_1(small_model):
    # At the first block's ReLU (full resolution, 16x16) no resizing happens, so the formula is all there is.
    image = torch.randn(3, 16, 16)
    layer = small_model._im2im_encoder.model[2]
    features = {}
    hook = layer.register_forward_hook(lambda module, args, output: features.setdefault("A", output))
    logits = small_model(image=image[None])["logits"]
    hook.remove()
    gradients, = torch.autograd.grad(logits[0, 2], features["A"])
    alpha = gradients.mean(dim=(2, 3), keepdim=True)            # 1/Z sum_ij dy^c / dA^k_ij
    expected = torch.relu((alpha * features["A"]).sum(dim=1))[0]  # ReLU(sum_k alpha_k A^k)
    expected = (expected - expected.min()) / (expected.max() - expected.min())

    heatmap = explain(small_model, image, label=2, target_layer="_im2im_encoder.model.2")

    np.testing.assert_allclose(heatmap, expected.detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("name", sorted(SMALL_CONFIGS))
def test_every_registered_encoder_gives_a_heatmap_of_the_image_size_in_0_1(name):
    model = classifier({"type": name, **SMALL_CONFIGS[name]}).eval()
    heatmap = explain(model, torch.randn(3, 64, 96))
    assert heatmap.shape == (64, 96) and heatmap.dtype == np.float32
    assert heatmap.min() >= 0.0 and heatmap.max() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("name, layer", [
    ("feedforward", "model.7"),          # the second block's max pooling, before the global average pooling
    ("pretrained_resnet", "model.7.1"),  # layer4's last BasicBlock (resnet18)
    ("resnet", "model.7.1"),
    ("timm", "model.blocks.5"),          # mobilenetv3_small_050's last feature_info stage
])
def test_the_target_layer_is_the_last_block_or_feature_stage_of_each_encoder(name, layer):
    encoder = Im2ImEncoder.from_params({"type": name, **SMALL_CONFIGS[name]})
    names = {module: module_name for module_name, module in encoder.named_modules()}
    assert names[encoder.grad_cam_layer()] == layer


def test_a_batch_gives_one_heatmap_per_image_and_each_explains_its_own_label(small_model):
    images = torch.randn(2, 3, 32, 32)
    together = explain(small_model, images, label=[0, 1])
    assert together.shape == (2, 32, 32)
    np.testing.assert_allclose(together[1], explain(small_model, images[1], label=1), atol=1e-5)


def test_without_a_label_the_predicted_label_is_explained(small_model):
    image = torch.randn(3, 32, 32)
    predicted = int(small_model(image=image[None])["logits"].argmax())
    np.testing.assert_array_equal(explain(small_model, image), explain(small_model, image, label=predicted))


def test_a_frozen_backbone_is_explained_and_the_model_is_left_as_it_was():
    model = classifier({"type": "feedforward", "hidden_channels": [8, 16]}).train()
    for parameter in model._im2im_encoder.parameters():
        parameter.requires_grad_(False)
    before = {key: value.clone() for key, value in model.state_dict().items()}

    heatmap = explain(model, torch.randn(3, 32, 32))

    assert heatmap.max() == pytest.approx(1.0, abs=1e-5)
    assert model.training and model._im2im_encoder.model[1].training is False  # frozen batch norm stays frozen
    # two blocks of conv weight, batch-norm weight and bias stay frozen; the head stays trainable
    assert [p.requires_grad for p in model.parameters()] == [False] * 6 + [True] * 2
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(value, before[key]) for key, value in model.state_dict().items())


def test_an_unknown_target_layer_names_the_model_modules(small_model):
    with pytest.raises(ConfigurationError, match="target_layer 'layer4' is not a module of the model"):
        explain(small_model, torch.randn(3, 16, 16), target_layer="layer4")


def test_a_model_without_backbone_needs_a_target_layer():
    vocab = Vocabulary({"labels": {"a": 1, "b": 1}})
    model = BasicImageClassifier(vocab, GlobalAverageEncoder(input_channels=3))
    with pytest.raises(ConfigurationError, match="has no im2im_encoder; pass target_layer="):
        explain(model, torch.randn(3, 16, 16))


def test_overlay_resizes_the_heatmap_to_the_picture_and_mixes_jet_colours():
    picture = np.full((30, 40, 3), 200, dtype=np.uint8)
    heatmap = np.zeros((4, 4), dtype=np.float32)
    heatmap[:, 2:] = 1.0
    overlay = overlay_heatmap(picture, heatmap, opacity=0.5)
    assert overlay.shape == (30, 40, 3) and overlay.dtype == np.uint8
    assert tuple(overlay[15, 0]) == (100, 100, 164)   # jet(0) = (0, 0, 0.5): dark blue, half over grey 200
    assert tuple(overlay[15, 39]) == (164, 100, 100)  # jet(1) = (0.5, 0, 0): dark red


def test_png_data_url_is_a_png_a_browser_can_show_shrunk_to_max_side():
    url = png_data_url(np.zeros((100, 50, 3), dtype=np.uint8), max_side=40)
    assert url.startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size == (20, 40)


def centre_share(heatmap: np.ndarray) -> float:
    """Fraction of the heatmap's mass in the central box of half the width and half the height
    (a quarter of the picture: a uniform heatmap gives 0.25)."""
    height, width = heatmap.shape
    return float(heatmap[height // 4: 3 * height // 4, width // 4: 3 * width // 4].sum() / heatmap.sum())


def test_on_real_photos_the_lesson_model_looks_at_the_middle_where_the_animal_is(lesson_archive, cats_dogs_dir):
    # Pet photos are framed on the animal, so the central quarter is mostly animal and the border
    # mostly background. Measured on these 40 val photos: 36 have a denser centre, mean share 0.325.
    archive = load_archive(lesson_archive)
    reader = archive.dataset_reader
    photos = [path for label in ("Cat", "Dog") for path in sorted(Path(cats_dogs_dir, "val", label).iterdir())[:20]]
    shares = np.array([centre_share(explain(archive.model, reader.image_to_tensor(reader.load_image(path))))
                       for path in photos])
    assert (shares > 0.25).sum() >= 30, f"only {(shares > 0.25).sum()} of 40 have a denser centre: {shares.round(2)}"
    assert shares.mean() > 0.28
