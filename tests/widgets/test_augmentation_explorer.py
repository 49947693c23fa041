"""AugmentationExplorer: the sliders make the config, the config makes the pictures."""
import json

import numpy as np

from allencv_lite.data.dataset_readers.image_classification_directory import ImageClassificationDirectoryReader
from allencv_lite.widgets import AugmentationExplorer


def test_nothing_ticked_gives_an_empty_config_and_unchanged_samples(gradient_image, decode_png):
    explorer = AugmentationExplorer(gradient_image, num_samples=3)
    assert explorer.config == []
    assert explorer.config_json == "[]"
    for sample in explorer.samples:
        np.testing.assert_array_equal(decode_png(sample.value), gradient_image)


def test_original_is_shown_beside_the_requested_number_of_samples(gradient_image, decode_png):
    explorer = AugmentationExplorer(gradient_image, num_samples=5)
    np.testing.assert_array_equal(decode_png(explorer.original.value), gradient_image)
    assert len(explorer.samples) == 5


def test_flip_with_p_one_mirrors_every_sample(gradient_image, decode_png):
    explorer = AugmentationExplorer(gradient_image, num_samples=4)
    explorer.rows["flip"].enabled.value = True
    explorer.rows["flip"].probability.value = 1.0
    assert explorer.config == [{"type": "flip", "p": 1.0}]
    for sample in explorer.samples:
        np.testing.assert_array_equal(decode_png(sample.value), gradient_image[:, ::-1])


def test_sliders_write_their_values_into_the_json_config(gradient_image):
    explorer = AugmentationExplorer(gradient_image)
    rotate = explorer.rows["rotate"]
    rotate.enabled.value = True
    rotate.arguments["limit"].value = 45
    rotate.probability.value = 0.3
    dropout = explorer.rows["coarse_dropout"]
    dropout.enabled.value = True
    dropout.arguments["num_holes_range"].value = (2, 6)
    expected = [{"type": "rotate", "limit": 45, "p": 0.3},
                {"type": "coarse_dropout", "num_holes_range": [2, 6], "hole_height_range": [0.1, 0.2],
                 "hole_width_range": [0.1, 0.2], "p": 0.5}]
    assert explorer.config == expected
    assert json.loads(explorer.config_json) == expected
    assert '"limit": 45' in explorer.config_text.value


def test_sliders_show_only_once_their_transform_is_ticked(gradient_image):
    explorer = AugmentationExplorer(gradient_image)
    row = explorer.rows["random_brightness_contrast"]
    assert row.sliders.layout.display == "none"
    assert row.sliders.children == (row.probability, row.arguments["brightness_limit"], row.arguments["contrast_limit"])
    row.enabled.value = True
    assert row.sliders.layout.display is None


def test_the_shown_config_builds_a_dataset_reader(gradient_image):
    explorer = AugmentationExplorer(gradient_image)
    for name in ("flip", "affine", "hue_saturation_value"):
        explorer.rows[name].enabled.value = True
    reader = ImageClassificationDirectoryReader.from_params({"augmentation": json.loads(explorer.config_json)},
                                                            "dataset_reader")
    assert [type(t).__name__ for t in reader.transforms] == ["HorizontalFlip", "Affine", "HueSaturationValue",
                                                             "Normalize"]


def test_new_samples_button_draws_different_rotations(gradient_image, decode_png):
    explorer = AugmentationExplorer(gradient_image, num_samples=2, seed=7)
    explorer.rows["rotate"].enabled.value = True
    explorer.rows["rotate"].probability.value = 1.0
    before = [decode_png(sample.value) for sample in explorer.samples]
    explorer.new_samples.click()
    after = [decode_png(sample.value) for sample in explorer.samples]
    assert explorer.seed == 8
    assert not np.array_equal(before[0], after[0])


def test_same_seed_draws_the_same_samples(gradient_image):
    first, second = (AugmentationExplorer(gradient_image, seed=3) for _ in range(2))
    for explorer in (first, second):
        explorer.rows["rotate"].enabled.value = True
    assert [s.value for s in first.samples] == [s.value for s in second.samples]


def test_accepts_an_image_file_path(tmp_path, gradient_png, gradient_image, decode_png):
    path = tmp_path / "picture.png"
    path.write_bytes(gradient_png)
    explorer = AugmentationExplorer(str(path))
    np.testing.assert_array_equal(decode_png(explorer.original.value), gradient_image)


def test_thumbnails_are_shrunk_to_the_display_size(gradient_image, decode_png):
    explorer = AugmentationExplorer(gradient_image, thumbnail_size=45)
    assert decode_png(explorer.original.value).shape == (30, 45, 3)
    assert decode_png(explorer.samples[0].value).shape == (30, 45, 3)


def test_text_repr_names_the_config(gradient_image):
    explorer = AugmentationExplorer(gradient_image)
    explorer.rows["to_gray"].enabled.value = True
    assert repr(explorer) == "AugmentationExplorer(config=[{'type': 'to_gray', 'p': 0.5}])"
