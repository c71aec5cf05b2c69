"""GEMM operands whose rows would alias in cache get padded rows, and every path reads them."""

from __future__ import annotations

import numpy as np
import pytest

from cnnspec.engine import functional as F
from cnnspec.engine.blas import gemm_operand, has_unit_rows, row_stride
from cnnspec.engine.im2col import col2im, im2col, pad_nchw, sliding_windows


@pytest.mark.parametrize("length,itemsize,expected", [
    (65536, 4, 65552),   # VGG's 32x32 layers at batch 64: 256 KiB rows, 64 bytes added
    (16384, 4, 16400),
    (256, 4, 272),       # exactly 1 KiB
    (3136, 4, 3136),     # 12,544 bytes: not a multiple of 1 KiB, left alone
    (255, 4, 255),
    (128, 8, 136),       # float64: 1 KiB at half the length
    (50176, 4, 50192),   # LeNet-5's first layer at batch 64 (196 KiB)
    (1, 4, 1),
])
def test_row_stride(length, itemsize, expected) -> None:
    assert row_stride(length, itemsize) == expected


def test_gemm_operand_is_a_view_with_a_leading_dimension() -> None:
    a = gemm_operand(3, 256, np.float32)
    assert a.shape == (3, 256) and a.dtype == np.float32
    assert a.strides == (272 * 4, 4)
    assert a.base is not None and a.base.shape == (3, 272)
    assert has_unit_rows(a) and not a.flags.c_contiguous
    plain = gemm_operand(3, 100, np.float64)
    assert plain.flags.c_contiguous and has_unit_rows(plain)
    # the reshapes the engine makes stay views of the same memory
    planes = a.reshape(3, 1, 4, 8, 8)
    planes[2, 0, 3] = 7.0
    assert np.all(a[2, 192:] == 7.0)


def test_has_unit_rows_refuses_other_layouts() -> None:
    c = np.zeros((4, 6), np.float32)
    assert has_unit_rows(c)
    assert not has_unit_rows(c.T)          # columns contiguous
    assert not has_unit_rows(c[:, ::2])    # rows strided
    assert not has_unit_rows(c[::-1])      # rows in reverse order
    assert not has_unit_rows(np.zeros((2, 3, 4)))


def _reference_columns(x, kernel, stride, padding, dilation, pad_value):
    """im2col by a window view of an explicitly padded copy, C-contiguous."""
    n, c = x.shape[:2]
    xp = pad_nchw(x, padding, pad_value)
    out_h = (xp.shape[2] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    out_w = (xp.shape[3] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    win = sliding_windows(xp, kernel, stride, dilation, out_h, out_w)  # (N, C, HH, WW, ., .)
    return np.ascontiguousarray(win.transpose(1, 2, 3, 0, 4, 5)).reshape(
        c * kernel[0] * kernel[1], n * out_h * out_w)


# Each geometry's column count N*out_h*out_w is a multiple of 256 (1 KiB of float32).
GEOMETRIES = [  # x shape, kernel, stride, padding, dilation, pad value
    ((4, 3, 8, 8), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 0.0),      # whole-map shifts
    ((4, 3, 16, 16), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 0.0),    # input phases
    ((4, 2, 12, 12), (5, 5), (1, 1), (0, 0, 0, 0), (1, 1), 0.0),    # column bands
    ((4, 2, 10, 8), (3, 2), (1, 1), (0, 0, 0, 1), (1, 1), -1.5),    # offset by offset
    ((4, 2, 16, 16), (1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 0.0),    # window view
]


@pytest.mark.parametrize("shape,kernel,stride,padding,dilation,pad_value", GEOMETRIES)
def test_im2col_writes_padded_rows_with_the_right_values(
        shape, kernel, stride, padding, dilation, pad_value) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(np.float32)
    cols = im2col(x, kernel, stride, padding, dilation, pad_value)
    ref = _reference_columns(x, kernel, stride, padding, dilation, pad_value)
    assert cols.shape == ref.shape and ref.shape[1] % 256 == 0
    assert cols.strides[0] == (ref.shape[1] + 16) * 4  # one cache line past 1 KiB multiples
    assert np.array_equal(cols, ref)
    # a spent padded buffer, or the first rows of a larger one, is refilled in place
    bigger = gemm_operand(ref.shape[0] + 5, ref.shape[1], np.float32)
    bigger[...] = np.nan
    again = im2col(x, kernel, stride, padding, dilation, pad_value, out=bigger[: ref.shape[0]])
    assert np.shares_memory(again, bigger) and np.array_equal(again, ref)
    assert np.isnan(bigger[ref.shape[0]:]).all()


def test_col2im_sums_padded_columns_as_the_adjoint_of_im2col() -> None:
    """<im2col(x), g> = <x, col2im(g)> with g in padded rows, on the whole-map path too."""
    rng = np.random.default_rng(3)
    for shape, kernel, stride, padding, dilation, _ in GEOMETRIES[:3]:
        x = rng.standard_normal(shape)
        g = gemm_operand(*im2col(x, kernel, stride, padding, dilation).shape, np.float64)
        g[...] = rng.standard_normal(g.shape)
        lhs = np.sum(im2col(x, kernel, stride, padding, dilation) * g)
        dx = col2im(g, shape, kernel, stride, padding, dilation, scratch=True)
        assert np.isclose(lhs, np.sum(x * dx), rtol=1e-12)


@pytest.mark.parametrize("shape,f,kernel,stride,padding", [
    ((2, 6, 8, 8), 4, (3, 3), 1, 1),    # F < C: dx as a transposed conv in the spent columns
    ((2, 6, 8, 8), 6, (3, 3), 1, 1),    # F = C: the same, in the whole buffer
    ((2, 3, 8, 8), 5, (3, 3), 1, 1),    # F > C, same size: col2im by whole maps
    ((16, 2, 12, 12), 3, (5, 5), 1, 0),  # F > C, unpadded: the padded-width column gradient
    ((2, 3, 16, 16), 4, (3, 3), 2, 1),  # stride 2: input phases, plain col2im
])
def test_conv_on_padded_columns_matches_the_loop(shape, f, kernel, stride, padding) -> None:
    """float64 columns of 128 entries per row (1 KiB) or a multiple take padded rows."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((f, shape[1], *kernel))
    b = rng.standard_normal(f)
    out, cache = F.conv2d_forward(x, w, b, stride=stride, padding=padding)
    assert not cache.cols.flags.c_contiguous  # the padded layout is what is tested here
    ref, ref_cache = F.conv2d_forward_naive(x, w, b, stride=stride, padding=padding)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(F.conv2d_backward(dout, cache),
                         F.conv2d_backward_naive(dout, ref_cache), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
