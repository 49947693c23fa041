"""Accuracy against coverage: answering only above a confidence, and the threshold for an accuracy."""
import pytest
import torch

from allencv_lite.interpret.selective_classification import accuracy_at_thresholds, threshold_for_accuracy

# Five images, most confident first: right, right, wrong, right, wrong.
PROBABILITIES = torch.tensor([[0.95, 0.05], [0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
TARGETS = torch.tensor([0, 1, 1, 1, 1])


def test_each_threshold_answers_the_images_at_least_that_confident():
    rows = accuracy_at_thresholds(PROBABILITIES, TARGETS, thresholds=[0.5, 0.85, 0.99])
    assert [(row["answered"], row["coverage"], row["accuracy"]) for row in rows] == [
        (5, 1.0, pytest.approx(3 / 5)), (2, 0.4, 1.0), (0, 0.0, None)]


def test_the_threshold_for_an_accuracy_answers_as_many_images_as_reach_it():
    assert threshold_for_accuracy(PROBABILITIES, TARGETS, 0.75) == {
        "min_confidence": pytest.approx(0.7), "answered": 4, "coverage": 0.8, "accuracy": 0.75}
    assert threshold_for_accuracy(PROBABILITIES, TARGETS, 1.0)["min_confidence"] == pytest.approx(0.9)


def test_a_threshold_never_splits_images_of_equal_confidence():
    # The two 0.8 images are one right, one wrong: 100 % needs the threshold above both.
    probabilities = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.8, 0.2]])
    assert threshold_for_accuracy(probabilities, torch.tensor([0, 0, 1]), 1.0)["answered"] == 1


def test_no_threshold_reaches_an_accuracy_the_most_confident_image_misses():
    assert threshold_for_accuracy(PROBABILITIES, torch.tensor([1, 1, 1, 1, 1]), 0.9) is None
