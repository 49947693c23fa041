"""Augmentation from configs: names, errors with key paths, normalizing once, boxes/masks/keypoints."""
import inspect

import albumentations
import numpy as np
import pytest
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.augmentation import Augmentation, snake_case
from allencv_lite.data.dataset_readers import DatasetReader, ImageDatasetReader

WHITE_RED_CHANNEL = (1.0 - 0.485) / 0.229  # ImageNet normalization of pixel value 255


def reader_with(*augmentation, **options):
    return DatasetReader.from_params({"type": "image_classification_directory", "augmentation": list(augmentation),
                                      **options}, "dataset_reader")


def test_every_albumentations_transform_is_registered_under_its_snake_case_name():
    transforms = [cls for name, cls in vars(albumentations).items()
                  if inspect.isclass(cls) and issubclass(cls, albumentations.BasicTransform)
                  and cls not in (albumentations.BasicTransform, albumentations.DualTransform,
                                  albumentations.ImageOnlyTransform)]
    assert len(transforms) > 100
    for cls in transforms:
        expected = albumentations.HorizontalFlip if snake_case(cls.__name__) == "flip" else cls
        assert Augmentation.by_name(snake_case(cls.__name__)) is expected


@pytest.mark.parametrize("name, cls", [("flip", albumentations.HorizontalFlip), ("resize", albumentations.Resize),
                                       ("normalize", albumentations.Normalize),
                                       ("channel_shuffle", albumentations.ChannelShuffle),
                                       ("random_brightness_contrast", albumentations.RandomBrightnessContrast),
                                       ("clahe", albumentations.CLAHE)])
def test_short_and_snake_case_names_build_albumentations_transforms(name, cls):
    size = {"height": 8, "width": 8} if name == "resize" else {}
    assert type(Augmentation.from_params({"type": name, **size}, "augmentation[0]")) is cls


def test_the_seed_config_block_builds_verbatim():
    reader = reader_with({"type": "resize", "height": 512, "width": 512},
                         {"type": "normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
                         {"type": "flip", "p": 0.5}, {"type": "channel_shuffle", "p": 0.5}, lazy=True)
    assert [type(t).__name__ for t in reader.transforms] == ["Resize", "Normalize", "HorizontalFlip", "ChannelShuffle"]
    image = reader.image_to_tensor(np.zeros((30, 40, 3), dtype=np.uint8))
    assert image.shape == (3, 512, 512) and image.dtype == torch.float32


def test_compositions_take_a_nested_list_of_transforms():
    one_of = Augmentation.from_params({"type": "one_of", "p": 1.0, "transforms": [{"type": "blur"}, {"type": "sharpen"}]})
    assert [type(t).__name__ for t in one_of.transforms] == ["Blur", "Sharpen"]


@pytest.mark.parametrize("block, message", [
    ({"type": "resize", "height": -5, "width": 3},
     "dataset_reader.augmentation[1]: 1 validation error for InitSchema\nheight\n  Input should be greater"),
    ({"type": "resize", "height": 5, "width": 3, "heigth": 5},
     "dataset_reader.augmentation[1]: unexpected key(s) ['heigth'] for Resize. Did you mean 'height'?"),
    ({"type": "rotate", "limt": 15},
     "dataset_reader.augmentation[1]: unexpected key(s) ['limt'] for Rotate. Did you mean 'limit'? Accepted keys: "
     "['limit', "),
    ({"type": "random_brightnes_contrast"},
     "dataset_reader.augmentation[1].type: 'random_brightnes_contrast' is not a registered Augmentation. "
     "Did you mean 'random_brightness_contrast'?"),
    ({"type": "one_of", "transforms": [{"type": "blur", "blur_limit": "big"}]},
     "dataset_reader.augmentation[1].transforms[0]: "),
    ({"type": "one_of", "transforms": [3]},
     "dataset_reader.augmentation[1].transforms[0]: expected a config block for Augmentation, got 3"),
    ({"type": "one_of", "transforms": [{"type": "flip", "pp": 1}]},
     "dataset_reader.augmentation[1].transforms[0]: unexpected key(s) ['pp'] for HorizontalFlip. Did you mean 'p'?"),
])
def test_parameter_errors_name_the_config_path(block, message):
    with pytest.raises(ConfigurationError) as error:
        reader_with({"type": "flip"}, block)
    assert str(error.value).startswith(message)


def test_a_config_without_normalize_gets_imagenet_normalization():
    reader = reader_with({"type": "flip", "p": 0.0})
    image = reader.image_to_tensor(np.full((2, 2, 3), 255, dtype=np.uint8))
    assert image[0, 0, 0].item() == pytest.approx(WHITE_RED_CHANNEL, abs=1e-4)


def test_a_float_image_is_divided_by_255_only_once():
    reader = reader_with({"type": "normalize"})
    as_float = reader.image_to_tensor(np.ones((2, 2, 3), dtype=np.float32))
    as_uint8 = reader.image_to_tensor(np.full((2, 2, 3), 255, dtype=np.uint8))
    assert torch.equal(as_float, as_uint8)
    with pytest.raises(ValueError, match="must hold values in 0-1, got 255..255"):
        reader.image_to_tensor(np.full((2, 2, 3), 255.0, dtype=np.float32))


def test_normalizing_twice_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match=r"'normalize' appears 2 times \(at \[0, 2\]\)"):
        reader_with({"type": "normalize"}, {"type": "flip"}, {"type": "normalize"})


def test_to_tensor_in_a_config_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match=r"augmentation\[1\]: remove 'to_tensor_v2'; the reader adds it"):
        reader_with({"type": "flip"}, {"type": "to_tensor_v2"})


@pytest.mark.parametrize("bbox_format, box, flipped", [
    ("pascal_voc", (10, 5, 30, 25), (70, 5, 90, 25)),  # (x_min, y_min, x_max, y_max) in a 100-pixel-wide image
    ("coco", (10, 5, 20, 20), (70, 5, 20, 20)),  # (x_min, y_min, width, height)
])
def test_horizontal_flip_moves_a_box(bbox_format, box, flipped):
    reader = ImageDatasetReader(augmentation=[albumentations.HorizontalFlip(p=1.0)], bbox_format=bbox_format)
    result = reader.augment(np.zeros((50, 100, 3), dtype=np.uint8), boxes=[box])
    assert result["boxes"].tolist() == [pytest.approx(flipped, abs=1e-3)]
    assert result["image"].shape == (3, 50, 100)


def test_a_box_keeps_its_extra_columns_such_as_a_class_id():
    reader = ImageDatasetReader(augmentation=[albumentations.HorizontalFlip(p=1.0)])
    result = reader.augment(np.zeros((50, 100, 3), dtype=np.uint8), boxes=[(10, 5, 30, 25, 7)])
    assert result["boxes"].tolist() == [pytest.approx((70, 5, 90, 25, 7), abs=1e-3)]


def test_resize_scales_a_mask_with_nearest_neighbour():
    mask = np.array([[0, 1], [2, 3]], dtype=np.uint8)
    reader = ImageDatasetReader(augmentation=[albumentations.Resize(height=4, width=4)])
    result = reader.augment(np.zeros((2, 2, 3), dtype=np.uint8), masks=[mask])
    assert result["masks"][0].tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]


def test_keypoints_follow_a_resize():
    reader = ImageDatasetReader(augmentation=[albumentations.Resize(height=100, width=200)])
    result = reader.augment(np.zeros((50, 50, 3), dtype=np.uint8), keypoints=[(10, 20)])
    assert result["keypoints"].tolist() == [pytest.approx((40, 40))]


def test_first_resize_lets_jpegs_be_decoded_at_reduced_size():
    assert reader_with({"type": "resize", "height": 64, "width": 96}).pipeline.draft_size == (96, 64)
    assert reader_with({"type": "smallest_max_size", "max_size": 80}).pipeline.draft_size == (80, 80)
    assert reader_with({"type": "flip"}, {"type": "resize", "height": 64, "width": 96}).pipeline.draft_size is None


def test_unknown_box_format_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match=r"bbox_format: 'yolo' is not one of \['pascal_voc', 'coco'\]"):
        ImageDatasetReader(bbox_format="yolo")


def test_a_misspelt_transform_gets_the_closest_names_and_the_call_that_lists_all_of_them():
    with pytest.raises(ConfigurationError) as error:
        reader_with({"type": "rotat", "limit": 15})
    assert str(error.value) == (
        "dataset_reader.augmentation[0].type: 'rotat' is not a registered Augmentation. Did you mean 'rotate'? "
        f"Other close names: safe_rotate. All {len(Augmentation.list_available())} names: "
        "allencv_lite.data.augmentation.Augmentation.list_available(). "
        "If it lives in your own package, pass --include-package to import it.")
