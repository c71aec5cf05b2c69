import numpy as np
import pytest

from cnnspec.engine.data import make_dataset
from cnnspec.engine.data.match import check_input, match_input
from cnnspec.errors import DataError


def fake(shape_chw, n=4, name="mnist", source="/data/mnist"):
    rng = np.random.default_rng(0)
    x = rng.random((n, *shape_chw)).astype(np.float32)
    y = np.arange(n, dtype=np.int64) % 2
    return make_dataset(name, source, x, y, x[:2].copy(), y[:2].copy(), ("a", "b"))


def test_matching_shapes_pass_through():
    ds = fake((1, 28, 28))
    assert match_input(ds, (28, 28, 1)) is ds
    check_input(ds, (784,))  # a flat input of H * W * C


def test_size_mismatch_names_both_shapes_and_suggests_resize():
    with pytest.raises(DataError) as info:
        match_input(fake((1, 28, 28)), (32, 32, 1))
    err = info.value
    assert err.message == ("data set 'mnist' has 28x28x1 (grey) images but the network's input "
                           "is 32x32x1 (grey)")
    assert err.hint.startswith("pass --resize to resize 28x28 -> 32x32 (bilinear)")
    assert "or set the spec's input to 28x28x1" in err.hint
    assert str(err.loc) == "/data/mnist"


def test_channel_mismatch_suggests_resize():
    with pytest.raises(DataError, match=r"32x32x1 \(grey\) images but the network's input is "
                                        r"32x32x3 \(colour\)") as info:
        match_input(fake((1, 32, 32)), (32, 32, 3))
    assert "pass --resize to copy the grey plane to R, G, B" in info.value.hint
    with pytest.raises(DataError) as info:
        match_input(fake((3, 32, 32), name="cifar10"), (28, 28, 1), method="area")
    assert info.value.hint.startswith("pass --resize to resize 32x32 -> 28x28 (area) and convert "
                                      "colour to grey")


def test_resize_fits_size_and_channels():
    ds = fake((1, 28, 28))
    fitted = match_input(ds, (32, 32, 3), resize=True)
    assert fitted.x_train.shape == (4, 3, 32, 32) and fitted.x_test.shape == (2, 3, 32, 32)
    assert fitted.x_train.dtype == np.float32
    np.testing.assert_array_equal(fitted.y_train, ds.y_train)
    assert fitted.notes[-1] == "fitted 28x28x1 -> 32x32x3 (bilinear)"
    padded = match_input(ds, (32, 32, 1), resize=True, method="pad")
    np.testing.assert_array_equal(padded.x_train[:, :, 2:30, 2:30], ds.x_train)
    grey = match_input(fake((3, 8, 8)), (4, 4, 1), resize=True, method="area")
    assert grey.image_shape == (4, 4, 1)


def test_unfixable_mismatches():
    with pytest.raises(DataError, match="only grey \\(1\\) <-> colour \\(3\\)"):
        match_input(fake((2, 8, 8)), (8, 8, 3), resize=True)
    with pytest.raises(DataError, match="network's input is 100") as info:
        match_input(fake((1, 8, 8)), (100,), resize=True)
    assert info.value.hint == "set the spec's input to 8x8x1"
