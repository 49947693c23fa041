"""LP-FT: the classification layer fitted as a logistic regression before fine-tuning."""
import json

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.training.from_config import build_trainer, train_model
from allencv_lite.training.linear_probe import fit_linear_probe, fit_logistic_regression
from tests.helpers.digits_config import tiny_digits_config


def test_logistic_regression_matches_scikit_learn():
    # mean CE + λ/2 ||W||² is scikit-learn's 1/2 ||W||² + C Σ CE divided by C·N: λ = 1 / (C·N).
    generator = np.random.default_rng(0)
    features = generator.normal(size=(300, 5)) + np.repeat(np.eye(3, 5) * 2, 100, axis=0)
    labels = np.repeat(np.arange(3), 100)
    reference = LogisticRegression(C=0.5, max_iter=5000, tol=1e-10).fit(features, labels)
    layer = fit_logistic_regression(torch.tensor(features, dtype=torch.float64), torch.tensor(labels), 3,
                                    l2_strength=1 / (0.5 * 300))
    # softmax is unchanged by adding a constant to every class's score: compare centred weights and biases
    ours = layer.weight.detach().numpy()
    assert np.allclose(ours - ours.mean(0), reference.coef_ - reference.coef_.mean(0), atol=1e-3)
    bias = layer.bias.detach().numpy()
    assert np.allclose(bias - bias.mean(), reference.intercept_ - reference.intercept_.mean(), atol=1e-3)


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
    assert len(trainer.history) == 2
    assert not [record for record in caplog.records if record.message.startswith("Linear probe on ")]


def test_a_model_without_a_linear_head_is_refused():
    class NoHead(torch.nn.Module):
        pass

    with pytest.raises(ConfigurationError, match="linear_probe_first"):
        fit_linear_probe(NoHead(), [], None, torch.device("cpu"))
