"""The batch normalization the loader applies: albumentations' ``Normalize``, once per batch."""
import albumentations
import numpy as np
import torch

from allencv_lite.data.augmentation import IMAGENET_MEAN, IMAGENET_STD
from allencv_lite.data.normalization import PixelNormalization


def test_every_pixel_value_is_normalized_as_albumentations_normalize_does():
    every_value = np.stack([np.arange(256, dtype=np.uint8).reshape(16, 16)] * 3, axis=-1)  # (16, 16, 3)
    expected = albumentations.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD)(image=every_value)["image"]
    batch = torch.from_numpy(every_value).permute(2, 0, 1)[None]  # (1, 3, 16, 16) uint8
    normalized = PixelNormalization(IMAGENET_MEAN, IMAGENET_STD)(batch)
    assert normalized.dtype == torch.float32 and normalized.shape == (1, 3, 16, 16)
    assert np.abs(normalized[0].permute(1, 2, 0).numpy() - expected).max() < 3e-7


def test_pixels_already_on_the_0_to_1_scale_use_max_pixel_value_1():
    normalized = PixelNormalization(0.5, 0.25, max_pixel_value=1.0)(torch.tensor([[[0.0, 0.5, 1.0]]]))
    assert normalized.tolist() == [[[-2.0, 0.0, 2.0]]]
