"""training_config/cats_dogs_efficientnet_finetune.jsonnet builds as intended, without training."""
from pathlib import Path

import pytest
import torch

from allencv_lite.common.params import load_config
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models import Model
from allencv_lite.modules.pretrained_weights import efficientnet_lite0_package_file
from allencv_lite.training.learning_rate_schedulers import plan_learning_rates
from allencv_lite.training.optimizers import Optimizer

CONFIG = Path(__file__).resolve().parents[2] / "training_config" / "cats_dogs_efficientnet_finetune.jsonnet"


@pytest.fixture(scope="module")
def config() -> dict:
    return load_config(CONFIG, ext_vars={"TRAIN_PATH": "unused", "VALIDATION_PATH": "unused"})


@pytest.fixture(scope="module")
def model(config) -> Model:
    return Model.from_params(config["model"], "model", vocab=Vocabulary({"labels": {"Cat": 1000, "Dog": 1000}}))


def test_backbone_starts_from_the_offline_imagenet_weights(model):
    package = torch.load(efficientnet_lite0_package_file(), map_location="cpu", weights_only=True)
    assert torch.equal(model._im2im_encoder.model.conv_stem.weight, package["_conv_stem.weight"])


def test_four_groups_cover_every_parameter_and_all_train_by_the_last_epoch(config, model):
    optimizer = Optimizer.from_params(config["trainer"]["optimizer"], "trainer.optimizer",
                                      model_parameters=list(model.named_parameters()))
    named = [group for group in optimizer.param_groups if group["regexes"]]
    assert len(named) == 4
    assert sum(len(group["params"]) for group in named) == len(list(model.parameters()))
    plan = plan_learning_rates(config["trainer"]["learning_rate_scheduler"], optimizer,
                               config["trainer"]["num_epochs"], num_steps_per_epoch=63)
    assert plan.unfreezing_epochs == {0: 3, 1: 2, 2: 1, 3: 0}  # bottom group first trains in epoch 3 of 0-3
