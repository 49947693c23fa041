"""What a pipeline does to sizes and pixel scale is checked before training, and per image."""
import numpy as np
import pytest

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.augmentation_checks import size_problem
from allencv_lite.data.dataset_readers import DatasetReader, ImageDatasetReader
from allencv_lite.data.image_loading import UnreadableImageError
from allencv_lite.data.vocabulary import Vocabulary
from tests.helpers.image_files import RED, write_image

RESIZE_16 = {"type": "resize", "height": 16, "width": 16}


def reader_with(*augmentation, **options) -> ImageDatasetReader:
    return DatasetReader.from_params({"type": "image_classification_directory", "augmentation": list(augmentation),
                                      **options}, "dataset_reader")


def random_sizes(count: int = 20) -> list:
    rng = np.random.default_rng(0)
    return [np.zeros((int(rng.integers(20, 60)), int(rng.integers(20, 60)), 3), np.uint8) for _ in range(count)]


@pytest.mark.parametrize("container", ["sequential", "one_of", "some_of", "random_order"])
def test_a_resize_nested_without_p_applies_to_every_image(container):
    reader = reader_with({"type": "sequential", "transforms": [{"type": container, "transforms": [RESIZE_16]}]})
    assert {tuple(reader.image_to_tensor(image).shape) for image in random_sizes()} == {(3, 16, 16)}
    assert reader.output_size == (16, 16)


@pytest.mark.parametrize("augmentation, step", [
    ([{**RESIZE_16, "p": 0.5}], r"augmentation\[0\] \('resize'\): it is applied with probability 0.5"),
    ([{"type": "sequential", "p": 0.5, "transforms": [RESIZE_16]}], r"augmentation\[0\] \('sequential'\)"),
    ([{"type": "flip"}, {"type": "one_of", "transforms": [RESIZE_16, {"type": "resize", "height": 32, "width": 32}]}],
     r"augmentation\[1\] \('one_of'\): its transforms give different sizes \(16x16, 32x32\)"),
    ([RESIZE_16, {"type": "random_scale", "scale_limit": 0.2}], r"augmentation\[1\] \('random_scale'\)"),
    ([{"type": "sequential", "transforms": [RESIZE_16, {"type": "random_rotate90"}]}, {"type": "resize", "height": 16,
                                                                                        "width": 32}, {"type": "d4"}],
     r"augmentation\[2\] \('d4'\): it turns images by 90 degrees"),
])
def test_a_step_that_gives_one_batch_mixed_sizes_is_a_configuration_error_naming_it(augmentation, step):
    with pytest.raises(ConfigurationError, match=step + r".*different sizes and could not be stacked"):
        reader_with(*augmentation)


@pytest.mark.parametrize("augmentation", [
    [{"type": "random_scale", "scale_limit": 0.2}, {"type": "random_crop", "height": 16, "width": 16,
                                                    "pad_if_needed": True}],
    [{"type": "one_of", "transforms": [RESIZE_16, {"type": "random_resized_crop", "size": [16, 16]}]}],
    [RESIZE_16, {"type": "resize", "height": 16, "width": 16, "p": 0.5}, {"type": "random_rotate90"}],
    [{"type": "flip"}, {"type": "blur", "p": 0.3}],  # each image keeps its own size: fine for the pipeline
])
def test_random_steps_that_end_in_one_size_are_accepted(augmentation):
    reader = reader_with(*augmentation)
    assert len({tuple(reader.image_to_tensor(image).shape) for image in random_sizes()[:5]}) == (
        1 if reader.output_size else 5)


def test_normalize_after_to_float_is_refused_with_the_fix():
    with pytest.raises(ConfigurationError, match=r"augmentation\[2\] \('normalize'\): max_pixel_value is 255, but "
                                                 r"pixels reach it as 0-1 \(augmentation\[1\] \('to_float'\) scales "
                                                 r"them to 0-1\), so normalized values would be off by 255x\. Set "
                                                 r"\"max_pixel_value\": 1"):
        reader_with(RESIZE_16, {"type": "to_float"}, {"type": "normalize"})


def test_a_max_pixel_value_of_1_on_uint8_pixels_is_refused():
    with pytest.raises(ConfigurationError, match=r"max_pixel_value is 1, but pixels reach it as 0-255 \(images are "
                                                 r"decoded as uint8 0-255\).*off by 255x"):
        reader_with({"type": "normalize", "max_pixel_value": 1})


def test_the_normalize_the_reader_adds_is_checked_too():
    with pytest.raises(ConfigurationError, match=r"augmentation\[1\] \('normalize'\) \(the ImageNet normalize the "
                                                 r"reader adds\)"):
        reader_with({"type": "sequential", "transforms": [{"type": "to_float"}]})


def test_to_float_with_a_matching_normalize_gives_the_same_values_as_normalize_alone():
    image = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    scaled = reader_with({"type": "to_float"}, {"type": "normalize", "max_pixel_value": 1}).image_to_tensor(image)
    assert np.allclose(scaled.numpy(), reader_with({"type": "normalize"}).image_to_tensor(image).numpy(), atol=1e-5)


@pytest.mark.parametrize("augmentation, smallest_ok", [
    ([{"type": "center_crop", "height": 64, "width": 64}], (64, 64)),
    ([{"type": "random_crop", "height": 32, "width": 48}], (32, 48)),
    ([{"type": "smallest_max_size", "max_size": 40}, {"type": "center_crop", "height": 48, "width": 48}], None),
    ([{"type": "flip"}, {"type": "one_of", "transforms": [{"type": "crop", "x_max": 50, "y_max": 20},
                                                       {"type": "resize", "height": 20, "width": 50}]}],
     (20, 50)),
])
def test_each_image_is_checked_against_the_crops_it_reaches(augmentation, smallest_ok):
    reader = reader_with(*augmentation)
    if smallest_ok is None:  # a 40-pixel shorter side can never give a 48x48 crop
        assert "needs at least 48x48" in size_problem(reader.transforms, 100, 200)
        return
    height, width = smallest_ok
    assert size_problem(reader.transforms, height, width) is None
    assert size_problem(reader.transforms, height + 50, width + 50) is None
    assert f"needs at least {width}x{height}" in size_problem(reader.transforms, height - 1, width)
    assert f"needs at least {width}x{height}" in size_problem(reader.transforms, height, width - 1)


def test_crops_that_pad_or_follow_a_resize_accept_any_image():
    for augmentation in ([{"type": "center_crop", "height": 64, "width": 64, "pad_if_needed": True}],
                         [{"type": "pad_if_needed", "min_height": 64, "min_width": 64},
                          {"type": "random_crop", "height": 64, "width": 64}],
                         [{"type": "resize", "height": 70, "width": 70}, {"type": "center_crop", "height": 64,
                                                                            "width": 64}]):
        reader = reader_with(*augmentation)
        assert reader.image_to_tensor(np.zeros((30, 40, 3), np.uint8)).shape == (3, 64, 64)


@pytest.mark.parametrize("lazy", [False, True])
def test_an_image_smaller_than_a_crop_is_skipped_naming_the_file_and_the_fix(tmp_path, skip_warnings, lazy):
    write_image(tmp_path / "Cat" / "big.png", size=(80, 70), color=RED)
    small = write_image(tmp_path / "Cat" / "small.png", size=(40, 30), color=RED)
    dataset = reader_with({"type": "center_crop", "height": 64, "width": 64}, lazy=lazy).read(tmp_path)
    dataset.index_with(Vocabulary.from_labels(["Cat", "Dog"]))
    instances = [dataset[i] for i in range(len(dataset))]
    assert [tuple(i["image"].shape) for i in instances if isinstance(i, dict)] == [(3, 64, 64)]
    assert dataset.skipped == {"smaller than a crop": 1}
    assert skip_warnings() == [f"Skipping {small}: smaller than a crop (40x30 pixels (width x height) when it reaches "
                               "augmentation[0] ('center_crop'), which needs at least 64x64; put a resize before "
                               "the crop, or give the crop \"pad_if_needed\": true)"]


def test_augmenting_an_array_smaller_than_a_crop_raises_the_skip_error_not_albumentations():
    reader = reader_with({"type": "center_crop", "height": 64, "width": 64})
    with pytest.raises(UnreadableImageError, match=r"<image>: smaller than a crop \(40x30 pixels"):
        reader.image_to_tensor(np.zeros((30, 40, 3), np.uint8))
