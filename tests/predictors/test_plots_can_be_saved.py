"""Every plot helper returns an open figure, so ``figure.savefig`` and ``pyplot.savefig`` both write
the picture (a closed figure left ``pyplot.savefig`` with a new, blank one), and long label names
on a confusion matrix never overlap."""
import math

import numpy as np
import pytest
import torch
from matplotlib import pyplot
from PIL import Image

from allencv_lite.data.dataset_readers.image_classification_directory import ImageClassificationDirectoryReader
from allencv_lite.data.summaries import plot_samples
from allencv_lite.interpret.interpretation import ClassificationInterpretation
from allencv_lite.training.learning_rate_schedulers import plan_learning_rates
from allencv_lite.training.lr_finder import LearningRateFinderResult
from allencv_lite.training.optimizers import REGEXES_KEY

LONG_LABELS = ["Maine Coon", "Russian Blue", "British Shorthair", "Norwegian Forest Cat", "Sphynx", "Abyssinian",
               "Scottish Fold"]


def interpretation(tmp_path, labels):
    paths = []
    for index in range(2 * len(labels)):
        path = tmp_path / f"image{index}.png"
        Image.fromarray(np.full((12, 12, 3), 17 * index % 255, dtype=np.uint8)).save(path)
        paths.append(str(path))
    targets = torch.arange(2 * len(labels)) % len(labels)
    logits = torch.randn(len(paths), len(labels), generator=torch.Generator().manual_seed(0))
    return ClassificationInterpretation(labels, paths, logits, targets)


def finder_result():
    rates = [10 ** (-5 + 4 * step / 29) for step in range(30)]
    losses = [2.3 - 1.5 * math.sin(math.pi * step / 35) for step in range(30)]
    return LearningRateFinderResult(rates, losses, losses, {"valley": rates[10]}, None, None, [1.0], 1e-5, 0.1, 30,
                                    suggestion_steps={"valley": 10})


def plan():
    optimizer = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], REGEXES_KEY: [regex]}
                                 for regex in ("^body", "^head")], lr=0.1)
    block = {"type": "slanted_triangular", "gradual_unfreezing": True, "discriminative_fine_tuning": True}
    return plan_learning_rates(block, optimizer, num_epochs=2, num_steps_per_epoch=5)


def digits_dataset(digits_dir):
    return ImageClassificationDirectoryReader().read(digits_dir / "val")


HELPERS = {
    "confusion matrix": lambda tmp_path, digits_dir: interpretation(tmp_path, ["Cat", "Dog"]).plot_confusion_matrix(),
    "top losses": lambda tmp_path, digits_dir: interpretation(tmp_path, ["Cat", "Dog"]).plot_top_losses(k=4),
    "samples": lambda tmp_path, digits_dir: plot_samples(digits_dataset(digits_dir), num_images=4),
    "learning-rate plan": lambda tmp_path, digits_dir: plan().plot(),
    "finder": lambda tmp_path, digits_dir: finder_result().plot(),
}


@pytest.mark.parametrize("helper", HELPERS)
def test_savefig_after_the_helper_writes_the_picture_not_a_blank_one(helper, tmp_path, digits_dir):
    figure = HELPERS[helper](tmp_path, digits_dir)
    pyplot.savefig(tmp_path / "pyplot.png")  # the current figure: the helper's, while it is open
    figure.savefig(tmp_path / "figure.png")
    pyplot.close(figure)
    for saved in ("pyplot.png", "figure.png"):
        pixels = np.asarray(Image.open(tmp_path / saved).convert("L"), dtype=float)
        assert pixels.var() > 100, f"{saved} is blank (variance {pixels.var():.1f})"


def test_long_multi_word_labels_of_a_confusion_matrix_do_not_overlap(tmp_path):
    figure = interpretation(tmp_path, LONG_LABELS).plot_confusion_matrix()
    figure.canvas.draw()
    axes = figure.axes[0]
    renderer = figure.canvas.get_renderer()
    for ticks in (axes.get_xticklabels(), axes.get_yticklabels()):
        boxes = [label.get_window_extent(renderer) for label in ticks]
        assert len(boxes) == len(LONG_LABELS)
        overlapping = [(LONG_LABELS[i], LONG_LABELS[j]) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
                       if boxes[i].overlaps(boxes[j])]
        assert overlapping == []
    pyplot.close(figure)
