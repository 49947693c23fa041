"""The time-to-accuracy benchmark's plain loop trains exactly as the config does."""
import sys
from pathlib import Path

import pytest
import torch

from allencv_lite.common.params import load_config
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models.model import Model
from allencv_lite.training.learning_rate_schedulers import LearningRateScheduler, TrainingLength
from allencv_lite.training.optimizers import Optimizer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import time_to_accuracy  # noqa: E402  (benchmarks/ is not a package)

NUM_EPOCHS, STEPS_PER_EPOCH = 4, 5


def config_model_optimizer_and_schedule(recipe: str):
    """The recipe's config, and the model, optimizer and scheduler allencv-lite builds from it."""
    config = load_config(time_to_accuracy.RECIPES[recipe].config,
                         ext_vars={"TRAIN_PATH": "unused", "VALIDATION_PATH": "unused"})
    model = Model.from_params(config["model"], "model", vocab=Vocabulary.from_labels(["Cat", "Dog"]))
    optimizer = Optimizer.from_params(config["trainer"]["optimizer"], "trainer.optimizer",
                                      model_parameters=list(model.named_parameters()))
    scheduler = LearningRateScheduler.from_params(config["trainer"]["learning_rate_scheduler"], optimizer=optimizer,
                                                  training_length=TrainingLength(NUM_EPOCHS, STEPS_PER_EPOCH))
    return config, model, optimizer, scheduler


def test_the_plain_from_scratch_model_has_the_configs_layers_in_the_configs_order():
    config, model, _, _ = config_model_optimizer_and_schedule("scratch")
    plain = time_to_accuracy.plain_scratch_recipe(2)
    assert [tuple(t.shape) for t in plain.model.state_dict().values()] == \
        [tuple(t.shape) for name, t in model.state_dict().items() if name != "temperature"]  # fitted after training
    images = torch.zeros(2, 3, time_to_accuracy.SCRATCH_SIZE, time_to_accuracy.SCRATCH_SIZE)
    assert plain.model.eval()(images).shape == model.eval()(images)["logits"].shape == (2, 2)
    assert plain.label_smoothing == config["model"]["label_smoothing"]
    assert plain.model[-2].p == config["model"]["dropout"]


def test_the_plain_from_scratch_loop_follows_the_configs_one_cycle_rates_step_by_step():
    _, _, optimizer, scheduler = config_model_optimizer_and_schedule("scratch")
    plain = time_to_accuracy.plain_scratch_recipe(2)
    for epoch in range(NUM_EPOCHS):
        scheduler.on_epoch_start(epoch)
        plain.on_epoch_start(epoch, NUM_EPOCHS, STEPS_PER_EPOCH)
        for _ in range(STEPS_PER_EPOCH):
            assert plain.optimizer.param_groups[0]["lr"] == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12)
            assert plain.optimizer.param_groups[0]["betas"] == pytest.approx(optimizer.param_groups[0]["betas"])
            optimizer.step()  # no gradients: moves nothing, but keeps torch's scheduler from warning
            plain.optimizer.step()
            scheduler.step_batch()
            plain.on_step()
    assert plain.optimizer.defaults["weight_decay"] == optimizer.defaults["weight_decay"]
    assert isinstance(plain.optimizer, torch.optim.AdamW) and isinstance(optimizer, torch.optim.AdamW)
