"""Calibration: temperature scaling recovers a known temperature, the scores measure what they
say (Guo et al. 2017), and training fits the temperature unless told not to."""
import io
import json
import tarfile

import pytest
import torch
from torchmetrics.functional.classification import multiclass_calibration_error

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.interpret.calibration import (
    brier_score,
    calibration_scores,
    fit_temperature,
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


def test_training_fits_the_temperature_and_archives_it(digits_archive):
    metrics = json.loads((digits_archive.parent / "metrics.json").read_text())
    model = load_archive(digits_archive).model
    assert float(model.temperature) == pytest.approx(metrics["temperature"]) and metrics["temperature"] != 1.0
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
