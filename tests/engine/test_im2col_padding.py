"""im2col of a padded input without a padded copy, and the engine's allocator setting."""

from __future__ import annotations

import numpy as np
import pytest

from cnnspec.engine import functional as F
from cnnspec.engine.allocator import keep_freed_memory
from cnnspec.engine.im2col import col2im, col2im_wide, im2col, inside_range


@pytest.mark.parametrize("n_out,size,stride,offset,expected", [
    (5, 5, 1, -1, (1, 5)),   # top pad 1, tap 0: the first output row reads padding
    (5, 5, 1, 1, (0, 4)),    # tap 2: the last output row reads padding
    (3, 5, 2, -2, (1, 3)),   # stride 2, pad 2: row 0 reads -2
    (3, 5, 2, -3, (2, 3)),   # -3, -1 outside; 1 inside
    (4, 2, 1, 5, (0, 0)),    # every position outside
    (2, 4, 3, 0, (0, 2)),
])
def test_inside_range(n_out, size, stride, offset, expected) -> None:
    assert inside_range(n_out, size, stride, offset) == expected
    inside = [o for o in range(n_out) if 0 <= o * stride + offset < size]  # by brute force
    assert expected == ((inside[0], inside[-1] + 1) if inside else (expected[0], expected[0]))


GEOMETRIES = [  # kernel, stride, padding (top, bottom, left, right), dilation, pad value
    ((3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 0.0),
    ((5, 5), (1, 1), (0, 0, 0, 0), (1, 1), 0.0),
    ((3, 2), (2, 1), (2, 0, 1, 3), (1, 2), -1.5),
    ((7, 7), (2, 2), (3, 3, 3, 3), (1, 1), 0.0),
    ((1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 0.0),
    # stride 1, output the input's size: the whole-map shifted copies
    ((3, 3), (1, 1), (0, 2, 2, 0), (1, 1), 0.5),
    ((3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 0.0),
    ((5, 3), (1, 1), (2, 2, 1, 1), (1, 1), -1.5),
    ((11, 11), (1, 1), (5, 5, 5, 5), (1, 1), 0.0),  # shifts past the whole 9x8 map
    # unpadded stride 1: column bands, then whole runs of rows
    ((3, 2), (1, 1), (0, 0, 0, 0), (2, 3), 0.0),
    ((9, 8), (1, 1), (0, 0, 0, 0), (1, 1), 0.0),  # the kernel is the whole map
]


@pytest.mark.parametrize("kernel,stride,padding,dilation,pad_value", GEOMETRIES)
@pytest.mark.parametrize("channels_outer", [False, True])
def test_im2col_equals_the_columns_of_an_explicitly_padded_input(
    kernel, stride, padding, dilation, pad_value, channels_outer
) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6, 9, 8)).astype(np.float32)
    if channels_outer:  # a convolution's output order, (C, N, H, W) memory
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    cols = im2col(x, kernel, stride, padding, dilation, pad_value)
    xp = np.pad(x, ((0, 0), (0, 0), padding[:2], padding[2:]), constant_values=pad_value)
    assert np.array_equal(cols, im2col(xp, kernel, stride, (0, 0, 0, 0), dilation))
    # a spent buffer is refilled, padding included
    reused = im2col(x, kernel, stride, padding, dilation, pad_value,
                    out=np.full_like(cols, np.nan))
    assert np.array_equal(reused, cols)


@pytest.mark.parametrize("shape,kernel,stride,padding,dilation", [
    ((8, 8), (7, 7), (2, 2), (3, 3, 3, 3), (1, 1)),  # ResNet's first conv, scaled down
    ((8, 6), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),  # its downsampling 3x3 convs
    ((6, 9), (3, 3), (2, 3), (1, 0, 1, 1), (1, 1)),
    ((12, 12), (5, 5), (3, 3), (2, 2, 2, 2), (1, 1)),
    ((4, 4), (3, 3), (2, 2), (2, 2, 2, 2), (2, 2)),
    ((2, 2), (7, 7), (2, 2), (3, 3, 3, 3), (1, 1)),  # every shift past the 1x1 phases
])
@pytest.mark.parametrize("channels_outer", [False, True])
def test_im2col_of_a_strided_conv_by_input_phases(shape, kernel, stride, padding, dilation,
                                                  channels_outer) -> None:
    """Output = input / stride: each offset reads one phase x[:, :, a::sh, b::sw], shifted."""
    from cnnspec.engine.im2col import conv_output_size
    from cnnspec.engine.map_shifts import tiles_input

    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4, *shape))
    if channels_outer:
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    out_size = tuple(conv_output_size(shape[a], kernel[a], stride[a], padding[2 * a],
                                      padding[2 * a + 1], dilation[a]) for a in (0, 1))
    assert tiles_input(x.shape, out_size, stride)
    for pad_value in (0.0, -2.5):
        xp = np.pad(x, ((0, 0), (0, 0), padding[:2], padding[2:]), constant_values=pad_value)
        assert np.array_equal(im2col(x, kernel, stride, padding, dilation, pad_value),
                              im2col(xp, kernel, stride, (0, 0, 0, 0), dilation))


@pytest.mark.parametrize("kernel,stride,padding,dilation,pad_value", GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(kernel, stride, padding, dilation, pad_value) -> None:
    """<im2col(x), c> == <x, col2im(c)> for zero-padded columns, in float64."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 9, 8))
    cols = im2col(x, kernel, stride, padding, dilation)
    c = rng.standard_normal(cols.shape)
    back = col2im(c, x.shape, kernel, stride, padding, dilation)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.vdot(cols, c), np.vdot(x, back), rtol=1e-12)
    # allowed to overwrite its columns (a backward pass's scratch), the same sum
    scratch = col2im(c.copy(), x.shape, kernel, stride, padding, dilation, scratch=True)
    np.testing.assert_allclose(scratch, back, rtol=1e-12, atol=1e-12)
    assert abs(scratch.strides[1]) > abs(scratch.strides[0])  # (C, N, H, W) memory, as before


def test_padded_strided_conv_matches_the_loop() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 7, 7))
    w = rng.standard_normal((5, 4, 3, 3))
    b = rng.standard_normal(5)
    dout = rng.standard_normal((3, 5, 4, 4))
    out, cache = F.conv2d_forward(x, w, b, stride=2, padding=(2, 1, 1, 2))
    dx, dw, db = F.conv2d_backward(dout, cache)
    ref, ref_cache = F.conv2d_forward_naive(x, w, b, stride=2, padding=(2, 1, 1, 2))
    rdx, rdw, rdb = F.conv2d_backward_naive(dout, ref_cache)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, rdx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, rdw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, rdb, rtol=1e-12, atol=1e-12)


def test_keep_freed_memory_is_set_once_and_can_be_refused(monkeypatch) -> None:
    from cnnspec.engine import allocator

    monkeypatch.setattr(allocator, "_state", {})
    monkeypatch.setenv("CNNSPEC_KEEP_MEMORY", "0")
    assert keep_freed_memory() is False
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(allocator, "_state", {})
    monkeypatch.setenv("CNNSPEC_KEEP_MEMORY", "1")
    monkeypatch.setattr(allocator, "_mallopt", lambda p, v: calls.append((p, v)) or True)
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True  # once per process
    assert calls == [(allocator.M_TRIM_THRESHOLD, allocator.KEEP_BYTES),
                     (allocator.M_MMAP_THRESHOLD, allocator.KEEP_BYTES)]


@pytest.mark.parametrize("kernel,padding,dilation", [
    ((3, 3), (1, 1, 1, 1), (1, 1)),
    ((5, 5), (0, 0, 0, 0), (1, 1)),   # LeNet's second convolution
    ((3, 2), (2, 0, 1, 3), (2, 2)),
    ((1, 1), (0, 0, 0, 0), (1, 1)),
])
def test_col2im_wide_equals_col2im(kernel, padding, dilation) -> None:
    rng = np.random.default_rng(5)
    x_shape = (3, 4, 9, 8)
    cols = im2col(np.zeros(x_shape), kernel, (1, 1), padding, dilation)
    c = rng.standard_normal(cols.shape)
    n, _, out_h, out_w = 3, 4, *_out_size(x_shape, kernel, padding, dilation)
    wp = x_shape[3] + padding[2] + padding[3]
    wide = np.zeros((c.shape[0], n, out_h, wp))
    wide[..., :out_w] = c.reshape(-1, n, out_h, out_w)
    np.testing.assert_allclose(col2im_wide(wide.reshape(c.shape[0], -1), x_shape, kernel,
                                           padding, dilation),
                               col2im(c, x_shape, kernel, (1, 1), padding, dilation),
                               rtol=1e-12, atol=1e-12)


def _out_size(x_shape, kernel, padding, dilation) -> tuple[int, int]:
    from cnnspec.engine.im2col import conv_output_size

    return (conv_output_size(x_shape[2], kernel[0], 1, padding[0], padding[1], dilation[0]),
            conv_output_size(x_shape[3], kernel[1], 1, padding[2], padding[3], dilation[1]))


@pytest.mark.parametrize("wide_limit", [32 * 2**20, 0])
@pytest.mark.parametrize("padding,dilation", [((1, 1, 1, 1), 1), ((2, 0, 1, 3), 2), (0, 1)])
def test_stride_one_conv_with_more_filters_than_channels_matches_the_loop(
        padding, dilation, wide_limit, monkeypatch) -> None:
    """F > C at stride 1: dx through the padded-width column gradient, or (over its size
    limit, or when the output keeps the input's size and col2im adds whole maps) through
    plain col2im."""
    from cnnspec.engine.functional import conv

    monkeypatch.setattr(conv, "WIDE_COLUMNS_BYTES", wide_limit)
    calls: list[int] = []
    wide = conv._dx_on_padded_width
    monkeypatch.setattr(conv, "_dx_on_padded_width", lambda *a: calls.append(1) or wide(*a))
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((5, 3, 3, 3))
    out, cache = F.conv2d_forward(x, w, None, padding=padding, dilation=dilation)
    dout = rng.standard_normal(out.shape)
    dx, dw, _ = F.conv2d_backward(dout, cache)
    _, ref_cache = F.conv2d_forward_naive(x, w, None, padding=padding, dilation=dilation)
    rdx, rdw, _ = F.conv2d_backward_naive(dout, ref_cache)
    np.testing.assert_allclose(dx, rdx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, rdw, rtol=1e-12, atol=1e-12)
    pad4 = (padding,) * 4 if isinstance(padding, int) else padding
    same_size = _out_size(x.shape, (3, 3), pad4, (dilation, dilation)) == x.shape[2:]
    assert len(calls) == (1 if wide_limit and not same_size else 0)
