import numpy as np
import pytest

from cnnspec.engine.data.resize import (
    ResizeMethod,
    convert_channels,
    parse_method,
    resize_images,
    resize_matrix,
)
from cnnspec.errors import DataError


def test_bilinear_doubling_by_hand():
    # in=2, out=4: sample points (o + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 -> clamped
    # 0, 0.25, 0.75, 1: rows [1, 0], [.75, .25], [.25, .75], [0, 1]
    np.testing.assert_allclose(resize_matrix(2, 4, ResizeMethod.BILINEAR),
                               [[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]])
    x = np.array([[0.0, 4.0], [8.0, 12.0]], dtype=np.float32)[None, None]  # (1, 1, 2, 2)
    out = resize_images(x, (4, 4))
    np.testing.assert_allclose(out[0, 0, 0], [0, 1, 3, 4])
    np.testing.assert_allclose(out[0, 0, :, 0], [0, 2, 6, 8])


def test_nearest_area_and_pad_by_hand():
    np.testing.assert_array_equal(resize_matrix(4, 2, ResizeMethod.NEAREST),
                                  [[1, 0, 0, 0], [0, 0, 1, 0]])
    np.testing.assert_allclose(resize_matrix(3, 2, ResizeMethod.AREA),  # rows 0..1 and 1..2
                               [[0.5, 0.5, 0], [0, 0.5, 0.5]])
    # 28 -> 32: LeNet-5's zero border of 2 pixels on each side
    pad = resize_matrix(28, 32, ResizeMethod.PAD)
    assert pad[:2].sum() == 0 and pad[-2:].sum() == 0
    np.testing.assert_array_equal(pad[2:30], np.eye(28))
    # 32 -> 28 crops the centre
    np.testing.assert_array_equal(resize_matrix(32, 28, ResizeMethod.PAD), np.eye(32)[2:30])


def test_pad_places_mnist_digit_in_the_centre(rng):
    x = rng.random((3, 1, 28, 28)).astype(np.float32)
    out = resize_images(x, (32, 32), "pad")
    assert out.shape == (3, 1, 32, 32)
    np.testing.assert_array_equal(out[:, :, 2:30, 2:30], x)
    assert out[:, :, :2].sum() == 0 and out[:, :, :, 30:].sum() == 0


@pytest.mark.parametrize("method", list(ResizeMethod))
def test_constant_images_stay_constant_and_in_range(method, rng):
    x = np.full((2, 3, 7, 9), 0.625, dtype=np.float32)
    out = resize_images(x, (12, 5), method)
    assert out.shape == (2, 3, 12, 5) and out.dtype == np.float32
    inner = out if method is not ResizeMethod.PAD else out[:, :, 2:9, :]
    np.testing.assert_allclose(inner, 0.625, rtol=1e-6)
    y = resize_images(rng.random((4, 1, 8, 8)).astype(np.float32), (32, 32), method)
    assert y.min() >= 0.0 and y.max() <= 1.0


def test_same_size_is_untouched(rng):
    x = rng.random((2, 1, 5, 5)).astype(np.float32)
    assert resize_images(x, (5, 5)) is x


def test_chunking_gives_the_same_result(rng, monkeypatch):
    import cnnspec.engine.data.resize as resize_module

    x = rng.random((10, 2, 6, 6)).astype(np.float32)
    whole = resize_images(x, (9, 4))
    monkeypatch.setattr(resize_module, "CHUNK", 3)
    np.testing.assert_array_equal(resize_images(x, (9, 4)), whole)


@pytest.mark.parametrize("method, size", [
    ("bilinear", (32, 32)), ("bilinear", (5, 11)), ("nearest", (32, 32)), ("nearest", (6, 5)),
    ("area", (4, 4)), ("area", (5, 3)),
])
def test_matches_torch_interpolate(rng, method, size):
    torch = pytest.importorskip("torch")
    x = rng.random((2, 3, 8, 10)).astype(np.float32)
    kwargs = {"align_corners": False} if method == "bilinear" else {}
    expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode=method,
                                               **kwargs).numpy()
    np.testing.assert_allclose(resize_images(x, size, method), expected, atol=1e-6)


def test_channel_conversion():
    grey = np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2) / 4
    rgb = convert_channels(grey, 3)
    assert rgb.shape == (1, 3, 2, 2)
    np.testing.assert_array_equal(rgb[:, 0], rgb[:, 2])
    colour = np.zeros((1, 3, 1, 2), dtype=np.float32)
    colour[0, :, 0, 0] = [1.0, 0.0, 0.0]  # pure red
    colour[0, :, 0, 1] = [1.0, 1.0, 1.0]  # white
    out = convert_channels(colour, 1)
    assert out.shape == (1, 1, 1, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0, 0], [0.299, 1.0], rtol=1e-6)
    assert convert_channels(grey, 1) is grey
    with pytest.raises(DataError, match="cannot convert 3-channel images to 4 channels"):
        convert_channels(colour, 4)


def test_bad_method_and_size():
    with pytest.raises(DataError, match="unknown resize method 'cubic'") as info:
        parse_method("cubic")
    assert "bilinear, nearest, area, pad" in info.value.hint
    with pytest.raises(DataError, match="cannot resize to 0x4"):
        resize_images(np.zeros((1, 1, 2, 2), np.float32), (0, 4))
