"""Dataset summaries for notebooks: class counts and a grid of sample images."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from allencv_lite.data.dataset_readers import ImageClassificationDirectoryReader  # noqa: E402
from allencv_lite.data.summaries import class_counts, plot_samples  # noqa: E402
from tests.helpers.image_files import BLUE, RED, write_truncated_jpeg  # noqa: E402


@pytest.fixture
def pets(image_folder):
    return ImageClassificationDirectoryReader(lazy=True).read(
        image_folder({"Cat/1.jpg": RED, "Cat/2.jpg": RED, "Cat/3.jpg": RED, "Dog/1.png": BLUE}))


def test_class_counts_is_a_table_of_images_and_fractions_per_label(pets):
    table = class_counts(pets)
    assert table.index.name == "label"
    assert table.to_dict() == {"count": {"Cat": 3, "Dog": 1}, "fraction": {"Cat": 0.75, "Dog": 0.25}}


def test_plot_samples_draws_each_image_with_its_label(pets):
    figure = plot_samples(pets, num_images=16, columns=3)
    drawn = [axis for axis in figure.axes if axis.images]
    assert len(figure.axes) == 6 and len(drawn) == 4
    assert sorted(axis.get_title() for axis in drawn) == ["Cat", "Cat", "Cat", "Dog"]
    assert all(axis.images[0].get_array().shape == (8, 12, 3) for axis in drawn)


def test_plot_samples_can_show_what_the_model_sees_in_natural_colours(pets):
    figure = plot_samples(pets, num_images=1, columns=1, augmented=True, seed=3)
    (axis,) = figure.axes
    shown = np.asarray(axis.images[0].get_array())
    expected = np.array(RED if axis.get_title() == "Cat" else BLUE) / 255
    assert shown[0, 0] == pytest.approx(expected, abs=0.02)


def test_plot_samples_titles_an_unreadable_image_instead_of_failing(tmp_path):
    write_truncated_jpeg(tmp_path / "Cat" / "cut.jpg")
    dataset = ImageClassificationDirectoryReader(lazy=True).read(tmp_path)
    figure = plot_samples(dataset, num_images=1, columns=1)
    assert figure.axes[0].get_title() == "Cat\n(unreadable: truncated)"
