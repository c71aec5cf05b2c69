import numpy as np
import pytest

from cnnspec.engine.data.digits import load_digits

pytest.importorskip("sklearn")


def test_native_digits_split_and_scaling():
    ds = load_digits()
    assert ds.name == "digits" and ds.classes == tuple("0123456789")
    assert ds.x_train.shape == (1437, 1, 8, 8) and ds.x_test.shape == (360, 1, 8, 8)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    # pixels are ink counts 0..16, scaled by 1/16: multiples of 1/16 in [0, 1]
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    np.testing.assert_array_equal(ds.x_train * 16, np.round(ds.x_train * 16))
    # stratified: 360 of 1,797 is 20.03%; every class gives 35..37 test images
    test_counts = np.bincount(ds.y_test)
    assert test_counts.sum() == 360 and test_counts.min() >= 35 and test_counts.max() <= 37
    assert np.bincount(ds.y_train).sum() == 1437


def test_split_is_fixed():
    from sklearn.datasets import load_digits as sklearn_digits

    a, b = load_digits(), load_digits()
    np.testing.assert_array_equal(a.x_test, b.x_test)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    # the 1,797 images are all there, each exactly once
    bunch = sklearn_digits()
    ours = np.concatenate([a.x_train, a.x_test]).reshape(1797, 64) * 16
    np.testing.assert_array_equal(np.sort(ours.sum(axis=1)), np.sort(bunch.data.sum(axis=1)))


def test_resized_for_lenet5():
    ds = load_digits((32, 32))
    assert ds.x_train.shape == (1437, 1, 32, 32) and ds.image_shape == (32, 32, 1)
    assert ds.x_train.min() >= 0.0 and ds.x_train.max() <= 1.0
    # bilinear x4 keeps the mean ink of each image within a few percent
    small = load_digits()
    np.testing.assert_allclose(ds.x_train.mean(axis=(1, 2, 3)), small.x_train.mean(axis=(1, 2, 3)),
                               atol=0.02)
    assert "resized 8x8 -> 32x32 (bilinear)" in ds.notes
