"""Test-time augmentation: the views, the averaged probabilities, and the predictor (``evaluate --tta``: tests/commands)."""
import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.models.archival import load_archive
from allencv_lite.predictors import Predictor
from allencv_lite.predictors.test_time_augmentation import augmented_views, check_tta


@pytest.fixture(scope="module")
def archive(digits_archive):
    return load_archive(digits_archive)


def test_each_name_adds_its_views_after_the_original_image():
    images = torch.arange(2 * 3 * 16 * 16, dtype=torch.float32).reshape(2, 3, 16, 16)
    views = augmented_views(images, ["flip", "center_crop", "corner_crops"])
    assert len(views) == 1 + 1 + 1 + 4
    assert views[0] is images
    assert torch.equal(views[1][..., 0], images[..., -1])  # the mirror image: first column = last column
    assert all(view.shape == images.shape for view in views)
    top_left, bottom_right = views[3], views[6]
    assert top_left[..., 0, 0].tolist() == images[..., 0, 0].tolist()  # the crop keeps its corner pixel
    assert bottom_right[..., -1, -1].tolist() == images[..., -1, -1].tolist()


def test_an_unknown_view_is_named_with_the_known_ones():
    with pytest.raises(ConfigurationError, match=r"tta: unknown test-time augmentation \['rotate'\]; choose from "
                                                 r"\['center_crop', 'corner_crops', 'flip'\]"):
        check_tta(["flip", "rotate"])
    with pytest.raises(ConfigurationError, match="expected a list of view names"):
        check_tta("flip")


def test_flip_averages_the_probabilities_of_the_image_and_its_mirror(archive, digits_dir):
    photo = sorted((digits_dir / "val" / "7").iterdir())[0]
    image = Image.open(photo).convert("RGB")
    plain = Predictor.from_archive(archive, "default_image")
    with_flip = Predictor.from_archive(archive, "default_image", tta=["flip"])
    original = np.array(list(plain.predict_image(image)["probabilities"].values()))
    mirrored = np.array(list(plain.predict_image(ImageOps.mirror(image))["probabilities"].values()))
    averaged = np.array(list(with_flip.predict_image(image)["probabilities"].values()))
    assert not np.allclose(original, mirrored, atol=1e-3)  # a 7 and its mirror look different to the model
    assert averaged == pytest.approx((original + mirrored) / 2, abs=1e-5)
