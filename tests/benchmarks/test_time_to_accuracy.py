"""The time-to-accuracy benchmark's plain loop fine-tunes exactly as the config does."""
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


def test_the_plain_fine_tuning_loop_follows_the_configs_rates_and_unfreezing_step_by_step():
    config = load_config(time_to_accuracy.RECIPES["finetune"].config,
                         ext_vars={"TRAIN_PATH": "unused", "VALIDATION_PATH": "unused"})
    model = Model.from_params(config["model"], "model", vocab=Vocabulary.from_labels(["Cat", "Dog"]))
    optimizer = Optimizer.from_params(config["trainer"]["optimizer"], "trainer.optimizer",
                                      model_parameters=list(model.named_parameters()))
    scheduler = LearningRateScheduler.from_params(config["trainer"]["learning_rate_scheduler"], optimizer=optimizer,
                                                  training_length=TrainingLength(NUM_EPOCHS, STEPS_PER_EPOCH))
    plain = time_to_accuracy.plain_finetune_recipe(2)
    plain_groups = [group["params"] for group in plain.optimizer.param_groups]
    assert [len(group) for group in plain_groups] == [len(group["params"]) for group in optimizer.param_groups]
    for epoch in range(NUM_EPOCHS):
        scheduler.on_epoch_start(epoch)
        plain.on_epoch_start(epoch, NUM_EPOCHS, STEPS_PER_EPOCH)
        assert [all(p.requires_grad for p in group) for group in plain_groups] == scheduler.trainable_groups(epoch)
        for _ in range(STEPS_PER_EPOCH):
            assert ([group["lr"] for group in plain.optimizer.param_groups] ==
                    pytest.approx([group["lr"] for group in optimizer.param_groups], rel=1e-12))
            scheduler.step_batch()
            plain.on_step()
    assert plain.optimizer.defaults["weight_decay"] == optimizer.defaults["weight_decay"]
    assert isinstance(plain.optimizer, torch.optim.AdamW) and isinstance(optimizer, torch.optim.AdamW)
