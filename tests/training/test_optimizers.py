"""Optimizers and AllenNLP's parameter_groups."""
import logging
import re

import pytest
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models.model import Model
from allencv_lite.training.optimizers import describe_parameter_groups
from tests.helpers.seed_recipe import seed_config
from tests.helpers.tiny_net import TinyNet, build


@pytest.fixture(scope="module")
def resnet50_classifier() -> Model:
    """The seed's model, built without downloading weights."""
    model_config = seed_config()["model"]
    model_config["im2im_encoder"]["pretrained"] = False
    return Model.from_params(model_config, "model", vocab=Vocabulary.from_labels(["Cat", "Dog"]))


def test_seed_groups_select_stem_layer1_to_layer4_and_head_of_pretrained_resnet(resnet50_classifier):
    optimizer = build(seed_config()["trainer"]["optimizer"], resnet50_classifier)
    encoder = resnet50_classifier._im2im_encoder.model
    expected_modules = [[encoder[0], encoder[1]], [encoder[4]], [encoder[5]], [encoder[6]], [encoder[7]],
                        [resnet50_classifier._classification_layer]]
    assert len(optimizer.param_groups) == 6
    for group, modules in zip(optimizer.param_groups, expected_modules):
        expected = {id(parameter) for module in modules for parameter in module.parameters()}
        assert {id(parameter) for parameter in group["params"]} == expected
        assert group["initial_lr"] == 1e-5 and group["lr"] == 1e-5
    assert sum(len(group["params"]) for group in optimizer.param_groups) == len(list(resnet50_classifier.parameters()))


def test_groups_may_be_written_without_options_and_take_the_optimizer_defaults():
    optimizer = build({"type": "sgd", "lr": 0.5, "parameter_groups": [[["^encoder\\.0\\."]],
                                                                      [["^head\\."], {"lr": 0.1}]]})
    assert [group["lr"] for group in optimizer.param_groups] == [0.5, 0.1, 0.5]
    assert optimizer.param_groups[0]["parameter_names"] == ["encoder.0.weight", "encoder.0.bias"]
    assert optimizer.param_groups[1]["parameter_names"] == ["head.weight", "head.bias"]


def test_unmatched_parameters_form_a_last_default_group():
    optimizer = build({"type": "adam", "lr": 1e-3, "parameter_groups": [[["^head\\."]]]})
    assert len(optimizer.param_groups) == 2
    assert optimizer.param_groups[1]["regexes"] == []
    assert optimizer.param_groups[1]["parameter_names"] == ["encoder.0.weight", "encoder.0.bias",
                                                            "encoder.1.weight", "encoder.1.bias"]


def test_a_regex_matching_no_parameter_is_an_error_naming_it():
    with pytest.raises(ConfigurationError, match=re.escape("trainer.optimizer.parameter_groups[1]: regex "
                                                           "'^_classification_layer' matches no trainable parameter")):
        build({"parameter_groups": [[["^head\\."]], [["^_classification_layer"]]]})


def test_a_regex_matching_only_frozen_parameters_says_so():
    model = TinyNet()
    model.encoder.requires_grad_(False)
    with pytest.raises(ConfigurationError, match=r"matches 4 frozen parameter\(s\) \(requires_grad false\)"):
        build({"parameter_groups": [[["^encoder\\."]], [["^head\\."]]]}, model)


def test_a_parameter_in_two_groups_is_an_error_naming_both_groups():
    with pytest.raises(ConfigurationError, match=re.escape("parameter 'encoder.0.weight' matches group 0 "
                                                           "['^encoder'] and group 1 ['0\\\\.weight']")):
        build({"parameter_groups": [[["^encoder"]], [["0\\.weight"]]]})


def test_an_option_the_optimizer_does_not_take_is_an_error():
    with pytest.raises(ConfigurationError, match=re.escape(
            "parameter_groups[0][1]: unexpected key(s) ['lrr'] for a parameter group. Did you mean 'lr'?")):
        build({"type": "adam", "parameter_groups": [[["^head\\."], {"lrr": 0.1}]]})


def test_an_optimizer_name_in_the_wrong_case_suggests_the_same_name_in_lower_case():
    with pytest.raises(ConfigurationError, match=re.escape("'AdamW' is not a registered Optimizer. Did you mean 'adamw'?")):
        build({"type": "AdamW"})


@pytest.mark.parametrize("optimizer_block, message", [
    ({"type": "adam", "lr": "0.001"}, "lr: expected a number, got '0.001'"),  # torch: lr: Union[float, Tensor]
    ({"type": "sgd", "lr": [0.1]}, "lr: expected a number, got [0.1]"),
    ({"type": "adam", "parameter_groups": [[["^head\\."], {"lr": "0.1"}]]},
     "parameter_groups[0][1].lr: expected a number, got '0.1'"),
])
def test_an_option_of_the_wrong_type_is_an_error_naming_it(optimizer_block, message):
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        build(optimizer_block)


def test_a_malformed_group_is_an_error_showing_the_expected_shape():
    with pytest.raises(ConfigurationError, match=re.escape("parameter_groups[0]: expected [[\"regex\", ...]")):
        build({"parameter_groups": [["^head\\."]]})


def test_group_description_lists_regexes_tensor_and_weight_counts_and_the_rate_adam_uses_now():
    optimizer = build({"type": "adam", "lr": 1e-3, "parameter_groups": [[["^head\\."], {"lr": 0.01}]]})
    assert describe_parameter_groups(optimizer) == [
        "group 0 ['^head\\\\.']: 2 parameter tensors, 10 weights, lr 1.00e-02",
        "group 1 (default group: parameters matching no regex): 4 parameter tensors, 260 weights, lr 1.00e-03"]


def test_initial_lr_is_only_a_schedulers_peak_so_without_one_the_group_trains_at_the_optimizers_lr():
    optimizer = build({"type": "adam", "lr": 1e-3, "parameter_groups": [[["^head\\."], {"initial_lr": 0.01}]]})
    assert describe_parameter_groups(optimizer)[0] == ("group 0 ['^head\\\\.']: 2 parameter tensors, 10 weights, "
                                                       "lr 1.00e-03")


def test_trainer_logs_each_groups_rate_at_the_first_step_of_the_seeds_discriminative_schedule(caplog,
                                                                                              resnet50_classifier):
    from allencv_lite.training.trainer import Trainer
    data = [{"image": torch.zeros(2, 3, 8, 8), "label": torch.zeros(2, dtype=torch.long)}]
    trainer = seed_config()["trainer"]
    with caplog.at_level(logging.INFO, logger="allencv_lite.training"):
        Trainer.from_params({"optimizer": trainer["optimizer"], "learning_rate_scheduler":
                             trainer["learning_rate_scheduler"], "num_epochs": 5, "cuda_device": -1},
                            model=resnet50_classifier, train_data_loader=data)
    # Peak 1e-05 for the head, 0.38 times less per group below it; a triangle starts at 1/32 of its peak.
    assert "group 5 ['^_classification_layer']: 2 parameter tensors, 4,098 weights, lr 3.13e-07" in caplog.text
    assert "group 4 ['^_im2im_encoder\\\\.model\\\\.7']: 30 parameter tensors, 14,964,736 weights, lr 1.19e-07" \
        in caplog.text
    assert "3 parameter tensors, 9,536 weights, lr 2.48e-09" in caplog.text  # the stem: 1e-5 * 0.38**5 / 32
