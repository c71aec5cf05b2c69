import numpy as np
import pytest

from cnnspec.engine.data.npz import load_npz
from cnnspec.errors import DataError


def test_nhwc_uint8_with_test_part_and_classes(tmp_path, rng):
    x = rng.integers(0, 256, (12, 5, 6, 3), dtype=np.uint8)  # (N, H, W, C)
    y = np.arange(12) % 3
    x_test = rng.integers(0, 256, (4, 5, 6, 3), dtype=np.uint8)
    path = tmp_path / "shapes.npz"
    np.savez(path, x=x, y=y, x_test=x_test, y_test=np.array([0, 1, 2, 2]),
             classes=np.array(["circle", "square", "star"]))
    ds = load_npz(path)
    assert ds.name == "shapes" and ds.classes == ("circle", "square", "star")
    assert ds.x_train.shape == (12, 3, 5, 6) and ds.image_shape == (5, 6, 3)
    np.testing.assert_allclose(ds.x_train * 255, x.transpose(0, 3, 1, 2), atol=1e-4)
    np.testing.assert_array_equal(ds.y_test, [0, 1, 2, 2])
    assert ds.notes == ()


def test_grey_float_without_test_part_is_split_20_percent(tmp_path, rng):
    x = rng.random((50, 8, 8))  # (N, H, W) floats already in [0, 1]
    y = np.repeat(np.arange(5), 10)
    path = tmp_path / "grey.npz"
    np.savez_compressed(path, x=x, y=y)
    ds = load_npz(path)
    assert ds.x_train.shape == (40, 1, 8, 8) and ds.x_test.shape == (10, 1, 8, 8)
    np.testing.assert_array_equal(np.bincount(ds.y_test), [2, 2, 2, 2, 2])  # stratified
    assert ds.classes == ("0", "1", "2", "3", "4")
    assert "held out 10 of 50" in ds.notes[0]
    # the same file gives the same split
    np.testing.assert_array_equal(load_npz(path).x_test, ds.x_test)


def test_nchw_is_kept(tmp_path, rng):
    x = rng.random((6, 1, 4, 4)).astype(np.float32)
    np.savez(tmp_path / "a.npz", x=x, y=np.zeros(6, int), x_test=x[:2], y_test=np.zeros(2, int))
    np.testing.assert_array_equal(load_npz(tmp_path / "a.npz").x_train, x)


class Boom:
    def __reduce__(self):
        import os

        return (os.system, ("echo should never run",))


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    x = np.empty(2, dtype=object)
    x[0], x[1] = Boom(), Boom()
    np.savez(path, x=x, y=np.zeros(2, int))
    with pytest.raises(DataError, match="cannot read the archive") as info:
        load_npz(path)
    assert info.value.loc.source == str(path)


@pytest.mark.parametrize("arrays, message", [
    ({"x": np.zeros((3, 4, 4), np.uint8)}, r"needs arrays 'x' and 'y'; it holds x"),
    ({"x": np.zeros((3, 4, 4), np.uint8), "y": np.zeros(3, int), "x_test": np.zeros((1, 4, 4))},
     "'x_test' and 'y_test' must come together"),
    ({"x": np.zeros((3, 4), np.uint8), "y": np.zeros(3, int)}, r"'x' has shape \(3, 4\)"),
    ({"x": np.zeros((3, 4, 4), np.int32), "y": np.zeros(3, int)}, "'x' has dtype int32"),
    ({"x": np.full((3, 4, 4), np.nan), "y": np.zeros(3, int)}, "NaN or infinite"),
    ({"x": np.zeros((3, 4, 4)), "y": np.zeros(3)}, "'y' has shape \\(3,\\) and dtype float64"),
    ({"x": np.zeros((3, 4, 4)), "y": np.array([0, -1, 0])}, "negative label"),
    ({"x": np.zeros((3, 4, 4)), "y": np.zeros(2, int)}, "'x' has 3 images but 'y' has 2"),
    ({"x": np.zeros((3, 4, 4)), "y": np.array([0, 1, 2]), "x_test": np.zeros((1, 4, 4)),
      "y_test": np.array([0]), "classes": np.array(["a", "b"])}, "'classes' names 2 classes"),
    ({"x": np.zeros((3, 4, 4)), "y": np.zeros(3, int), "x_test": np.zeros((1, 5, 5)),
      "y_test": np.array([0])}, r"test images are \(1, 5, 5\)"),
])
def test_bad_archives_are_explained(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message) as info:
        load_npz(path)
    assert info.value.loc.source == str(path)


def test_not_an_archive(tmp_path):
    npy = tmp_path / "single.npz"
    with open(npy, "wb") as handle:
        np.save(handle, np.zeros(3))
    with pytest.raises(DataError, match=r"single \.npy array"):
        load_npz(npy)
    text = tmp_path / "text.npz"
    text.write_text("x,y\n1,2\n")
    with pytest.raises(DataError):
        load_npz(text)
    with pytest.raises(DataError, match="file not found"):
        load_npz(tmp_path / "absent.npz")
