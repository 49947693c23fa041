"""Evaluation metrics, the confusion matrix and top losses (``allencv_lite.interpret.interpretation``)."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.interpret.interpretation import ClassificationInterpretation, format_metrics_table
from allencv_lite.models.archival import load_archive
from allencv_lite.predictors import Predictor

# Six images of three labels: actual a a b b c c, predicted a b b b c a.
TARGETS = torch.tensor([0, 0, 1, 1, 2, 2])
PREDICTED = torch.tensor([0, 1, 1, 1, 2, 0])


@pytest.fixture
def known(tmp_path) -> ClassificationInterpretation:
    """Logits 2.0 for the predicted label and 0 elsewhere: p(predicted) = e²/(e²+2) = 0.78699."""
    paths = []
    for i in range(6):
        path = tmp_path / f"image{i}.png"
        Image.fromarray(np.full((12, 12, 3), 40 * i, dtype=np.uint8)).save(path)
        paths.append(str(path))
    logits = torch.nn.functional.one_hot(PREDICTED, 3).float() * 2.0
    return ClassificationInterpretation(["a", "b", "c"], paths, logits, TARGETS)


def test_metrics_of_a_known_case(known):
    metrics = known.metrics()
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["num_images"] == 6
    assert metrics["per_class"]["a"] == pytest.approx({"precision": 1 / 2, "recall": 1 / 2, "f1": 1 / 2, "support": 2})
    assert metrics["per_class"]["b"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert metrics["per_class"]["c"] == pytest.approx({"precision": 1.0, "recall": 1 / 2, "f1": 2 / 3, "support": 2})
    assert metrics["macro_avg"] == pytest.approx({"precision": 13 / 18, "recall": 2 / 3, "f1": (0.5 + 0.8 + 2 / 3) / 3})
    assert metrics["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_mean_loss_is_the_cross_entropy_of_the_actual_labels(known):
    p_right, p_wrong = np.exp(2) / (np.exp(2) + 2), 1 / (np.exp(2) + 2)
    expected = -(4 * np.log(p_right) + 2 * np.log(p_wrong)) / 6
    assert known.metrics()["loss"] == pytest.approx(expected, rel=1e-6)


def test_metrics_are_json_serialisable(known):
    metrics = known.metrics()
    assert json.loads(json.dumps(metrics)) == metrics


def test_top_losses_are_the_mistakes_worst_first(known):
    worst = known.top_losses(3)
    assert [Path(w["path"]).name for w in worst] == ["image1.png", "image5.png", "image0.png"]
    assert [(w["actual"], w["predicted"]) for w in worst] == [("a", "b"), ("c", "a"), ("a", "a")]
    assert worst[0]["probability"] == pytest.approx(np.exp(2) / (np.exp(2) + 2), rel=1e-6)
    assert worst[0]["actual_probability"] == pytest.approx(1 / (np.exp(2) + 2), rel=1e-6)
    assert worst[0]["loss"] == pytest.approx(np.log(np.exp(2) + 2), rel=1e-6)


def test_confusion_matrix_plot_annotates_every_cell(known):
    figure = known.plot_confusion_matrix()
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.texts] == ["1", "1", "0", "0", "2", "0", "1", "0", "1"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted", "actual")


def test_normalized_confusion_matrix_shows_fractions_of_each_actual_label(known):
    ax = known.plot_confusion_matrix(normalize=True).axes[0]
    assert [t.get_text() for t in ax.texts] == ["0.50", "0.50", "0.00", "0.00", "1.00", "0.00", "0.50", "0.00", "0.50"]


def test_top_losses_grid_shows_each_image_with_predicted_actual_and_loss(known):
    figure = known.plot_top_losses(k=2, ncols=2)
    titled = [ax for ax in figure.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled] == ["predicted b (0.79)\nactual a, loss 2.24",
                                                 "predicted a (0.79)\nactual c, loss 2.24"]
    assert titled[0].images[0].get_array().shape == (12, 12, 3)


def test_metrics_table_lists_every_label_accuracy_and_confusion_matrix(known):
    table = format_metrics_table(known.metrics())
    lines = table.splitlines()
    assert lines[0].split() == ["label", "precision", "recall", "f1", "support"]
    assert lines[2].split() == ["b", "0.667", "1.000", "0.800", "2"]
    assert "accuracy 0.6667 on 6 images" in table
    assert lines[-4:] == ["           a  b  c",
                          "a          1  1  0",
                          "b          0  2  0",
                          "c          1  0  1"]


def test_archive_evaluation_agrees_with_the_predictor(digits_archive, digits_dir):
    archive = load_archive(digits_archive)
    interpretation = ClassificationInterpretation.from_archive(archive, digits_dir / "val", progress=False)
    metrics = interpretation.metrics()
    files = sorted((digits_dir / "val").glob("*/*.png"))
    assert metrics["num_images"] == len(files) and metrics["num_skipped"] == 0
    predictor = Predictor.from_archive(archive, "default_image")
    outputs = predictor.predict_batch_json([{"image_path": str(f)} for f in files])
    correct = sum(output["label"] == f.parent.name for f, output in zip(files, outputs))
    assert metrics["accuracy"] == pytest.approx(correct / len(files))
    assert [sum(row) for row in metrics["confusion_matrix"]] == [metrics["per_class"][str(d)]["support"]
                                                                for d in range(10)]


def test_unreadable_images_are_counted_as_skipped(digits_archive, digits_dir, tmp_path):
    for digit in ("0", "1"):
        shutil.copytree(digits_dir / "val" / digit, tmp_path / digit)
    (tmp_path / "1" / "broken.png").write_bytes(b"not a png")
    interpretation = ClassificationInterpretation.from_archive(load_archive(digits_archive), tmp_path, progress=False)
    expected = len(list((digits_dir / "val" / "0").iterdir())) + len(list((digits_dir / "val" / "1").iterdir()))
    assert (interpretation.metrics()["num_images"], interpretation.skipped) == (expected, 1)


def test_a_label_the_model_never_saw_is_refused(digits_archive, digits_dir, tmp_path):
    shutil.copytree(digits_dir / "val" / "0", tmp_path / "zero")
    with pytest.raises(ConfigurationError, match="'zero'"):
        ClassificationInterpretation.from_archive(load_archive(digits_archive), tmp_path, progress=False)


def test_top_losses_with_heatmap_draws_the_grad_cam_of_the_predicted_label_over_each_image(digits_archive, digits_dir):
    from allencv_lite.data.image_loading import read_image
    from allencv_lite.interpret.grad_cam import explain, overlay_heatmap

    archive = load_archive(digits_archive)
    interpretation = ClassificationInterpretation.from_archive(archive, digits_dir / "val", progress=False)
    figure = interpretation.plot_top_losses(k=2, ncols=2, heatmap=True)
    worst = interpretation.top_losses(2)
    reader = archive.dataset_reader
    for ax, sample in zip(figure.axes, worst):
        tensor = reader.image_to_tensor(reader.load_image(sample["path"]))
        expected = overlay_heatmap(read_image(sample["path"]),
                                   explain(archive.model, tensor, label=interpretation.labels.index(sample["predicted"])))
        np.testing.assert_array_equal(ax.images[0].get_array(), expected)
        assert ax.get_title().startswith(f"predicted {sample['predicted']} ")


def test_top_losses_heatmap_needs_the_model(known):
    with pytest.raises(ConfigurationError, match=r"heatmap=True\) needs the model"):
        known.plot_top_losses(k=2, heatmap=True)
