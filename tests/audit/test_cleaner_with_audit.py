"""The DatasetCleaner and plot_top_losses given an audit: out-of-sample ranking, the suggested
label, and the nearest training images that explain it."""
import json

import io

import numpy as np
import pytest
import torch
from PIL import Image

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.interpret.interpretation import ClassificationInterpretation
from allencv_lite.widgets import DatasetCleaner


def test_the_cleaner_ranks_by_the_out_of_sample_label_quality_lowest_first(planted_report, tmp_path):
    cleaner = DatasetCleaner(planted_report, planted_report.root / "train", cleaning_file=tmp_path / "cleaning.json")
    train = planted_report.images[planted_report.images.split == "train"]
    assert [item.key for item in cleaner.items] == [path[len("train/"):] for path in train.sort_values("score").path]
    assert "Ranked out of sample" in cleaner.ranking.value


def test_a_tile_shows_the_suggested_label_and_three_nearest_training_images(planted_report, tmp_path):
    cleaner = DatasetCleaner(planted_report, planted_report.root / "train", cleaning_file=tmp_path / "cleaning.json",
                             num_images=4)
    tile = cleaner.tiles[0]
    assert tile.item.key == "Stripes/flipped.jpg"
    assert "label <b>Stripes</b> · suggested <b>Dots</b>" in tile.caption.value
    assert f"label quality {tile.item.score:.2f}" in tile.caption.value
    assert [near.label for near in tile.item.neighbours] == ["Dots", "Dots", "Dots"]
    assert len(tile.neighbour_images) == 3 and "nearest training images: Dots, Dots, Dots" in tile.children[2].value
    tile.action.value = "relabel:Dots"
    assert json.loads((tmp_path / "cleaning.json").read_text()) == {"Stripes/flipped.jpg": "relabel:Dots"}


def test_the_saved_picture_shows_the_neighbour_strips_at_a_readable_size(planted_report, tmp_path):
    cleaner = DatasetCleaner(planted_report, planted_report.root / "train", cleaning_file=tmp_path / "cleaning.json",
                             num_images=4, ncols=2)
    mime_type, data = cleaner.picture()
    picture = np.asarray(Image.open(io.BytesIO(data)))
    assert mime_type == "image/jpeg" and picture.shape == (760, 520, 3)  # 260-pixel tiles with their strips


def test_heatmaps_need_a_model(planted_report, tmp_path):
    with pytest.raises(ConfigurationError, match="heatmap=True needs a model"):
        DatasetCleaner(planted_report, planted_report.root / "train", cleaning_file=tmp_path / "c.json", heatmap=True)


def test_plot_top_losses_given_an_audit_draws_its_worst_label_issues(planted_report):
    in_sample = ClassificationInterpretation(labels=["Dots", "Stripes"], paths=["unused.jpg"],
                                             logits=torch.zeros(1, 2), targets=torch.zeros(1, dtype=torch.long))
    figure = in_sample.plot_top_losses(k=2, ncols=2, audit=planted_report)
    titles = [axes.get_title() for axes in figure.axes]
    worst = planted_report.label_issues.iloc[0]
    assert titles[:2] == [f"flipped.jpg: labelled Stripes\nlooks like Dots (score {worst.score:.2f})",
                          "nearest training images: Dots, Dots, Dots"]
