"""The learning-rate range test: it reads real loss curves, declines to guess on bad ones, and
leaves the model, the optimizer and the random generators exactly as they were."""
import copy
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from allencv_lite.common.params import load_config
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models.model import Model
from allencv_lite.training.checkpointing import random_states
from allencv_lite.training.from_config import build_trainer
from allencv_lite.training.loss_curve import (smooth_losses, smoothing_for_steps, steps_for_smoothing,
                                              suggest_learning_rates)
from allencv_lite.training.lr_finder import find_learning_rate, find_learning_rate_from_config, sweep_learning_rate

REPO = Path(__file__).resolve().parents[2]


def digits_config(digits_dir: Path, batch_size: int = 64, **trainer) -> dict:
    """Logistic regression on the 8×8 digits with dropout and flips: a curve in a few seconds."""
    resize_and_normalize = [{"type": "resize", "height": 8, "width": 8},
                            {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}]
    return {
        "dataset_reader": {"type": "image_classification_directory",
                           "augmentation": resize_and_normalize + [{"type": "flip", "p": 0.5}]},
        "train_data_path": str(digits_dir / "train"),
        "validation_data_path": str(digits_dir / "val"),
        "model": {"type": "basic_image_classifier", "dropout": 0.2,
                  "im2vec_encoder": {"type": "flatten", "input_channels": 3, "input_height": 8, "input_width": 8}},
        "iterator": {"type": "basic", "batch_size": batch_size},
        "trainer": {"num_epochs": 2, "cuda_device": -1, "optimizer": {"type": "adam", "lr": 0.02}, **trainer},
    }


def snapshot(trainer) -> dict:
    return {"model": copy.deepcopy(trainer.model.state_dict()),
            "optimizer": copy.deepcopy(trainer.optimizer.state_dict()),
            "requires_grad": [p.requires_grad for p in trainer.model.parameters()],
            "training": [module.training for module in trainer.model.modules()],
            "random": copy.deepcopy(random_states())}


def assert_same(before: dict, after: dict) -> None:
    assert before["model"].keys() == after["model"].keys()
    for name, tensor in before["model"].items():
        assert torch.equal(tensor, after["model"][name]), name
    optimizer_before, optimizer_after = before["optimizer"], after["optimizer"]
    assert optimizer_before["param_groups"] == optimizer_after["param_groups"]  # every group's lr included
    assert optimizer_before["state"].keys() == optimizer_after["state"].keys()
    for index, state in optimizer_before["state"].items():
        for key, value in state.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(optimizer_after["state"][index][key]))
    assert before["requires_grad"] == after["requires_grad"]
    assert before["training"] == after["training"]
    assert before["random"]["python"] == after["random"]["python"]
    assert np.array_equal(before["random"]["numpy"]["state"]["key"], after["random"]["numpy"]["state"]["key"])
    assert torch.equal(before["random"]["torch"], after["random"]["torch"])


@pytest.fixture(scope="module")
def trained_once(digits_dir):
    """A trainer whose Adam state is not empty: one epoch trained before the sweeps."""
    trainer, _, _ = build_trainer(digits_config(digits_dir, num_epochs=1))
    trainer.train()
    return trainer


def test_the_sweep_leaves_model_optimizer_and_random_generators_bit_for_bit_unchanged(trained_once):
    before = snapshot(trained_once)
    find_learning_rate(trained_once.model, trained_once.optimizer, trained_once.train_data_loader, progress=False)
    assert_same(before, snapshot(trained_once))


def test_two_sweeps_draw_the_same_batches_and_give_the_same_curve(trained_once):
    first = find_learning_rate(trained_once.model, trained_once.optimizer, trained_once.train_data_loader,
                               num_steps=30, progress=False)
    second = find_learning_rate(trained_once.model, trained_once.optimizer, trained_once.train_data_loader,
                                num_steps=30, progress=False)
    assert first.losses == second.losses


def test_training_after_a_sweep_ends_with_the_weights_of_training_without_one(digits_dir):
    config = digits_config(digits_dir, learning_rate_scheduler={"type": "slanted_triangular"})
    plain, _, _ = build_trainer(config)
    plain.train()
    swept, _, _ = build_trainer(config)
    find_learning_rate(swept.model, swept.optimizer, swept.train_data_loader, num_steps=20, progress=False)
    swept.train()
    for name, tensor in plain.model.state_dict().items():
        assert torch.equal(tensor, swept.model.state_dict()[name]), name


def test_a_learnable_task_gets_a_valley_and_a_steepest_descent_below_where_the_loss_diverges(digits_dir):
    result = find_learning_rate_from_config(digits_config(digits_dir), progress=False)
    assert result.declined is None and result.warning is None  # 100 steps suit β = 0.98
    assert result.stopped.startswith("the loss diverged at step")
    assert len(result.losses) < 100 and result.learning_rates[0] == 1e-7
    lowest = result.learning_rates[int(np.argmin(result.smoothed_losses))]
    assert 1e-4 < result.suggestions["valley"] < lowest
    assert 1e-4 < result.suggestions["steepest"] < lowest
    assert result.suggestion == result.suggestions["valley"]


def test_its_suggestion_trains_the_digits_to_over_85_percent(digits_dir, tmp_path):
    """The valley (about 3e-3 here) is a cautious rate: 86.6 % after 3 epochs, measured."""
    config = digits_config(digits_dir, num_epochs=3, validation_metric="+accuracy")
    suggestion = find_learning_rate_from_config(config, progress=False).suggestion
    config["trainer"]["optimizer"]["lr"] = suggestion
    trainer, _, _ = build_trainer(config, tmp_path)
    assert trainer.train()["best_validation_accuracy"] > 0.85


def test_single_image_batches_are_too_noisy_to_suggest_a_rate(digits_dir):
    result = find_learning_rate_from_config(digits_config(digits_dir, batch_size=1), progress=False)
    assert result.suggestions == {}
    assert result.declined.startswith("the curve is too noisy: the loss falls by")


def test_coin_flip_labels_never_lower_the_loss_and_get_no_suggestion(digits_dir):
    """Images of noise whose labels are coin flips, for a classifier that already answers 50/50."""
    vocab = Vocabulary.from_labels(["heads", "tails"])
    model = Model.from_params({"type": "basic_image_classifier", "im2vec_encoder": {
        "type": "flatten", "input_channels": 3, "input_height": 8, "input_width": 8}}, vocab=vocab)
    torch.nn.init.zeros_(model._classification_layer.weight)
    torch.nn.init.zeros_(model._classification_layer.bias)
    generator = torch.Generator().manual_seed(0)
    batches = [{"image": torch.randn(64, 3, 8, 8, generator=generator),
                "label": torch.randperm(64, generator=generator) % 2} for _ in range(100)]
    result = find_learning_rate(model, torch.optim.SGD(model.parameters(), lr=0.1), batches, progress=False)
    assert result.suggestions == {}
    assert result.declined.startswith("the loss never falls: its mean over the first 10 steps is 0.693")
    assert result.declined.endswith("check the labels and the data, or widen the range")


class RecordingSGD(torch.optim.SGD):
    """SGD that records every group's learning rate at each step."""

    steps: list = []

    def step(self, closure=None):
        RecordingSGD.steps.append([group["lr"] for group in self.param_groups])
        return super().step(closure)


def test_discriminative_groups_are_scaled_together_and_the_top_group_is_reported(digits_dir, monkeypatch):
    config = digits_config(digits_dir, num_epochs=2, learning_rate_scheduler={
        "type": "slanted_triangular", "discriminative_fine_tuning": True, "decay_factor": 0.5})
    config["model"]["dropout"] = None
    config["trainer"]["optimizer"] = {"type": "recording_sgd", "lr": 0.1, "parameter_groups": [
        [["_classification_layer\\.bias"]], [["_classification_layer\\.weight"]]]}
    from allencv_lite.training.optimizers import Optimizer, optimizer_factory
    monkeypatch.setitem(Optimizer._registry[Optimizer], "recording_sgd", optimizer_factory(RecordingSGD))
    RecordingSGD.steps = []
    result = find_learning_rate_from_config(config, num_steps=30, progress=False)
    assert result.group_ratios == pytest.approx([0.5, 1.0])
    sweep = RecordingSGD.steps[-len(result.losses):]
    assert [top for _, top in sweep] == pytest.approx(result.learning_rates)
    assert [bottom for bottom, _ in sweep] == pytest.approx([0.5 * rate for rate in result.learning_rates])


def test_the_rates_grow_exponentially_from_start_to_end():
    rates = [sweep_learning_rate(step, 100, 1e-7, 10.0) for step in range(100)]
    assert rates[0] == pytest.approx(1e-7) and rates[-1] == pytest.approx(10.0)
    assert rates[50] / rates[49] == pytest.approx(rates[1] / rates[0])


def test_the_smoothed_loss_is_a_bias_corrected_moving_average():
    assert smooth_losses([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])
    assert smooth_losses([1.0, 0.0], beta=0.5) == pytest.approx([1.0, 0.5 * 0.5 / (1 - 0.25)])


def sweep_curve(num_steps: int, changes: dict, base: float = 2.3) -> tuple:
    """``(rates, losses)``: a sweep from 1e-7 to 10 whose loss is ``base`` plus batch noise of
    0.01, except at the steps in ``changes`` (step: loss, plus the same noise)."""
    noise = np.random.default_rng(0).normal(0, 0.01, num_steps)
    losses = [changes.get(step, base) + noise[step] for step in range(num_steps)]
    return [sweep_learning_rate(step, num_steps, 1e-7, 10.0) for step in range(num_steps)], losses


def test_100_steps_suit_the_usual_smoothing_and_20_steps_a_beta_of_0_9():
    assert steps_for_smoothing(0.98) == 100 and steps_for_smoothing(0.9) == 20
    assert smoothing_for_steps(100) == pytest.approx(0.98) and smoothing_for_steps(20) == pytest.approx(0.9)


def test_a_flat_100_step_curve_means_the_model_does_not_learn():
    suggestions, _, declined, warning = suggest_learning_rates(*sweep_curve(100, {}))
    assert suggestions == {} and warning is None
    assert declined.startswith("the loss never falls: its mean over the first 10 steps is 2.3, and after them "
                               "neither its smoothed value (lowest 2.3")
    assert declined.endswith("check the labels and the data, or widen the range")


def test_a_fall_of_20_steps_that_beta_0_98_hides_is_told_to_sweep_100_steps_or_smooth_with_0_9():
    """The loss of five batches falls by 0.3 (14 % at the lowest batch); β = 0.98 averages them
    with all 20 steps and its curve falls by 4.5 % only; with β = 0.9 it falls by 6.7 %."""
    rates, losses = sweep_curve(20, {12: 2.0, 13: 2.0, 14: 2.0, 15: 2.0, 16: 2.0, 17: 2.6, 18: 3.2, 19: 4.5})
    suggestions, _, declined, _ = suggest_learning_rates(rates, losses)
    assert suggestions == {}
    assert declined.startswith("the smoothing hides the fall: the loss of each batch falls from 2.3 (the mean of "
                               "the first 10 steps) to 1.98 (at lr 0.011), but its smoothed value only to 2.2, since "
                               "20 steps are too short a sweep for its smoothing (β = 0.98 averages the loss over "
                               "about 50 steps)")
    assert declined.endswith("raise num_steps to 2 / (1 − β) = 100 (--num-steps 100), or keep 20 steps and lower "
                             "smoothing to 0.9 (--smoothing 0.9)")
    suggestions, _, declined, warning = suggest_learning_rates(rates, losses, beta=0.9)
    assert declined is None and warning is None and suggestions["valley"] <= 0.011


def test_a_fall_too_brief_for_the_smoothing_of_100_steps_is_told_to_sweep_twice_as_many():
    rates, losses = sweep_curve(100, {90: 1.8, 91: 1.8, 92: 1.8, 93: 1.8, 94: 2.6, 95: 3.5, 96: 5.0})
    _, _, declined, _ = suggest_learning_rates(rates[:97], losses[:97], num_steps=100)  # diverged at step 97
    assert declined.startswith("the smoothing hides the fall: the loss of each batch falls from 2.3")
    assert declined.endswith("longer than the fall lasts: raise num_steps to 200 (--num-steps 200), so that the "
                             "fall spans more steps")


def test_a_flat_20_step_curve_is_too_short_to_blame_the_labels_before_sweeping_100_steps():
    _, _, declined, _ = suggest_learning_rates(*sweep_curve(20, {}))
    assert declined.startswith("the loss does not fall within this short sweep: its mean over the first 10 steps is")
    assert declined.endswith("raise num_steps to 2 / (1 − β) = 100 (--num-steps 100); if the loss still never "
                             "falls, check the labels and the data")


def test_a_short_sweep_that_still_suggests_warns_that_its_smoothed_curve_lags():
    rates, losses = sweep_curve(20, {**{step: 2.3 - 0.15 * (step - 9) for step in range(10, 17)},
                                     17: 2.5, 18: 3.2, 19: 4.6})
    suggestions, _, declined, warning = suggest_learning_rates(rates, losses)
    assert declined is None and suggestions.keys() == {"valley", "steepest"}
    assert warning == ("20 steps are too short a sweep for its smoothing (β = 0.98 averages the loss over about 50 "
                       "steps), so the smoothed curve lags the loss of each batch and the suggestions can sit at too "
                       "high a rate; for a curve to trust, raise num_steps to 2 / (1 − β) = 100 (--num-steps 100), "
                       "or lower smoothing to 0.9 (--smoothing 0.9)")


def test_find_lr_on_the_efficientnet_config_leaves_its_model_bit_for_bit_unchanged(digits_dir):
    """The fine-tuning config's own model, parameter groups and schedule (on the digits, small)."""
    config = load_config(REPO / "training_config" / "cats_dogs_efficientnet_finetune.jsonnet",
                         '{"iterator": {"batch_size": 4}}',
                         ext_vars={"TRAIN_PATH": str(digits_dir / "train"), "VALIDATION_PATH": ""})
    random.seed(0)
    trainer, _, _ = build_trainer(config)
    trainer.prepare_epoch(0)  # gradual unfreezing: only the top group (stage 6, head convolution, classifier) trains
    before = snapshot(trainer)
    result = find_learning_rate(trainer.model, trainer.optimizer, trainer.train_data_loader, num_steps=3,
                                progress=False)
    assert_same(before, snapshot(trainer))
    assert result.group_ratios == pytest.approx([0.38, 1.0])
    assert len(result.losses) == 3 and result.declined.startswith("only 3 steps")
