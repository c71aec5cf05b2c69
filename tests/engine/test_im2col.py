import numpy as np
import pytest

from cnnspec.engine.im2col import (
    as_padding,
    as_pair,
    col2im,
    conv_output_size,
    im2col,
    pad_nchw,
    sliding_windows,
)
from cnnspec.errors import EngineError


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "pad", "dilation", "expected"),
    [
        (7, 3, 1, 0, 1, 5),  # SEEDS: 7x7, 3x3, stride 1 -> 5
        (7, 3, 2, 0, 1, 3),  # stride 2 -> 3
        (7, 3, 3, 0, 1, 2),  # stride 3: 2.33 floored
        (5, 3, 1, 1, 1, 5),  # pad 1 keeps size
        (5, 3, 2, 1, 1, 3),
        (224, 11, 4, 3, 1, 55),  # AlexNet Conv:1, 55.75 floored
        (7, 3, 1, 0, 2, 3),  # dilation 2: effective kernel 5
    ],
)
def test_conv_output_size(size, kernel, stride, pad, dilation, expected):
    assert conv_output_size(size, kernel, stride, pad, pad, dilation) == expected


def test_as_pair_and_padding_normalise():
    assert as_pair(3, "k") == (3, 3)
    assert as_pair((2, 5), "k") == (2, 5)
    assert as_padding(1) == (1, 1, 1, 1)
    assert as_padding((1, 2)) == (1, 1, 2, 2)
    assert as_padding((0, 1, 2, 3)) == (0, 1, 2, 3)


@pytest.mark.parametrize("bad", [0, (1, 2, 3), (1.5, 2)])
def test_as_pair_rejects(bad):
    with pytest.raises(EngineError, match="stride"):
        as_pair(bad, "stride")


@pytest.mark.parametrize("bad", [-1, (1, 2, 3), (0, 0, 0, -2)])
def test_as_padding_rejects(bad):
    with pytest.raises(EngineError, match="padding"):
        as_padding(bad)


def test_pad_nchw_constant_value():
    x = np.arange(4.0).reshape(1, 1, 2, 2)
    xp = pad_nchw(x, (1, 0, 0, 2), value=-7.0)
    expected = np.array([[-7, -7, -7, -7], [0, 1, -7, -7], [2, 3, -7, -7]], dtype=float)
    np.testing.assert_array_equal(xp[0, 0], expected)
    assert pad_nchw(x, (0, 0, 0, 0)) is x


def test_im2col_layout_by_hand():
    # 1 image, 1 channel, 3x3, kernel 2x2, stride 1 -> 4 windows of 4 values.
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    cols = im2col(x, (2, 2))
    # rows (i, j) = (0,0), (0,1), (1,0), (1,1); columns = windows in row-major order
    expected = np.array([[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]], dtype=float)
    np.testing.assert_array_equal(cols, expected)
    assert cols.flags.c_contiguous


def test_im2col_stride_dilation_padding_by_hand():
    x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    # kernel 1x2 dilated by 2 -> taps at columns (c, c+2); stride (2, 1); pad left 1 with 9
    cols = im2col(x, (1, 2), stride=(2, 1), padding=(0, 0, 1, 0), dilation=(1, 2), pad_value=9.0)
    # out_h = (4 - 1)//2 + 1 = 2 rows (0, 2); out_w = (5 - 3)//1 + 1 = 3
    row0 = [9, 1, 2, 9, 9, 10]  # padded rows 0 and 2: [9,1,2,3,4] and [9,9,10,11,12]
    np.testing.assert_array_equal(cols[0], row0)
    np.testing.assert_array_equal(cols[1], [2, 3, 4, 10, 11, 12])


def test_col2im_is_the_adjoint_of_im2col(rng):
    # <im2col(x), c> == <x, col2im(c)> for every x, c: the defining property of backward.
    x = rng.standard_normal((2, 3, 7, 6))
    settings = dict(stride=(2, 1), padding=(1, 2, 0, 1), dilation=(1, 2))
    cols = im2col(x, (3, 2), **settings)
    c = rng.standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * col2im(c, x.shape, (3, 2), **settings))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_sliding_windows_refuses_to_read_out_of_bounds():
    xp = np.zeros((1, 1, 4, 4))
    with pytest.raises(EngineError, match="past the padded input"):
        sliding_windows(xp, (3, 3), (1, 1), (1, 1), 3, 2)


def test_im2col_too_small_input():
    with pytest.raises(EngineError, match="too small"):
        im2col(np.zeros((1, 1, 2, 2)), (3, 3))
