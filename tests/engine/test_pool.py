import numpy as np
import pytest

from cnnspec.engine.functional.global_pool import (
    adaptive_avg_pool2d_backward,
    adaptive_avg_pool2d_forward,
    adaptive_avg_pool2d_forward_naive,
    global_avg_pool_backward,
    global_avg_pool_forward,
)
from cnnspec.engine.functional.pool import (
    avg_pool2d_backward,
    avg_pool2d_backward_naive,
    avg_pool2d_forward,
    avg_pool2d_forward_naive,
    max_pool2d_backward,
    max_pool2d_backward_naive,
    max_pool2d_forward,
    max_pool2d_forward_naive,
)
from cnnspec.errors import EngineError

from .helpers import assert_grads_match, spaced_values

X4 = np.array([[1, 3, 2, 1], [4, 6, 5, 0], [7, 2, 9, 8], [1, 0, 3, 4]], dtype=np.float32).reshape(
    1, 1, 4, 4
)


def test_max_pool_2x2_by_hand():
    out, cache = max_pool2d_forward(X4, 2)
    np.testing.assert_array_equal(out[0, 0], [[6, 5], [7, 9]])
    dx = max_pool2d_backward(np.array([[[[10, 20], [30, 40]]]], np.float32), cache)
    expected = np.zeros((4, 4), np.float32)
    expected[1, 1], expected[1, 2], expected[2, 0], expected[2, 2] = 10, 20, 30, 40
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_avg_pool_2x2_by_hand():
    out, cache = avg_pool2d_forward(X4, 2)
    np.testing.assert_array_equal(out[0, 0], [[14 / 4, 8 / 4], [10 / 4, 24 / 4]])
    dx = avg_pool2d_backward(np.ones((1, 1, 2, 2), np.float32), cache)
    np.testing.assert_array_equal(dx, np.full((1, 1, 4, 4), 0.25, np.float32))


def test_ceil_mode_adds_partial_window_and_drops_padding_only_window():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    floor_out, _ = max_pool2d_forward(x, 2, stride=2)
    ceil_out, _ = max_pool2d_forward(x, 2, stride=2, ceil_mode=True)
    assert floor_out.shape == (1, 1, 2, 2)
    assert ceil_out.shape == (1, 1, 3, 3)  # last window covers row/column 4 only
    assert ceil_out[0, 0, 2, 2] == 24.0
    # PyTorch's rule with k=2, s=2, pad 1: ceil((W + 2 - 2) / 2) + 1 windows, minus the
    # last one when it would start at or past W + 1 (entirely in the right padding).
    # W=6: 4 windows, the 4th starts at 6 < 7 -> kept. W=5: 4 windows, 6 >= 6 -> dropped.
    out6, _ = max_pool2d_forward(np.zeros((1, 1, 6, 6)), 2, stride=2, padding=1, ceil_mode=True)
    out5, _ = max_pool2d_forward(np.zeros((1, 1, 5, 5)), 2, stride=2, padding=1, ceil_mode=True)
    assert out6.shape[-1] == 4
    assert out5.shape[-1] == 3


def test_avg_pool_divisor_like_pytorch_in_ceil_mode():
    # 5 wide, k=2, s=2, ceil: last window [4, 6) sticks out past the input (no padding),
    # so it is divided by 1 (clipped to input+padding), not by 2.
    x = np.ones((1, 1, 1, 5))
    out, _ = avg_pool2d_forward(x, (1, 2), stride=(1, 2), ceil_mode=True)
    np.testing.assert_array_equal(out[0, 0, 0], [1.0, 1.0, 1.0])
    # with padding 1 and count_include_pad, padded cells count
    out, _ = avg_pool2d_forward(x, (1, 2), stride=(1, 2), padding=(0, 1), ceil_mode=True)
    np.testing.assert_array_equal(out[0, 0, 0], [0.5, 1.0, 1.0])
    out, _ = avg_pool2d_forward(
        x, (1, 2), stride=(1, 2), padding=(0, 1), ceil_mode=True, count_include_pad=False
    )
    np.testing.assert_array_equal(out[0, 0, 0], [1.0, 1.0, 1.0])


# (kernel, stride, padding, dilation, ceil_mode, H, W)
MAX_SETTINGS = [
    (2, None, 0, 1, False, 6, 6),
    (3, 2, 1, 1, False, 7, 6),
    (3, 2, 1, 1, True, 8, 7),
    ((2, 3), (1, 2), (1, 0, 0, 1), 1, True, 6, 9),
    (3, 1, 0, 2, False, 7, 7),
    (2, 3, 0, 1, True, 7, 8),  # stride > kernel, partial last window
    (2, None, 1, 1, False, 4, 6),  # windows tile the padded input
    (2, None, 0, 1, False, 7, 5),  # floor mode leaves the last row and column out
    (2, None, 0, 1, True, 7, 5),  # ceil mode tiles the input plus the -inf extra cells
]


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation", "ceil", "h", "w"), MAX_SETTINGS
)
def test_max_pool_fast_matches_naive(rng, kernel, stride, padding, dilation, ceil, h, w):
    x = spaced_values(rng, (2, 3, h, w))
    kw = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil)
    out, cache = max_pool2d_forward(x, kernel, **kw)
    ref, ref_cache = max_pool2d_forward_naive(x, kernel, **kw)
    np.testing.assert_array_equal(out, ref)
    # inference: rows first, then columns, no index kept
    np.testing.assert_array_equal(max_pool2d_forward(x, kernel, **kw, need_index=False)[0], ref)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(
        max_pool2d_backward(dout, cache), max_pool2d_backward_naive(dout, ref_cache), atol=1e-14
    )


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation", "ceil", "h", "w"), MAX_SETTINGS[1:4]
)
def test_max_pool_gradient_numerically(rng, kernel, stride, padding, dilation, ceil, h, w):
    # Values 0.05 apart with h = 1e-5: no perturbation changes which element is the
    # maximum, so max pooling is linear around x and the check is exact (no ties, no kinks).
    x = spaced_values(rng, (2, 2, h, w))
    kw = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil)
    out, cache = max_pool2d_forward(x, kernel, **kw)
    dout = rng.standard_normal(out.shape)
    assert_grads_match(
        lambda: max_pool2d_forward(x, kernel, **kw)[0],
        {"x": x},
        {"x": max_pool2d_backward(dout, cache)},
        dout,
    )


def test_max_pool_ties_go_to_the_first_maximum():
    x = np.ones((1, 1, 2, 2))
    _, cache = max_pool2d_forward(x, 2)
    dx = max_pool2d_backward(np.ones((1, 1, 1, 1)), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1, 0], [0, 0]])


AVG_SETTINGS = [
    (2, None, 0, False, True, 6, 6),
    (3, 2, 1, False, True, 7, 6),
    (3, 2, 1, True, True, 8, 7),
    (3, 2, 1, True, False, 8, 7),
    ((2, 3), (1, 2), (1, 0, 0, 1), True, True, 6, 9),
    (2, 3, 0, True, True, 7, 8),
]


@pytest.mark.parametrize(("kernel", "stride", "padding", "ceil", "include", "h", "w"), AVG_SETTINGS)
def test_avg_pool_fast_matches_naive_and_gradients(
    rng, kernel, stride, padding, ceil, include, h, w
):
    x = rng.standard_normal((2, 3, h, w))
    kw = dict(stride=stride, padding=padding, ceil_mode=ceil, count_include_pad=include)
    out, cache = avg_pool2d_forward(x, kernel, **kw)
    ref, ref_cache = avg_pool2d_forward_naive(x, kernel, **kw)
    np.testing.assert_allclose(out, ref, rtol=1e-13, atol=1e-13)
    dout = rng.standard_normal(out.shape)
    dx = avg_pool2d_backward(dout, cache)
    np.testing.assert_allclose(dx, avg_pool2d_backward_naive(dout, ref_cache), atol=1e-13)
    assert_grads_match(
        lambda: avg_pool2d_forward(x, kernel, **kw)[0], {"x": x}, {"x": dx}, dout, h=1e-3
    )  # linear in x: exact differences


def test_pool_errors():
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(EngineError, match="more than half the kernel"):
        max_pool2d_forward(x, 2, padding=2)
    with pytest.raises(EngineError, match="too small"):
        max_pool2d_forward(np.zeros((1, 1, 2, 2)), 3)
    with pytest.raises(EngineError, match="floating"):
        max_pool2d_forward(np.zeros((1, 1, 4, 4), dtype=np.int64), 2)


def test_global_avg_pool(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    out, cache = global_avg_pool_forward(x)
    assert out.shape == (2, 3, 1, 1)
    np.testing.assert_allclose(out[1, 2, 0, 0], x[1, 2].sum() / 20)
    dout = rng.standard_normal(out.shape)
    dx = global_avg_pool_backward(dout, cache)
    assert_grads_match(lambda: global_avg_pool_forward(x)[0], {"x": x}, {"x": dx}, dout, h=1e-3)


@pytest.mark.parametrize(
    ("h", "w", "out_size"), [(7, 5, (3, 2)), (6, 6, 3), (5, 7, (5, 7)), (4, 9, (3, 4))]
)
def test_adaptive_avg_pool(rng, h, w, out_size):
    x = rng.standard_normal((2, 3, h, w))
    out, cache = adaptive_avg_pool2d_forward(x, out_size)
    np.testing.assert_allclose(out, adaptive_avg_pool2d_forward_naive(x, out_size), atol=1e-13)
    dout = rng.standard_normal(out.shape)
    dx = adaptive_avg_pool2d_backward(dout, cache)
    assert_grads_match(
        lambda: adaptive_avg_pool2d_forward(x, out_size)[0], {"x": x}, {"x": dx}, dout, h=1e-3
    )


def test_adaptive_bins_overlap_like_pytorch():
    # H=5 into 3 bins: [0, 2), [1, 4), [3, 5) -- floor(i*5/3), ceil((i+1)*5/3)
    x = np.arange(5.0).reshape(1, 1, 5, 1)
    out, _ = adaptive_avg_pool2d_forward(x, (3, 1))
    np.testing.assert_allclose(out[0, 0, :, 0], [0.5, 2.0, 3.5])


@pytest.mark.parametrize("seed", range(12))
def test_max_and_avg_pool_fast_match_naive_on_random_settings(seed):
    rng = np.random.default_rng(2000 + seed)
    kernel = tuple(int(k) for k in rng.integers(1, 4, size=2))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    padding = tuple(
        int(rng.integers(0, k // 2 + 1)) for k in (kernel[0], kernel[0], kernel[1], kernel[1])
    )
    ceil = bool(rng.integers(0, 2))
    h, w = (int(v) for v in rng.integers(4, 9, size=2))
    x = spaced_values(rng, (2, 2, h, w))
    dilation = tuple(int(d) for d in rng.integers(1, 3, size=2))
    kw = dict(stride=stride, padding=padding, ceil_mode=ceil)
    out, cache = max_pool2d_forward(x, kernel, dilation=dilation, **kw)
    ref, ref_cache = max_pool2d_forward_naive(x, kernel, dilation=dilation, **kw)
    np.testing.assert_array_equal(out, ref)
    light, _ = max_pool2d_forward(x, kernel, dilation=dilation, **kw, need_index=False)
    np.testing.assert_array_equal(light, ref)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(
        max_pool2d_backward(dout, cache), max_pool2d_backward_naive(dout, ref_cache), atol=1e-14
    )
    include = bool(rng.integers(0, 2))
    out, cache = avg_pool2d_forward(x, kernel, count_include_pad=include, **kw)
    ref, ref_cache = avg_pool2d_forward_naive(x, kernel, count_include_pad=include, **kw)
    np.testing.assert_allclose(out, ref, rtol=1e-13, atol=1e-13)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(
        avg_pool2d_backward(dout, cache), avg_pool2d_backward_naive(dout, ref_cache), atol=1e-13
    )
