import numpy as np
import pytest

from cnnspec.engine.functional.conv import (
    _transposed_conv_fits,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_naive,
)
from cnnspec.engine.im2col import as_padding, as_pair
from cnnspec.errors import EngineError

from .helpers import assert_grads_match

WORKED_INPUT = [
    [1, 1, 1, 0, 0],
    [0, 1, 1, 1, 0],
    [0, 0, 1, 1, 1],
    [0, 0, 1, 1, 0],
    [0, 1, 1, 0, 0],
]
WORKED_KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
WORKED_RESULT = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]


@pytest.mark.parametrize("forward", [conv2d_forward, conv2d_forward_naive])
def test_seeds_worked_example(forward):
    x = np.array(WORKED_INPUT, dtype=np.float32).reshape(1, 1, 5, 5)
    w = np.array(WORKED_KERNEL, dtype=np.float32).reshape(1, 1, 3, 3)
    out, _ = forward(x, w, stride=1, padding=0)
    assert out.shape == (1, 1, 3, 3)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0, 0], np.array(WORKED_RESULT, dtype=np.float32))


def test_bias_is_added_per_filter():
    x = np.array(WORKED_INPUT, dtype=np.float64).reshape(1, 1, 5, 5)
    w = np.stack([np.array(WORKED_KERNEL, float), np.ones((3, 3))]).reshape(2, 1, 3, 3)
    out, _ = conv2d_forward(x, w, np.array([0.5, -1.0]))
    np.testing.assert_array_equal(out[0, 0], np.array(WORKED_RESULT) + 0.5)
    # the all-ones filter counts the ones in each 3x3 window, minus 1
    assert out[0, 1, 0, 0] == 6 - 1.0  # 1 1 1 / 0 1 1 / 0 0 1
    assert out[0, 1, 2, 2] == 6 - 1.0  # 1 1 1 / 1 1 0 / 1 0 0


# (C, F, groups, kernel, stride, padding, dilation, H, W)
SETTINGS = [
    (3, 4, 1, (3, 3), 1, 0, 1, 6, 6),
    (3, 4, 1, (3, 3), 2, 1, 1, 7, 7),
    (4, 6, 2, (3, 2), (2, 1), (1, 2, 0, 1), (2, 1), 9, 8),  # groups, non-square, dilation
    (4, 4, 4, (3, 3), 1, 1, 1, 5, 6),  # depthwise
    (4, 8, 4, (2, 3), 2, (1, 0), 1, 7, 7),  # depthwise multiplier 2
    (2, 3, 1, (1, 1), 1, 0, 1, 4, 5),  # 1x1 conv
    (3, 2, 1, (5, 3), (1, 3), (2, 1), (1, 2), 8, 11),
    # stride 1, F <= C, pads within the kernel extent: dx as a transposed convolution
    (4, 3, 1, (3, 3), 1, 1, 1, 6, 7),
    (4, 4, 1, (3, 2), 1, (2, 0, 1, 1), (1, 2), 7, 8),
    (3, 3, 1, (1, 1), 1, 0, 1, 4, 5),
]


@pytest.mark.parametrize(
    ("c", "f", "groups", "kernel", "stride", "padding", "dilation", "h", "w"), SETTINGS
)
def test_fast_matches_naive(rng, c, f, groups, kernel, stride, padding, dilation, h, w):
    x = rng.standard_normal((2, c, h, w))
    wt = rng.standard_normal((f, c // groups, *kernel))
    b = rng.standard_normal(f)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, pad_value=0.3)
    out, cache = conv2d_forward(x, wt, b, **kw)
    ref, ref_cache = conv2d_forward_naive(x, wt, b, **kw)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dout_before = dout.copy()
    for got, want in zip(
        conv2d_backward(dout, cache), conv2d_backward_naive(dout, ref_cache), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(dout, dout_before)  # dout is never modified


@pytest.mark.parametrize(
    ("c", "f", "groups", "kernel", "stride", "padding", "dilation", "h", "w"),
    SETTINGS[1:5] + SETTINGS[-3:-1],
)
def test_gradients_numerically(rng, c, f, groups, kernel, stride, padding, dilation, h, w):
    x = rng.standard_normal((2, c, h, w))
    wt = rng.standard_normal((f, c // groups, *kernel))
    b = rng.standard_normal(f)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, pad_value=0.7)
    out, cache = conv2d_forward(x, wt, b, **kw)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    assert_grads_match(
        lambda: conv2d_forward(x, wt, b, **kw)[0],
        {"x": x, "w": wt, "b": b},
        {"x": dx, "w": dw, "b": db},
        dout,
        h=1e-3,  # conv is linear in x, in w and in b: exact differences
    )


def test_no_bias_gives_no_db(rng):
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    out, cache = conv2d_forward(x, w)
    dx, dw, db = conv2d_backward(np.ones_like(out), cache)
    assert db is None
    assert dx.dtype == np.float32 and dw.dtype == np.float32
    assert dx.shape == x.shape and dw.shape == w.shape


def test_pad_value_fills_the_border():
    x = np.zeros((1, 1, 1, 1))
    w = np.ones((1, 1, 3, 3))
    out, _ = conv2d_forward(x, w, padding=1, pad_value=2.0)
    assert out[0, 0, 0, 0] == 8 * 2.0  # eight padded cells around one zero


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "groups", "match"),
    [
        ((1, 4, 5, 5), (6, 4, 3, 3), 2, "input channels per group"),
        ((1, 3, 5, 5), (6, 1, 3, 3), 2, "must divide"),
        ((1, 3, 2, 2), (1, 3, 3, 3), 1, "too small"),
        ((3, 5, 5), (1, 3, 3, 3), 1, r"\(N, C, H, W\)"),
    ],
)
def test_user_errors(x_shape, w_shape, groups, match):
    with pytest.raises(EngineError, match=match):
        conv2d_forward(np.zeros(x_shape), np.zeros(w_shape), groups=groups)


def test_wrong_bias_shape():
    with pytest.raises(EngineError, match="bias"):
        conv2d_forward(np.zeros((1, 1, 3, 3)), np.zeros((2, 1, 3, 3)), np.zeros(3))


def test_a_cache_serves_one_backward_pass(rng):
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    out, cache = conv2d_forward(x, w, padding=1)
    dout = np.ones_like(out)
    first = conv2d_backward(dout, cache)
    with pytest.raises(EngineError, match="already used by a backward pass"):
        conv2d_backward(dout, cache)
    # a fresh forward gives a fresh cache and the same gradients
    again = conv2d_backward(dout, conv2d_forward(x, w, padding=1)[1])
    for a, b in zip(first[:2], again[:2], strict=True):
        np.testing.assert_array_equal(a, b)


def test_mixed_precision_backward_does_not_reuse_the_float32_buffer(rng):
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3))  # float64 weights
    out, cache = conv2d_forward(x, w)
    assert out.dtype == np.float64
    dx, dw, _ = conv2d_backward(np.ones_like(out), cache)
    ref = conv2d_backward_naive(np.ones_like(out), conv2d_forward_naive(x, w)[1])
    np.testing.assert_allclose(dx, ref[0], rtol=1e-6)
    np.testing.assert_allclose(dw, ref[1], rtol=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_fast_matches_naive_on_random_settings(seed):
    rng = np.random.default_rng(1000 + seed)
    groups = int(rng.choice([1, 2, 3]))
    c = groups * int(rng.integers(1, 3))
    f = groups * int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 4, size=2))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, size=2))
    padding = tuple(int(p) for p in rng.integers(0, 3, size=4))
    h, w = (int(v) for v in rng.integers(5, 10, size=2))
    x = rng.standard_normal((2, c, h, w))
    wt = rng.standard_normal((f, c // groups, *kernel))
    b = rng.standard_normal(f) if seed % 2 else None
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    out, cache = conv2d_forward(x, wt, b, **kw)
    ref, ref_cache = conv2d_forward_naive(x, wt, b, **kw)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    got, want = conv2d_backward(dout, cache), conv2d_backward_naive(dout, ref_cache)
    for g, r in zip(got, want, strict=True):
        if r is None:
            assert g is None
        else:
            np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("groups", [1, 2])
def test_backward_without_dx_gives_the_same_weight_gradients(rng, groups):
    x = rng.standard_normal((2, 4, 6, 5))
    w = rng.standard_normal((4, 4 // groups, 3, 2))
    b = rng.standard_normal(4)
    out, cache = conv2d_forward(x, w, b, padding=1, groups=groups)
    dout = rng.standard_normal(out.shape)
    _, dw, db = conv2d_backward(dout, conv2d_forward(x, w, b, padding=1, groups=groups)[1])
    skipped, dw2, db2 = conv2d_backward(dout, cache, need_dx=False)
    assert skipped is None
    np.testing.assert_array_equal(dw, dw2)
    np.testing.assert_array_equal(db, db2)
    with pytest.raises(EngineError, match="already used by a backward pass"):
        conv2d_backward(dout, cache)


def test_workspace_is_filled_and_becomes_the_cache(rng):
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    out, cache = conv2d_forward(x, w, padding=1)
    dx, dw, _ = conv2d_backward(np.ones_like(out), cache)
    spent = cache.cols
    spent.flags.writeable = True
    spent[...] = np.nan  # stale content must not leak into the next pass
    out2, cache2 = conv2d_forward(x, w, padding=1, workspace=spent)
    assert cache2.cols is spent
    np.testing.assert_array_equal(out2, out)
    dx2, dw2, _ = conv2d_backward(np.ones_like(out), cache2)
    np.testing.assert_array_equal(dx2, dx)
    np.testing.assert_array_equal(dw2, dw)
    # a buffer of the wrong shape or dtype is ignored
    for wrong in (np.empty((2, 2), np.float32), np.empty(spent.shape, np.float64)):
        out3, cache3 = conv2d_forward(x, w, padding=1, workspace=wrong)
        assert cache3.cols is not wrong
        np.testing.assert_array_equal(out3, out)


@pytest.mark.parametrize("need_dx", [True, False])
def test_bias_is_the_last_column_of_the_product(rng, need_dx):
    """[w | b] @ [cols; 1]: the columns carry a row of ones, db is that row's product."""
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    out, cache = conv2d_forward(x, w, b, padding=1)
    assert cache.cols.shape == (3 * 9 + 1, 2 * 25)
    assert np.all(cache.cols[-1] == 1)
    plain, plain_cache = conv2d_forward(x, w, padding=1)
    assert plain_cache.cols.shape == (27, 50)  # no bias, no row of ones
    np.testing.assert_allclose(out, plain + b[None, :, None, None], rtol=1e-5, atol=1e-5)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx, dw, db = conv2d_backward(dout, cache, need_dx=need_dx)
    pdx, pdw, _ = conv2d_backward(dout, plain_cache, need_dx=need_dx)
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dw, pdw, rtol=1e-5, atol=1e-5)
    if need_dx:
        np.testing.assert_allclose(dx, pdx, rtol=1e-5, atol=1e-5)
    # the spent buffer, row of ones included, is the next pass's workspace
    spent = cache.cols
    spent.flags.writeable = True
    spent[...] = np.nan
    again, cache2 = conv2d_forward(x, w, b, padding=1, workspace=spent)
    assert cache2.cols is spent
    np.testing.assert_array_equal(again, out)


def test_transposed_conv_path_covers_the_last_settings():
    for c, f, _, kernel, stride, padding, dilation, _, _ in SETTINGS[-3:]:
        assert _transposed_conv_fits(
            (f, c, *kernel), as_pair(stride, "stride"), as_padding(padding),
            as_pair(dilation, "dilation"),
        )
    assert not _transposed_conv_fits((4, 3, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1))  # F > C
    assert not _transposed_conv_fits((3, 3, 3, 3), (1, 1), (3, 0, 0, 0), (1, 1))  # pad > extent
    assert not _transposed_conv_fits((3, 3, 3, 3), (2, 1), (1, 1, 1, 1), (1, 1))  # stride 2


def test_outputs_keep_the_gemm_memory_order_and_the_model_returns_c_order() -> None:
    import cnnspec

    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 2, 6, 6))
    w = rng.standard_normal((4, 2, 3, 3))
    out, cache = conv2d_forward(x, w, np.arange(4.0), padding=1)
    # (N, F, H, W) shape over (F, N, H, W) memory: filters outermost, no NCHW copy
    assert out.shape == (3, 4, 6, 6) and out.strides == (6 * 6 * 8, 3 * 6 * 6 * 8, 6 * 8, 8)
    dx, _, _ = conv2d_backward(np.ones_like(out), cache)
    assert dx.shape == x.shape and dx.strides[1] > dx.strides[0]
    model = cnnspec.load("Conv(3x3,4,p=1)-ReLU-Conv(3x3,5,p=1)", input_shape="6x6x2").build(
        seed=0, dtype=np.float64)
    y = model.forward(x)
    assert y.shape == (3, 5, 6, 6) and y.flags.c_contiguous


@pytest.mark.parametrize("groups", [1, 2])
def test_forward_writes_into_a_part_of_a_larger_output(groups) -> None:
    """``out=``: the GEMM fills rows of a wider (F, N_all*oh*ow) grid, as chunked inference does."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 4, 6, 6))
    w = rng.standard_normal((6, 4 // groups, 3, 3))
    b = rng.standard_normal(6)
    whole, _ = conv2d_forward(x, w, b, padding=1, groups=groups)
    grid = np.full((6, 5, 6, 6), np.nan)  # (F, N, oh, ow)
    for start, stop in ((0, 2), (2, 5)):
        target = grid[:, start:stop].reshape(6, -1)
        part, _ = conv2d_forward(x[start:stop], w, b, padding=1, groups=groups, out=target)
        assert np.shares_memory(part, grid)
    np.testing.assert_allclose(grid.transpose(1, 0, 2, 3), whole, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("batch", [1, 3])
def test_inference_pointwise_conv_reads_its_input_in_place(batch) -> None:
    rng = np.random.default_rng(9)
    x_cn = rng.standard_normal((5, batch, 4, 4))  # (C, N, H, W) memory, a conv's output order
    x = x_cn.transpose(1, 0, 2, 3)
    w = rng.standard_normal((6, 5, 1, 1))
    b = rng.standard_normal(6)
    expected, _ = conv2d_forward(x, w, b)
    before = x.copy()
    out, cache = conv2d_forward(x, w, b, inference=True)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert np.shares_memory(cache.cols, x) and not cache.cols.flags.writeable
    np.testing.assert_array_equal(x, before)
    with pytest.raises(EngineError, match="already used"):
        conv2d_backward(np.ones_like(out), cache)
    # an input in NCHW order (batch > 1), a stride or a padding: the columns are a copy
    for kwargs in ({"stride": 2}, {"padding": 1}):
        _, copied = conv2d_forward(x, w, b, inference=True, **kwargs)
        assert not np.shares_memory(copied.cols, x)
    nchw = np.ascontiguousarray(x)  # (N, C, H, W) memory: in place only for a batch of one
    _, maybe = conv2d_forward(nchw, w, b, inference=True)
    assert np.shares_memory(maybe.cols, nchw) == (batch == 1)
