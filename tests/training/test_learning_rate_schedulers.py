"""Learning-rate schedulers: slanted triangular (ULMFiT), torch's by name, linear warm-up, plans."""
import logging
import re

import pytest
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.training.learning_rate_schedulers import (LearningRateScheduler, TrainingLength, plan_learning_rates,
                                                            slanted_triangular_multiplier)
from allencv_lite.training.optimizers import Optimizer
from allencv_lite.training.trainer import set_trainable_groups
from tests.helpers.seed_recipe import seed_config
from tests.helpers.tiny_net import TinyNet, build


def three_groups(lr: float = 0.01) -> torch.optim.Optimizer:
    """Bottom to top: encoder.0, encoder.1, head."""
    return build({"type": "sgd", "lr": lr, "parameter_groups": [[["^encoder\\.0\\."]], [["^encoder\\.1\\."]],
                                                                [["^head\\."]]]})


def plan(block: dict, optimizer: torch.optim.Optimizer, num_epochs: int, steps: int):
    return plan_learning_rates(block, optimizer, num_epochs, steps).learning_rates


@pytest.mark.parametrize("step, expected", [(0, 1 / 32), (25, 16.5 / 32), (50, 1.0), (275, 16.5 / 32),
                                            (499, (1 + (1 - 449 / 450) * 31) / 32), (500, 1 / 32)])
def test_slanted_triangle_follows_ulmfit_equation_3(step, expected):
    # T = 500, cut_frac = 0.1, ratio = 32: cut = 50, and the decay spans cut * (1/0.1 - 1) = 450 steps.
    assert slanted_triangular_multiplier(step, 500, 0.1, 32) == pytest.approx(expected, rel=1e-12)


def test_slanted_triangle_never_falls_below_peak_over_ratio_when_steps_times_cut_frac_is_not_whole():
    # 125 steps: cut = 12, the paper's decay spans 108 steps, ending at step 120 instead of 125.
    assert [slanted_triangular_multiplier(step, 125, 0.1, 32) for step in (120, 124)] == [1 / 32, 1 / 32]


def test_one_triangle_spans_the_whole_run_without_gradual_unfreezing():
    rates = plan({"type": "slanted_triangular"}, build({"type": "sgd", "lr": 0.01}), 5, 100)["lr_group_0"]
    assert len(rates) == 500
    assert rates[[0, 25, 50, 275]].tolist() == pytest.approx([0.01 / 32, 0.01 * 16.5 / 32, 0.01, 0.01 * 16.5 / 32])
    assert rates.idxmax() == 50


def test_discriminative_fine_tuning_divides_each_lower_groups_peak_by_decay_factor():
    rates = plan({"type": "slanted_triangular", "discriminative_fine_tuning": True, "decay_factor": 0.38},
                 three_groups(0.01), 2, 50)
    assert rates.max().tolist()[1:] == pytest.approx([0.01 * 0.38 ** 2, 0.01 * 0.38, 0.01])


def test_group_initial_lr_is_its_peak_rate():
    optimizer = build({"type": "adam", "lr": 1.0, "parameter_groups": [[["^encoder\\."], {"initial_lr": 0.002}],
                                                                       [["^head\\."], {"initial_lr": 0.004}]]})
    rates = plan({"type": "slanted_triangular"}, optimizer, 1, 30)
    assert rates[["lr_group_0", "lr_group_1"]].max().tolist() == pytest.approx([0.002, 0.004])


def test_gradual_unfreezing_gives_each_freezing_epoch_a_triangle_then_one_triangle_for_the_rest():
    # 3 groups, 4 epochs of 20 steps: epochs 0 and 1 (top 1, then top 2 groups train) each have a
    # triangle of 20 steps (cut 2); epochs 2-3 (all groups) share one of 40 steps (cut 4).
    rates = plan({"type": "slanted_triangular", "gradual_unfreezing": True}, three_groups(0.01), 4, 20)["lr_group_2"]
    assert rates[[0, 2, 19, 20, 22]].tolist() == pytest.approx([0.01 / 32, 0.01, 0.01 * (1 + 31 / 18) / 32,
                                                                0.01 / 32, 0.01])
    assert rates[[40, 44, 60]].tolist() == pytest.approx([0.01 / 32, 0.01, 0.01 * (1 + (1 - 16 / 36) * 31) / 32])


def test_gradual_unfreezing_unfreezes_one_group_per_epoch_from_the_top():
    result = plan_learning_rates({"type": "slanted_triangular", "gradual_unfreezing": True}, three_groups(), 4, 10)
    assert result.unfreezing_epochs == {0: 2, 1: 1, 2: 0}
    assert result.trainable.iloc[10].tolist() == [False, True, True]


def test_seed_schedule_never_unfreezes_the_stem():
    optimizer = build(seed_config()["trainer"]["optimizer"], SeedShapedNet())
    result = plan_learning_rates(seed_config()["trainer"]["learning_rate_scheduler"], optimizer, 5, 125)
    assert result.unfreezing_epochs == {0: None, 1: 4, 2: 3, 3: 2, 4: 1, 5: 0}
    assert len(result.learning_rates) == 625
    assert result.learning_rates["lr_group_5"].max() == pytest.approx(1e-5)
    assert result.learning_rates["lr_group_4"].max() == pytest.approx(1e-5 * 0.38)


class SeedShapedNet(torch.nn.Module):
    """Parameter names like the seed's model: _im2im_encoder.model.{0,1,4,5,6,7}, _classification_layer."""

    def __init__(self) -> None:
        super().__init__()
        self._im2im_encoder = torch.nn.Module()
        self._im2im_encoder.model = torch.nn.Sequential(*[torch.nn.Linear(2, 2) if index not in (2, 3)
                                                          else torch.nn.ReLU() for index in range(8)])
        self._classification_layer = torch.nn.Linear(2, 2)


def test_seed_trainer_block_warns_about_the_stem_and_uses_the_measured_steps(caplog):
    from allencv_lite.training.trainer import Trainer
    trainer_block = {**seed_config()["trainer"], "cuda_device": -1}
    batches = [None] * 125  # 2000 images at batch 16
    with caplog.at_level(logging.WARNING):
        trainer = Trainer.from_params(trainer_block, model=SeedShapedClassifier(), train_data_loader=batches)
    assert ("num_steps_per_epoch is 260, but the training data loader makes 125 optimizer steps per epoch; "
            "using 125.") in caplog.text
    assert ("Gradual unfreezing with 6 parameter groups unfreezes the last group in epoch 6, but the schedule has 5 "
            "epochs: group 0 ['^_im2im_encoder\\\\.model\\\\.(0|1)'] would never train.") in caplog.text
    assert trainer.learning_rate_scheduler.num_steps_per_epoch == 125


@pytest.mark.parametrize("num_epochs, length, never", [
    (1, "1 epoch", "group 0 ['^encoder\\\\.0\\\\.'], group 1 ['^encoder\\\\.1\\\\.']"),
    (2, "2 epochs", "group 0 ['^encoder\\\\.0\\\\.']")])
def test_the_too_short_gradual_unfreezing_warning_counts_epochs_in_words_that_agree(caplog, num_epochs, length, never):
    with caplog.at_level(logging.WARNING):
        LearningRateScheduler.from_params({"type": "slanted_triangular", "gradual_unfreezing": True},
                                          optimizer=three_groups(),
                                          training_length=TrainingLength(num_epochs=num_epochs, num_steps_per_epoch=10))
    assert (f"Gradual unfreezing with 3 parameter groups unfreezes the last group in epoch 3, but the schedule has "
            f"{length}: {never} would never train.") in caplog.text


class SeedShapedClassifier(SeedShapedNet):
    def get_metrics(self, reset: bool = False) -> dict:
        return {"accuracy": 0.0}  # as the classifier reports before its first batch


def test_gradual_unfreezing_with_unmatched_parameters_lists_them_by_module_with_the_fix():
    optimizer = build({"parameter_groups": [[["^encoder\\.0\\."]], [["^head\\."]]]})
    with pytest.raises(ConfigurationError) as error:
        LearningRateScheduler.from_params({"type": "slanted_triangular", "gradual_unfreezing": True},
                                          "trainer.learning_rate_scheduler", optimizer=optimizer,
                                          training_length=TrainingLength(num_epochs=3, num_steps_per_epoch=10))
    assert str(error.value) == (
        "trainer.learning_rate_scheduler.gradual_unfreezing: 2 parameter(s) match no regex of "
        "the optimizer's parameter_groups, so no epoch would ever freeze them: encoder.1 (weight, bias). Add their "
        "modules to a group (or a new group) in the optimizer's parameter_groups, e.g. [[\"^encoder\\\\.1\\\\.\"]], "
        "or freeze them in the model config.")


def test_gradual_unfreezing_needs_parameter_groups():
    with pytest.raises(ConfigurationError, match=re.escape(
            "trainer.learning_rate_scheduler: gradual_unfreezing and discriminative_fine_tuning need the optimizer's "
            "parameter_groups with at least two groups")):
        LearningRateScheduler.from_params({"type": "slanted_triangular", "gradual_unfreezing": True},
                                          "trainer.learning_rate_scheduler", optimizer=build({}),
                                          training_length=TrainingLength(num_epochs=3, num_steps_per_epoch=10))


def test_frozen_groups_stay_bit_for_bit_unchanged_while_unfrozen_ones_move():
    torch.manual_seed(0)
    model = TinyNet()
    optimizer = Optimizer.from_params({"type": "adam", "lr": 0.01, "parameter_groups": [
        [["^encoder\\.0\\."]], [["^encoder\\.1\\."]], [["^head\\."]]]}, model_parameters=list(model.named_parameters()))
    scheduler = LearningRateScheduler.from_params({"type": "slanted_triangular", "gradual_unfreezing": True},
                                                  optimizer=optimizer, num_epochs=3, num_steps_per_epoch=5)
    images = torch.randn(8, 3, 5, 5)
    snapshots = [[p.detach().clone() for p in group["params"]] for group in optimizer.param_groups]
    changed_after_epoch = []
    for epoch in range(3):
        scheduler.on_epoch_start(epoch)
        set_trainable_groups(optimizer, scheduler.trainable_groups(epoch))  # the trainer's freezing step
        for _ in range(5):
            optimizer.zero_grad(set_to_none=True)
            features = model.encoder(images).mean(dim=(2, 3))
            model.head(features).logsumexp(dim=1).mean().backward()
            optimizer.step()
            scheduler.step_batch()
        changed_after_epoch.append([any(not torch.equal(before, p) for before, p in zip(snapshot, group["params"]))
                                    for snapshot, group in zip(snapshots, optimizer.param_groups)])
    assert changed_after_epoch == [[False, False, True], [False, True, True], [True, True, True]]


@pytest.mark.parametrize("block, epoch_rates", [
    ({"type": "step", "step_size": 1, "gamma": 0.5}, [0.1, 0.05, 0.025]),
    ({"type": "multi_step", "milestones": [2], "gamma": 0.1}, [0.1, 0.1, 0.01]),
    ({"type": "exponential", "gamma": 0.9}, [0.1, 0.09, 0.081]),
    ({"type": "cosine"}, [0.1, 0.075, 0.025]),  # T_max defaults to num_epochs = 3: 0.05 * (1 + cos(pi * e / 3))
])
def test_torch_epoch_schedulers_by_name_step_once_per_epoch(block, epoch_rates):
    rates = plan(block, build({"type": "sgd", "lr": 0.1}), 3, 4)
    per_epoch = rates.groupby("epoch")["lr_group_0"]
    assert per_epoch.first().tolist() == pytest.approx(epoch_rates)
    assert per_epoch.last().tolist() == pytest.approx(epoch_rates)


def test_one_cycle_steps_every_batch_and_peaks_at_each_groups_lr():
    rates = plan({"type": "one_cycle", "pct_start": 0.25, "anneal_strategy": "linear"}, three_groups(0.04), 2, 10)
    assert rates["lr_group_2"].idxmax() == 5 - 1  # the peak is reached at step pct_start * total_steps - 1
    assert rates["lr_group_2"].max() == pytest.approx(0.04)
    assert rates["lr_group_2"][0] == pytest.approx(0.04 / 25)  # div_factor 25


def test_linear_with_warmup_rises_then_decays_to_zero():
    rates = plan({"type": "linear_with_warmup", "warmup_steps": 10}, build({"type": "sgd", "lr": 0.1}), 2, 20)
    assert rates["lr_group_0"][[0, 5, 10, 25, 39]].tolist() == pytest.approx([0.0, 0.05, 0.1, 0.05, 0.1 / 30])


def test_unknown_scheduler_names_the_key_path_and_suggests():
    with pytest.raises(ConfigurationError, match=re.escape("learning_rate_scheduler.type: 'slanted_triangle' is "
                                                           "not a registered LearningRateScheduler. Did you mean "
                                                           "'slanted_triangular'?")):
        plan({"type": "slanted_triangle"}, build({}), 1, 1)
