"""training_config/cats_dogs_efficientnet_finetune.jsonnet and the lesson's config build as intended, without training."""
from pathlib import Path

import pytest
import torch

from allencv_lite.common.params import load_config
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models import Model
from allencv_lite.modules.pretrained_weights import efficientnet_lite_package_file
from allencv_lite.training.learning_rate_schedulers import plan_learning_rates
from allencv_lite.training.optimizers import Optimizer
from allencv_lite.training.trainer import freeze_parameters

CONFIG = Path(__file__).resolve().parents[2] / "training_config" / "cats_dogs_efficientnet_finetune.jsonnet"


@pytest.fixture(scope="module")
def config() -> dict:
    return load_config(CONFIG, ext_vars={"TRAIN_PATH": "unused", "VALIDATION_PATH": "unused"})


@pytest.fixture(scope="module")
def model(config) -> Model:
    return Model.from_params(config["model"], "model", vocab=Vocabulary({"labels": {"Cat": 1000, "Dog": 1000}}))


def test_backbone_starts_from_the_offline_imagenet_weights(model):
    package = torch.load(efficientnet_lite_package_file(0), map_location="cpu", weights_only=True)
    assert torch.equal(model._im2im_encoder.model.conv_stem.weight, package["_conv_stem.weight"])


def test_the_bottom_is_frozen_two_groups_cover_the_rest_and_the_head_is_probed_first(config, model):
    trainer = config["trainer"]
    assert trainer["linear_probe_first"] is True
    freeze_parameters(model, trainer["no_grad"])
    frozen = [name for name, parameter in model.named_parameters() if not parameter.requires_grad]
    assert frozen[0] == "_im2im_encoder.model.conv_stem.weight" and frozen[-1].startswith("_im2im_encoder.model.blocks.3.")
    optimizer = Optimizer.from_params(trainer["optimizer"], "trainer.optimizer",
                                      model_parameters=list(model.named_parameters()))
    named = [group for group in optimizer.param_groups if group["regexes"]]
    assert len(named) == 2
    assert sum(len(group["params"]) for group in named) == sum(p.requires_grad for p in model.parameters())
    plan = plan_learning_rates(trainer["learning_rate_scheduler"], optimizer, trainer["num_epochs"],
                               num_steps_per_epoch=63)
    assert plan.unfreezing_epochs == {0: 1, 1: 0}  # stages 4-5 first train in epoch 1 of 0-1


def test_the_lesson_config_freezes_the_bottom_and_trains_two_groups_that_cover_the_rest():
    lesson = load_config(CONFIG.with_name("cats_dogs_lesson.jsonnet"),
                         ext_vars={"TRAIN_PATH": "unused", "VALIDATION_PATH": "unused"})
    trainer = dict(lesson["trainer"], num_epochs=2)
    model = Model.from_params(lesson["model"], "model", vocab=Vocabulary({"labels": {"Cat": 150, "Dog": 150}}))
    freeze_parameters(model, trainer["no_grad"])
    frozen = [name for name, parameter in model.named_parameters() if not parameter.requires_grad]
    assert frozen[0] == "_im2im_encoder.model.conv_stem.weight" and frozen[-1].startswith("_im2im_encoder.model.blocks.4.")
    optimizer = Optimizer.from_params(trainer["optimizer"], "trainer.optimizer",
                                      model_parameters=list(model.named_parameters()))
    assert [len(group["params"]) for group in optimizer.param_groups] == [
        sum(parameter.requires_grad for parameter in model.parameters()) - 2, 2]  # no default group
    plan = plan_learning_rates(trainer["learning_rate_scheduler"], optimizer, 2, num_steps_per_epoch=10)
    assert plan.unfreezing_epochs == {0: 1, 1: 0}
