"""Calibration: temperature scaling recovers a known temperature, the scores measure what they
say (Guo et al. 2017), and training keeps a fitted temperature only when it helps on images it was
not fitted on, unless told not to calibrate at all."""
import io
import json
import logging
import tarfile

import pytest
import torch
from torchmetrics.functional.classification import multiclass_calibration_error

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.interpret.calibration import (
    brier_score,
    calibrate_model,
    calibration_scores,
    choose_temperature,
    cross_fitting_halves,
    fit_temperature,
    out_of_sample_temperatures,
    plot_reliability_diagram,
    reliability_bins,
)
from allencv_lite.models.archival import load_archive


def calibrated_samples(num_samples=20000, num_classes=5, seed=0):
    """Logits ``(N, C)`` and labels drawn from their own softmax: perfectly calibrated by construction."""
    generator = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(num_samples, num_classes, generator=generator)
    labels = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator).squeeze(1)
    return logits, labels


@pytest.mark.parametrize("true_temperature", [2.5, 0.5])
def test_fitting_over_or_under_confident_logits_recovers_their_temperature(true_temperature):
    logits, labels = calibrated_samples()
    # Multiplying calibrated logits by T makes them over-confident (T > 1) or under-confident (T < 1);
    # dividing by the fitted temperature must undo it.
    assert fit_temperature(logits * true_temperature, labels) == pytest.approx(true_temperature, rel=0.03)


def test_a_perfectly_calibrated_set_has_an_ece_near_zero_and_an_over_confident_one_does_not():
    logits, labels = calibrated_samples()
    assert calibration_scores(logits, labels)["ece"] < 0.01  # sampling noise only, on 20000 samples
    assert calibration_scores(logits * 2.5, labels)["ece"] > 0.15


def test_temperature_scaling_lowers_the_nll_and_ece_of_over_confident_logits():
    logits, labels = calibrated_samples()
    temperature = fit_temperature(2.5 * logits, labels)
    before, after = calibration_scores(2.5 * logits, labels), calibration_scores(2.5 * logits, labels, temperature)
    assert after["nll"] < before["nll"] and after["ece"] < 0.01 and after["brier"] < before["brier"]


def test_the_ece_of_the_bins_is_torchmetrics_calibration_error():
    logits, labels = calibrated_samples(num_samples=3000, seed=1)
    probabilities = torch.softmax(3 * logits, dim=-1)
    expected = float(multiclass_calibration_error(probabilities, labels, num_classes=5, n_bins=15, norm="l1"))
    assert reliability_bins(probabilities, labels).expected_calibration_error == pytest.approx(expected, abs=1e-6)


def test_the_bins_hold_each_confidence_in_its_interval_closed_on_the_right():
    probabilities = torch.tensor([[0.75, 0.25], [0.75, 0.25], [1.0, 0.0], [0.875, 0.125]])  # exact in binary
    bins = reliability_bins(probabilities, torch.tensor([0, 1, 0, 0]), num_bins=4)
    assert bins.count.tolist() == [0, 0, 2, 2]  # 0.75 in (0.5, 0.75]; 0.875 and 1.0 in (0.75, 1]
    assert bins.accuracy.tolist() == [0, 0, 0.5, 1.0] and bins.confidence.tolist() == [0, 0, 0.75, 0.9375]
    assert bins.expected_calibration_error == pytest.approx((2 * 0.25 + 2 * 0.0625) / 4)


def test_the_brier_score_of_a_certain_right_answer_is_zero_and_of_a_certain_wrong_one_two():
    assert brier_score(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0])) == pytest.approx(1.0)
    assert brier_score(torch.tensor([[0.5, 0.5]]), torch.tensor([1])) == pytest.approx(0.5)


def test_fitting_no_samples_is_refused_in_one_line():
    with pytest.raises(ConfigurationError, match=r"needs logits \(N, C\) and targets \(N,\) with N > 0"):
        fit_temperature(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))


def test_the_reliability_diagram_has_a_bar_per_filled_bin_and_the_ece_in_its_title():
    logits, labels = calibrated_samples(num_samples=2000)
    bins = reliability_bins(torch.softmax(logits, dim=-1), labels)
    figure = plot_reliability_diagram(bins, title="validation")
    [ax] = figure.axes
    assert ax.get_title() == f"validation · ECE {bins.expected_calibration_error:.1%}"
    assert len(ax.patches) == 2 * int((bins.count > 0).sum())  # accuracy bar and gap bar per filled bin


def binary_logits(margins):
    """Logits ``(N, 2)`` whose actual label is 1 for every sample, ``margins`` ``(N,)`` its lead
    over label 0: a negative margin is a mistake."""
    return torch.stack([torch.zeros_like(margins), margins], dim=1), torch.ones(len(margins), dtype=torch.long)


class FixedLogits(torch.nn.Module):
    """A stand-in for a classifier whose logits for "image" ``i`` are row ``i`` of a table (its
    batches carry indices as images), with the temperature buffer ``calibrate_model`` sets."""

    def __init__(self, logits):
        super().__init__()
        self.table = torch.nn.Parameter(logits)  # model_logits finds the device from the parameters
        self.register_buffer("temperature", torch.tensor(1.0))

    def forward(self, image):
        return {"logits": self.table[image]}

    def set_temperature(self, temperature):
        self.temperature.fill_(temperature)


def test_each_half_is_scaled_with_the_temperature_fitted_on_the_other_half():
    generator = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(400, 4, generator=generator)
    targets = torch.multinomial(torch.softmax(logits / 3, dim=-1), 1, generator=generator).squeeze(1)
    temperatures, fitted = out_of_sample_temperatures(logits, targets, seed=0)
    first, second = cross_fitting_halves(400, seed=0)
    assert torch.equal(torch.sort(torch.cat([first, second])).values, torch.arange(400)) and len(first) == 200
    assert fitted == [fit_temperature(logits[second], targets[second]), fit_temperature(logits[first], targets[first])]
    assert torch.all(temperatures[first] == fitted[0]) and torch.all(temperatures[second] == fitted[1])
    assert all(abs(t - 3) < 0.6 for t in fitted)  # the logits are 3 × calibrated ones


def test_over_confident_logits_with_many_mistakes_get_their_temperature_applied():
    logits, labels = calibrated_samples(num_samples=5000)
    choice = choose_temperature(2.5 * logits, labels)
    assert choice.applied and min(choice.mistakes_per_half) > 500  # about a third of them wrong
    assert choice.temperature == choice.fitted == pytest.approx(2.5, rel=0.05)
    assert choice.out_of_sample_nll_after < 0.8 * choice.out_of_sample_nll_before


@pytest.mark.parametrize("mistakes, why", [
    (0, "the 100 validation images hold no mistake, and with none the NLL falls as T falls to 0"),
    (1, "the 100 validation images hold 1 mistake (1 and 0 in the two halves), and a temperature fitted on a half "
        "without a mistake cannot be judged on the other"),
])
def test_a_single_mistake_or_none_leaves_the_temperature_at_one_and_the_log_says_why(mistakes, why, caplog):
    margins = torch.full((100,), 4.0)
    margins[cross_fitting_halves(100)[0][:mistakes]] = -2.0
    logits, labels = binary_logits(margins)
    model = FixedLogits(logits)
    with caplog.at_level(logging.INFO, logger="allencv_lite.interpret.calibration"):
        metrics = calibrate_model(model, [{"image": torch.arange(100), "label": labels}])
    assert float(model.temperature) == metrics["temperature"] == 1.0 and metrics["temperature_applied"] is False
    assert fit_temperature(logits, labels) < 0.8  # an unguarded fit would have sharpened them
    assert caplog.messages == [f"Temperature scaling not applied (T stays 1): {why}. More validation images, with "
                               f"mistakes among them, would help; \"calibrate\": false in the trainer block "
                               f"silences this line."]
    assert metrics["out_of_sample_nll_after"] is None
    assert metrics["validation_nll_after"] == metrics["validation_nll_before"]


def test_a_temperature_that_raises_the_nll_of_the_half_it_was_not_fitted_on_is_not_applied():
    margins = torch.full((100,), 4.0)
    first, second = cross_fitting_halves(100)
    margins[first[0]], margins[second[0]] = -0.2, -6.0  # a mistake in each half: a near miss, a confident one
    choice = choose_temperature(*binary_logits(margins))
    assert not choice.applied and choice.temperature == 1.0 and choice.mistakes_per_half == (1, 1)
    assert choice.out_of_sample_nll_after > choice.out_of_sample_nll_before
    assert choice.reason == (f"T = {choice.fitted:.3f} did not help on images it was not fitted on (2-fold "
                             f"cross-fitted NLL {choice.out_of_sample_nll_after:.4f}, at T = 1 "
                             f"{choice.out_of_sample_nll_before:.4f})")


def test_training_fits_a_temperature_that_helps_out_of_sample_and_archives_it(digits_archive):
    metrics = json.loads((digits_archive.parent / "metrics.json").read_text())
    model = load_archive(digits_archive).model
    assert float(model.temperature) == pytest.approx(metrics["temperature"]) and metrics["temperature"] != 1.0
    assert metrics["temperature_applied"] is True and min(metrics["validation_mistakes_per_half"]) > 0
    assert metrics["out_of_sample_nll_after"] < metrics["out_of_sample_nll_before"]
    assert metrics["validation_nll_after"] <= metrics["validation_nll_before"]


def test_calibrate_false_in_the_trainer_block_leaves_the_temperature_at_one(digits_dir, tmp_path):
    from allencv_lite.training.from_config import train_model

    config = json.loads(json.dumps(DIGITS_CONFIG).replace("DIGITS", str(digits_dir)))
    config["trainer"]["calibrate"] = False
    model = train_model(config, tmp_path / "run")
    assert float(model.temperature) == 1.0
    assert float(load_archive(tmp_path / "run").model.temperature) == 1.0
    assert "temperature" not in json.loads((tmp_path / "run" / "metrics.json").read_text())


def test_an_archive_written_before_temperature_scaling_loads_with_temperature_one(digits_archive, tmp_path):
    with tarfile.open(digits_archive, "r:gz") as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}
    weights = torch.load(io.BytesIO(members["weights.th"]), weights_only=True)
    del weights["temperature"]  # as the archives of earlier versions hold them
    members["weights.th"] = io.BytesIO()
    torch.save(weights, members["weights.th"])
    members["weights.th"] = members["weights.th"].getvalue()
    old = tmp_path / "old.tar.gz"
    with tarfile.open(old, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    model = load_archive(old).model
    assert float(model.temperature) == 1.0
    probs = model(image=torch.zeros(1, 3, 16, 16))["probs"]
    assert torch.allclose(probs, torch.softmax(model(image=torch.zeros(1, 3, 16, 16))["logits"], dim=-1))


DIGITS_CONFIG = {
    "dataset_reader": {"type": "image_classification_directory",
                       "augmentation": [{"type": "resize", "height": 8, "width": 8}]},
    "train_data_path": "DIGITS/train",
    "validation_data_path": "DIGITS/val",
    "model": {"type": "basic_image_classifier",
              "im2vec_encoder": {"type": "flatten", "input_channels": 3, "input_height": 8, "input_width": 8}},
    "iterator": {"type": "basic", "batch_size": 64},
    "trainer": {"num_epochs": 1, "cuda_device": -1, "optimizer": {"type": "sgd", "lr": 0.01}},
}
