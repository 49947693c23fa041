"""The Im2ImEncoder contract, checked once for every registered encoder (as timm tests its models)."""
import pytest
import torch

from allencv_lite.modules import Im2ImEncoder
from tests.helpers.small_encoders import SMALL_CONFIGS


def test_every_registered_encoder_has_a_case_here():
    assert sorted(Im2ImEncoder.list_available()) == sorted(SMALL_CONFIGS)


@pytest.mark.parametrize("name", sorted(SMALL_CONFIGS))
def test_output_is_a_feature_map_with_the_announced_channels(name):
    encoder = Im2ImEncoder.from_params({"type": name, **SMALL_CONFIGS[name]}).eval()
    with torch.no_grad():
        features = encoder(torch.randn(3, 3, 64, 64))
    assert features.dim() == 4
    assert features.shape[:2] == (3, encoder.get_output_channels())


@pytest.mark.parametrize("name", sorted(SMALL_CONFIGS))
def test_frozen_encoder_in_training_mode_computes_what_it_computes_in_evaluation_mode(name):
    encoder = Im2ImEncoder.from_params({"type": name, **SMALL_CONFIGS[name]})
    for parameter in encoder.parameters():
        parameter.requires_grad_(False)
    before = {key: value.clone() for key, value in encoder.state_dict().items()}
    images = torch.randn(4, 3, 64, 64)
    with torch.no_grad():
        evaluated = encoder.eval()(images)
        trained = encoder.train()(images)
    torch.testing.assert_close(trained, evaluated)
    assert all(torch.equal(value, before[key]) for key, value in encoder.state_dict().items())  # running stats too


def test_trainable_batch_norms_learn_the_statistics_of_the_batch():
    encoder = Im2ImEncoder.from_params({"type": "feedforward", **SMALL_CONFIGS["feedforward"]}).train()
    batch_norm = encoder.model[1]
    assert batch_norm.training
    encoder(torch.randn(4, 3, 64, 64) + 5.0)
    assert batch_norm.running_mean.abs().sum() > 0  # moved from its initial zeros


def test_gradually_unfrozen_layers_use_batch_statistics_again():
    encoder = Im2ImEncoder.from_params({"type": "feedforward", **SMALL_CONFIGS["feedforward"]})
    first_block_norm, second_block_norm = encoder.model[1], encoder.model[5]
    for parameter in first_block_norm.parameters():
        parameter.requires_grad_(False)
    encoder.train()
    assert not first_block_norm.training and second_block_norm.training
    for parameter in first_block_norm.parameters():
        parameter.requires_grad_(True)
    encoder.train()
    assert first_block_norm.training


@pytest.mark.parametrize("name", sorted(SMALL_CONFIGS))
def test_a_classifier_takes_its_pooling_channels_from_the_encoder(name):
    from allencv_lite.data.vocabulary import Vocabulary
    from allencv_lite.models import Model

    model = Model.from_params({"type": "basic_image_classifier", "im2im_encoder": {"type": name, **SMALL_CONFIGS[name]},
                               "im2vec_encoder": {"type": "global_average"}}, "model",
                              vocab=Vocabulary.from_labels(["Cat", "Dog", "Dog"])).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 64))["probs"].shape == (2, 2)


@pytest.mark.parametrize("name", sorted(SMALL_CONFIGS))
def test_a_classifier_on_the_encoder_exports_to_onnx_with_the_same_probabilities(name):
    import numpy as np
    import onnxruntime

    from allencv_lite.data.vocabulary import Vocabulary
    from allencv_lite.export.onnx_export import onnx_graph
    from allencv_lite.models import BasicImageClassifier
    from allencv_lite.modules import Im2VecEncoder

    torch.manual_seed(0)
    model = BasicImageClassifier(Vocabulary.from_labels(["cat", "dog", "bird"]),
                                 Im2VecEncoder.from_params({"type": "global_average"}),
                                 Im2ImEncoder.from_params({"type": name, **SMALL_CONFIGS[name]})).eval()
    session = onnxruntime.InferenceSession(onnx_graph(model, 64, 64, name), providers=["CPUExecutionProvider"])
    images = torch.randn(3, 3, 64, 64)  # another batch size than the export's example
    with torch.inference_mode():
        expected = model(image=images)["probs"].numpy()
    np.testing.assert_allclose(session.run(["probs"], {"image": images.numpy()})[0], expected, atol=1e-5)
