"""User images become network input: layout, scaling, inversion, channels, size."""

from __future__ import annotations

import numpy as np
import pytest

from cnnspec.engine.train.images import prepare_image
from cnnspec.engine.train.normalize import Standardize
from cnnspec.errors import DataError


def test_an_8bit_grey_image_is_scaled_and_resized() -> None:
    image = np.zeros((4, 4), dtype=np.uint8)
    image[1:3, 1:3] = 255
    out = prepare_image(image, (1, 8, 8))
    assert out.x.shape == (1, 8, 8) and out.x.dtype == np.float32
    assert out.x.max() == pytest.approx(1.0) and out.x.min() == 0.0
    assert out.steps == ("read 4x4x1", "divided by 255", "resized to 8x8 (bilinear)")
    assert not out.light_background


def test_dark_ink_on_white_is_noticed_and_inverted() -> None:
    image = np.ones((8, 8), dtype=np.float32)
    image[2:6, 3:5] = 0.0
    plain = prepare_image(image, (1, 8, 8))
    assert plain.light_background
    inverted = prepare_image(image, (1, 8, 8), invert=True)
    assert not inverted.light_background
    assert inverted.x[0, 3, 3] == 1.0 and inverted.x[0, 0, 0] == 0.0


def test_colour_with_alpha_becomes_grey_by_luma_then_standardised() -> None:
    rgba = np.zeros((2, 2, 4), dtype=np.float32)
    rgba[..., 0] = 1.0  # pure red, alpha 0 is dropped
    out = prepare_image(rgba, (1, 2, 2), norm=Standardize((0.299,), (0.5,)))
    assert np.allclose(out.x, 0.0)
    grey_to_colour = prepare_image(np.full((2, 2), 0.5), (3, 2, 2))
    assert grey_to_colour.x.shape == (3, 2, 2) and np.allclose(grey_to_colour.x, 0.5)


def test_digits_range_is_scaled_by_its_maximum() -> None:
    out = prepare_image(np.array([[0.0, 16.0], [8.0, 4.0]]), (1, 2, 2))
    assert out.x.tolist() == [[[0.0, 1.0], [0.5, 0.25]]]


def test_bad_arrays_are_refused() -> None:
    with pytest.raises(DataError, match="neither H x W"):
        prepare_image(np.zeros((2, 2, 2, 2)), (1, 2, 2))
    with pytest.raises(DataError, match="negative"):
        prepare_image(np.full((2, 2), -1.0), (1, 2, 2))
