"""BasicImageClassifier: backbone, vector, linear layer; built by hand or from a config."""
from pathlib import Path

import pytest
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.params import load_config
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models import BasicImageClassifier, Model
from allencv_lite.modules import FeedforwardEncoder, FlattenEncoder, ResnetEncoder

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def vocab() -> Vocabulary:
    return Vocabulary({"labels": {"Cat": 1234, "Dog": 1234}})


@pytest.fixture
def small_classifier(vocab) -> BasicImageClassifier:
    torch.manual_seed(0)
    return BasicImageClassifier(vocab, FlattenEncoder(8, 1, 1), FeedforwardEncoder(hidden_channels=[4, 8]))


def test_by_hand_and_from_the_seed_config_give_the_same_model(vocab):
    # The README's interactive construction and the config block of cats_dogs_resnet50.jsonnet.
    im2im = ResnetEncoder("resnet50", pretrained=False)
    im2vec = FlattenEncoder(input_channels=2048, input_height=1, input_width=1)
    by_hand = BasicImageClassifier(vocab, im2vec, im2im)
    model_block = load_config(REPO / "training_config" / "cats_dogs_resnet50.jsonnet",
                              ext_vars={"TRAIN_PATH": "unused", "VALIDATION_PATH": "unused"})["model"]
    from_config = Model.from_params({**model_block, "im2im_encoder": {**model_block["im2im_encoder"],
                                                                      "pretrained": False}}, "model", vocab=vocab)
    assert type(from_config) is BasicImageClassifier
    assert repr(from_config) == repr(by_hand)
    assert {k: v.shape for k, v in from_config.state_dict().items()} == \
        {k: v.shape for k, v in by_hand.state_dict().items()}
    assert by_hand.state_dict()["_classification_layer.weight"].shape == (2, 2048)


def test_forward_gives_logits_probabilities_and_the_cross_entropy_loss(small_classifier):
    images, labels = torch.randn(4, 3, 16, 16), torch.tensor([0, 1, 1, 0])
    output = small_classifier(images, labels)
    assert output["logits"].shape == output["probs"].shape == (4, 2)
    torch.testing.assert_close(output["probs"].sum(dim=1), torch.ones(4))
    torch.testing.assert_close(output["loss"], torch.nn.functional.cross_entropy(output["logits"], labels))


def test_label_smoothing_moves_a_share_of_the_target_evenly_onto_every_label(vocab):
    torch.manual_seed(0)
    classifier = BasicImageClassifier(vocab, FlattenEncoder(8, 1, 1), FeedforwardEncoder(hidden_channels=[4, 8]),
                                      label_smoothing=0.1)
    output = classifier(torch.randn(4, 3, 16, 16), torch.tensor([0, 1, 1, 0]))
    log_probs = torch.log_softmax(output["logits"], dim=1)
    # Two labels: the true one keeps 0.9 + 0.1 / 2 of the target, the other gets 0.1 / 2.
    targets = torch.tensor([[0.95, 0.05], [0.05, 0.95], [0.05, 0.95], [0.95, 0.05]])
    torch.testing.assert_close(output["loss"], -(targets * log_probs).sum(dim=1).mean())


@pytest.mark.parametrize("label_smoothing", [-0.1, 1.0])
def test_label_smoothing_outside_0_to_1_is_refused_naming_the_key(vocab, label_smoothing):
    with pytest.raises(ConfigurationError, match=r"label_smoothing: must be in \[0, 1\)"):
        BasicImageClassifier(vocab, FlattenEncoder(8, 1, 1), FeedforwardEncoder(hidden_channels=[4, 8]),
                             label_smoothing=label_smoothing)


def test_without_labels_there_is_no_loss(small_classifier):
    assert "loss" not in small_classifier(torch.randn(2, 3, 16, 16))


def test_accuracy_counts_argmax_hits_until_reset(small_classifier):
    small_classifier.eval()
    images = torch.randn(6, 3, 16, 16)
    predicted = small_classifier(images)["logits"].argmax(dim=1)
    labels = predicted.clone()
    labels[:2] = 1 - labels[:2]  # two of six wrong
    small_classifier(images, labels)
    assert small_classifier.get_metrics(reset=True)["accuracy"] == pytest.approx(4 / 6)
    assert small_classifier.get_metrics() == {"accuracy": 0.0}


def test_labels_are_added_in_vocabulary_order(vocab, small_classifier):
    output = small_classifier.make_output_human_readable({"probs": torch.tensor([[0.9, 0.1], [0.2, 0.8]])})
    assert output["label"] == ["Cat", "Dog"]


def test_without_an_im2im_encoder_images_go_straight_to_the_im2vec_encoder(vocab):
    model = BasicImageClassifier(vocab, FlattenEncoder(3, 4, 4))
    assert model(torch.zeros(5, 3, 4, 4))["logits"].shape == (5, 2)
    assert model._classification_layer.in_features == 48


def test_dropout_sits_before_the_classification_layer(vocab):
    model = BasicImageClassifier(vocab, FlattenEncoder(3, 4, 4), dropout=0.3)
    assert isinstance(model._dropout, torch.nn.Dropout) and model._dropout.p == 0.3
    assert isinstance(BasicImageClassifier(vocab, FlattenEncoder(3, 4, 4))._dropout, torch.nn.Identity)


def test_pooling_without_input_channels_takes_the_backbones_output_channels(vocab):
    model = BasicImageClassifier(vocab, FlattenEncoder(), FeedforwardEncoder(hidden_channels=[4, 8]))
    assert model._im2vec_encoder.get_input_channels() == 8
    assert model._classification_layer.in_features == 8


def test_pooling_without_a_backbone_takes_the_three_rgb_channels(vocab):
    model = BasicImageClassifier(vocab, FlattenEncoder(input_height=2, input_width=2))
    assert model(torch.zeros(1, 3, 2, 2))["probs"].shape == (1, 2)
    assert model._classification_layer.in_features == 12


def test_a_channel_mismatch_fails_when_the_model_is_built_naming_both_keys_and_values(vocab):
    with pytest.raises(ConfigurationError) as error:
        Model.from_params({"type": "basic_image_classifier",
                           "im2im_encoder": {"type": "resnet", "resnet_model": "resnet18", "pretrained": False},
                           "im2vec_encoder": {"type": "global_average", "input_channels": 2048}}, "model", vocab=vocab)
    assert str(error.value) == ('model.im2vec_encoder.input_channels (2048) must match the channels im2im_encoder '
                                '(ResnetEncoder) outputs (512). Set "input_channels": 512, or leave the key out to '
                                'take it from there.')


def test_probs_are_the_softmax_of_the_logits_divided_by_the_temperature(small_classifier):
    small_classifier.eval()
    image = torch.rand(3, 3, 8, 8)
    assert float(small_classifier.temperature) == 1.0
    small_classifier.set_temperature(2.0)
    output = small_classifier(image=image, label=torch.tensor([0, 1, 1]))
    assert torch.allclose(output["probs"], torch.softmax(output["logits"] / 2.0, dim=-1))
    assert torch.allclose(output["loss"], torch.nn.functional.cross_entropy(output["logits"], torch.tensor([0, 1, 1])))


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan"), float("inf")])
def test_a_temperature_that_is_not_a_positive_number_is_refused(small_classifier, temperature):
    with pytest.raises(ValueError, match="temperature must be a finite number above 0"):
        small_classifier.set_temperature(temperature)


def test_the_temperature_is_saved_with_the_weights(small_classifier, vocab):
    small_classifier.set_temperature(0.7)
    torch.manual_seed(1)
    copy = BasicImageClassifier(vocab, FlattenEncoder(8, 1, 1), FeedforwardEncoder(hidden_channels=[4, 8]))
    copy.load_state_dict(small_classifier.state_dict())
    assert float(copy.temperature) == pytest.approx(0.7)


def test_weights_saved_before_the_temperature_existed_load_with_temperature_one(small_classifier, vocab):
    small_classifier.set_temperature(3.0)
    old_weights = {name: tensor for name, tensor in small_classifier.state_dict().items() if name != "temperature"}
    small_classifier.load_state_dict(old_weights)  # strict, as load_archive loads
    assert float(small_classifier.temperature) == 1.0
