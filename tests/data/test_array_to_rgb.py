"""One rule from an image array to RGB, for the predictor and the widgets."""
import numpy as np
import pytest

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.image_loading import array_to_rgb
from allencv_lite.widgets.image_encoding import as_rgb_array


def test_grayscale_is_repeated_into_three_channels_by_both():
    gray = np.array([[0, 128], [255, 7]], dtype=np.uint8)
    assert array_to_rgb(gray).shape == (2, 2, 3)
    assert all((array_to_rgb(gray)[..., channel] == gray).all() for channel in range(3))
    assert np.array_equal(as_rgb_array(gray), array_to_rgb(gray))


@pytest.mark.parametrize("bad, message", [(np.zeros((2, 2, 3), dtype=np.float32), "must be uint8 \\(0-255\\)"),
                                          (np.zeros((2, 2, 4), dtype=np.uint8), r"must have shape \(height, width, 3\)")])
def test_other_arrays_are_refused_with_the_same_words_by_both(bad, message):
    for rule in (array_to_rgb, as_rgb_array):
        with pytest.raises(ConfigurationError, match=message):
            rule(bad)
