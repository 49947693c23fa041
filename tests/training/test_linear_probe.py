"""LP-FT: the classification layer fitted as a logistic regression before fine-tuning, and judged like an epoch."""
import csv
import json

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.models.archival import load_archive
from allencv_lite.training.from_config import build_trainer, train_model
from allencv_lite.training.linear_probe import (CROSS_VALIDATION_FOLDS, L2_STRENGTHS, fit_linear_probe,
                                                fit_logistic_regression)
from tests.helpers.digits_config import tiny_digits_config


def overlapping_classes(num_labels: int, per_label: int = 60) -> tuple:
    generator = np.random.default_rng(0)
    features = generator.normal(size=(num_labels * per_label, 6)) + np.repeat(np.eye(num_labels, 6), per_label, axis=0)
    return features, np.repeat(np.arange(num_labels), per_label)


def names(num_labels: int) -> list:
    return ["cat", "dog", "fox"][:num_labels]


@pytest.mark.parametrize("num_labels", [2, 3])
def test_the_probe_layer_gives_scikit_learns_probabilities(num_labels):
    features, labels = overlapping_classes(num_labels)
    weight, bias, probe = fit_logistic_regression(features, labels, names(num_labels))
    images_per_fit = len(labels) * (CROSS_VALIDATION_FOLDS - 1) / CROSS_VALIDATION_FOLDS
    reference = LogisticRegression(C=1 / (probe.l2_strength * images_per_fit), max_iter=2000).fit(features, labels)
    ours = torch.softmax(torch.from_numpy(features @ weight.T + bias), dim=-1).numpy()
    assert weight.shape == (num_labels, 6) and bias.shape == (num_labels,)
    assert np.allclose(ours, reference.predict_proba(features), atol=2e-3)  # both stop at L-BFGS tolerance 1e-4


def test_the_l2_strength_is_the_one_with_the_lowest_cross_validated_loss():
    features, labels = overlapping_classes(2)
    images_per_fit = len(labels) * (CROSS_VALIDATION_FOLDS - 1) / CROSS_VALIDATION_FOLDS
    losses = [-cross_val_score(LogisticRegression(C=1 / (l2 * images_per_fit), max_iter=2000), features, labels,
                               cv=StratifiedKFold(CROSS_VALIDATION_FOLDS), scoring="neg_log_loss").mean()
              for l2 in L2_STRENGTHS]
    _, _, probe = fit_logistic_regression(features, labels, names(2))
    assert probe.l2_strength == L2_STRENGTHS[int(np.argmin(losses))]
    assert probe.cross_validated_loss == pytest.approx(min(losses), rel=1e-4)
    assert probe.num_images == 120


def test_each_label_with_fewer_images_than_folds_is_named_with_its_count():
    features, labels = overlapping_classes(3, per_label=6)
    keep = np.r_[0:4, 6:12, 12:15]  # cat 4, dog 6, fox 3
    with pytest.raises(ConfigurationError, match=r"needs at least 5 of them .*; 'cat' has 4, 'fox' has 3\. Add images"):
        fit_logistic_regression(features[keep], labels[keep], names(3))


def test_a_label_with_no_training_image_is_named():
    features, labels = overlapping_classes(2, per_label=6)
    with pytest.raises(ConfigurationError, match=r"'fox' has 0\."):
        fit_logistic_regression(features, labels, names(3))


def test_probe_before_the_first_epoch_gives_a_trained_head(digits_dir, tmp_path):
    # A learning rate of ~0 leaves the weights as the probe set them: epoch 1's validation accuracy is the probe's.
    untrained = tiny_digits_config(digits_dir, num_epochs=1, optimizer={"type": "adam", "lr": 1e-12}, calibrate=False)
    train_model(untrained, tmp_path / "random_head")
    probed = tiny_digits_config(digits_dir, num_epochs=1, optimizer={"type": "adam", "lr": 1e-12}, calibrate=False,
                                linear_probe_first=True)
    train_model(probed, tmp_path / "probed")
    random_head = json.loads((tmp_path / "random_head" / "metrics.json").read_text())["validation_accuracy"]
    probe = json.loads((tmp_path / "probed" / "metrics.json").read_text())["validation_accuracy"]
    assert random_head < 0.3 and probe > 0.85


def test_an_epoch_worse_than_the_probe_does_not_replace_it(digits_dir, tmp_path, caplog):
    # A learning rate of 50 wrecks the probed head in one epoch; the probe's weights are the ones kept.
    config = tiny_digits_config(digits_dir, num_epochs=1, optimizer={"type": "sgd", "lr": 50.0}, calibrate=False,
                                linear_probe_first=True)
    with caplog.at_level("INFO"):
        train_model(config, tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["best_epoch"] == -1 and metrics["best_validation_accuracy"] > 0.85
    assert metrics["validation_accuracy"] < metrics["best_validation_accuracy"] - 0.1  # the last epoch's
    assert any(record.message.startswith("epoch 0/1 (linear probe) · validation ") for record in caplog.records)
    assert any(record.message.startswith("kept epoch 0 of 1 (the linear probe): validation accuracy ")
               for record in caplog.records)
    with open(tmp_path / "metrics.csv") as table:
        rows = list(csv.DictReader(table))
    assert [row["epoch"] for row in rows] == ["-1", "0"] and rows[0]["training_loss"] == ""
    assert not (tmp_path / "metrics_epoch_-1.json").exists()
    model = load_archive(tmp_path / "model.tar.gz").model
    kept = torch.load(tmp_path / "best.th")["_classification_layer.weight"]
    assert torch.equal(model._classification_layer.weight, kept)


def test_zero_epochs_is_the_probe_alone(digits_dir, tmp_path, caplog):
    config = tiny_digits_config(digits_dir, num_epochs=0, linear_probe_first=True, calibrate=False)
    del config["trainer"]["learning_rate_scheduler"]
    with caplog.at_level("INFO"):
        train_model(config, tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epoch"] == metrics["best_epoch"] == -1 and metrics["best_validation_accuracy"] > 0.85
    assert any(record.message.startswith("kept the linear probe (no epoch trained): validation accuracy ")
               for record in caplog.records)
    assert (tmp_path / "model.tar.gz").exists()


def test_recover_of_a_probe_alone_says_there_is_no_epoch_to_train_and_names_the_probe(digits_dir, tmp_path, caplog):
    config = tiny_digits_config(digits_dir, num_epochs=0, linear_probe_first=True, calibrate=False)
    del config["trainer"]["learning_rate_scheduler"]
    train_model(config, tmp_path)
    archived = (tmp_path / "model.tar.gz").read_bytes()
    caplog.clear()
    with caplog.at_level("INFO"):
        train_model(config, tmp_path, recover=True)
    messages = [record.message for record in caplog.records]
    assert any("is complete (it is the linear probe alone, with no epoch to train); nothing was trained" in message
               for message in messages)
    assert any(message.startswith("kept the linear probe (no epoch trained): ") for message in messages)
    assert not any(message.startswith("Linear probe on ") for message in messages)
    assert (tmp_path / "model.tar.gz").read_bytes() == archived


@pytest.mark.parametrize("probe, validation", [(False, True), (True, False)])
def test_zero_epochs_needs_a_probe_and_validation_data(digits_dir, tmp_path, probe, validation):
    config = tiny_digits_config(digits_dir, num_epochs=0, linear_probe_first=probe)
    del config["trainer"]["learning_rate_scheduler"]
    if not validation:
        del config["validation_data_path"]
    with pytest.raises(ConfigurationError, match="num_epochs: must be at least 1, got 0; 0 trains only the linear"):
        build_trainer(config, tmp_path)


def test_only_a_fresh_run_is_probed_not_a_resumed_one(digits_dir, tmp_path, caplog):
    config = tiny_digits_config(digits_dir, num_epochs=1, linear_probe_first=True)
    with caplog.at_level("INFO", logger="allencv_lite.training.linear_probe"):
        train_model(config, tmp_path)
    assert [record for record in caplog.records if record.message.startswith("Linear probe on ")]
    caplog.clear()
    config["trainer"]["num_epochs"] = 2  # one more epoch, from the checkpoint of the first
    trainer, _, _ = build_trainer(config, tmp_path)
    with caplog.at_level("INFO", logger="allencv_lite.training.linear_probe"):
        trainer.train()
    assert [metrics["epoch"] for metrics in trainer.history] == [-1, 0, 1]  # the probe's record survives the resume
    assert not [record for record in caplog.records if record.message.startswith("Linear probe on ")]


def test_a_model_without_a_linear_head_is_refused():
    class NoHead(torch.nn.Module):
        pass

    with pytest.raises(ConfigurationError, match="linear_probe_first"):
        fit_linear_probe(NoHead(), [], torch.device("cpu"))
