"""Forward values and every gradient against PyTorch (CPU, float64), where installed."""

import numpy as np
import pytest

from cnnspec.engine.functional import (
    adaptive_avg_pool2d_backward,
    adaptive_avg_pool2d_forward,
    avg_pool2d_backward,
    avg_pool2d_forward,
    batchnorm1d_forward,
    batchnorm2d_forward,
    batchnorm_backward,
    conv2d_backward,
    conv2d_forward,
    fc_backward,
    fc_forward,
    lrn_backward,
    lrn_forward,
    max_pool2d_backward,
    max_pool2d_forward,
    softmax_cross_entropy,
)
from cnnspec.engine.gradcheck import relative_error

from .helpers import spaced_values

torch = pytest.importorskip("torch")
F = torch.nn.functional
TOL = 1e-5


def t(a: np.ndarray):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def assert_close(ours: np.ndarray, theirs) -> None:
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    assert relative_error(ours, theirs) < TOL


@pytest.mark.parametrize(
    ("c", "f", "groups", "kernel", "stride", "padding", "dilation"),
    [
        (3, 8, 1, (3, 3), 1, 1, 1),
        (4, 6, 2, (3, 2), (2, 1), (1, 2), (2, 1)),
        (6, 6, 6, (3, 3), 2, 1, 1),  # depthwise
        (4, 8, 2, (5, 3), (1, 3), (2, 0), (1, 2)),
    ],
)
def test_conv2d(rng, c, f, groups, kernel, stride, padding, dilation):
    x = rng.standard_normal((2, c, 11, 10))
    w = rng.standard_normal((f, c // groups, *kernel))
    b = rng.standard_normal(f)
    out, cache = conv2d_forward(
        x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups
    )
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    xt, wt, bt = t(x), t(w), t(b)
    ref = F.conv2d(xt, wt, bt, stride=stride, padding=padding, dilation=dilation, groups=groups)
    ref.backward(torch.from_numpy(dout))
    assert_close(out, ref)
    assert_close(dx, xt.grad)
    assert_close(dw, wt.grad)
    assert_close(db, bt.grad)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation", "ceil"),
    [
        (2, 2, 0, 1, False),
        (3, 2, 1, 1, True),
        ((3, 2), (2, 1), (1, 0), 1, True),
        (3, 2, 1, 2, True),
        (2, 3, 1, 1, True),
    ],
)
def test_max_pool(rng, kernel, stride, padding, dilation, ceil):
    x = spaced_values(rng, (2, 3, 9, 8), gap=0.01)  # no ties: the argmax is unambiguous
    out, cache = max_pool2d_forward(
        x, kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil
    )
    dout = rng.standard_normal(out.shape)
    xt = t(x)
    ref = F.max_pool2d(
        xt, kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil
    )
    ref.backward(torch.from_numpy(dout))
    assert_close(out, ref)
    assert_close(max_pool2d_backward(dout, cache), xt.grad)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "ceil", "include"),
    [
        (2, 2, 0, False, True),
        (3, 2, 1, True, True),
        (3, 2, 1, True, False),
        ((3, 2), (2, 1), (1, 0), True, True),
        (2, 3, 1, True, True),
        (2, 3, 1, True, False),
    ],
)
def test_avg_pool(rng, kernel, stride, padding, ceil, include):
    x = rng.standard_normal((2, 3, 9, 8))
    kw = dict(stride=stride, padding=padding, ceil_mode=ceil, count_include_pad=include)
    out, cache = avg_pool2d_forward(x, kernel, **kw)
    dout = rng.standard_normal(out.shape)
    xt = t(x)
    ref = F.avg_pool2d(xt, kernel, **kw)
    ref.backward(torch.from_numpy(dout))
    assert_close(out, ref)
    assert_close(avg_pool2d_backward(dout, cache), xt.grad)


@pytest.mark.parametrize("output_size", [(1, 1), (3, 2), (4, 4), (7, 5)])
def test_adaptive_avg_pool(rng, output_size):
    x = rng.standard_normal((2, 3, 7, 5))
    out, cache = adaptive_avg_pool2d_forward(x, output_size)
    dout = rng.standard_normal(out.shape)
    xt = t(x)
    ref = F.adaptive_avg_pool2d(xt, output_size)
    ref.backward(torch.from_numpy(dout))
    assert_close(out, ref)
    assert_close(adaptive_avg_pool2d_backward(dout, cache), xt.grad)


@pytest.mark.parametrize(("size", "torch_window"), [(5, False), (3, False), (4, True)])
def test_lrn_alpha_over_n_matches_torch(rng, size, torch_window):
    x = rng.standard_normal((2, 7, 4, 3)) * 3
    kw = dict(size=size, alpha=0.2, beta=0.75, k=2.0)
    out, cache = lrn_forward(x, **kw, alpha_over_n=True, torch_window=torch_window)
    dout = rng.standard_normal(out.shape)
    xt = t(x)
    ref = torch.nn.LocalResponseNorm(**kw)(xt)
    ref.backward(torch.from_numpy(dout))
    assert_close(out, ref)
    assert_close(lrn_backward(dout, cache), xt.grad)
    # the lecture formula (alpha not divided by n) really differs from torch's
    lecture, _ = lrn_forward(x, **kw)
    assert relative_error(lecture, ref.detach().numpy()) > 1e-3


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3, 5, 2), (8, 5)])
def test_batchnorm(rng, training, shape):
    c = shape[1]
    forward = batchnorm2d_forward if len(shape) == 4 else batchnorm1d_forward
    x = rng.standard_normal(shape) * 3 + 1
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    rm, rv = rng.standard_normal(c), rng.random(c) + 0.5
    rm_t, rv_t = torch.tensor(rm), torch.tensor(rv)
    out, cache = forward(x, gamma, beta, rm, rv, training=training, momentum=0.2, eps=1e-4)
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    xt, gt, bt = t(x), t(gamma), t(beta)
    ref = F.batch_norm(xt, rm_t, rv_t, gt, bt, training=training, momentum=0.2, eps=1e-4)
    ref.backward(torch.from_numpy(dout))
    assert_close(out, ref)
    assert_close(dx, xt.grad)
    assert_close(dgamma, gt.grad)
    assert_close(dbeta, bt.grad)
    assert_close(rm, rm_t)  # running stats updated identically (in place on both sides)
    assert_close(rv, rv_t)


def test_fully_connected(rng):
    x, w, b = rng.standard_normal((5, 12)), rng.standard_normal((12, 4)), rng.standard_normal(4)
    out, cache = fc_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = fc_backward(dout, cache)
    xt, wt, bt = t(x), t(w.T.copy()), t(b)  # torch stores (M, D)
    ref = F.linear(xt, wt, bt)
    ref.backward(torch.from_numpy(dout))
    assert_close(out, ref)
    assert_close(dx, xt.grad)
    assert_close(dw, wt.grad.T)
    assert_close(db, bt.grad)


def test_softmax_cross_entropy(rng):
    logits, labels = rng.standard_normal((6, 5)) * 4, rng.integers(0, 5, 6)
    loss, dlogits = softmax_cross_entropy(logits, labels)
    lt = t(logits)
    ref = F.cross_entropy(lt, torch.from_numpy(labels))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    assert_close(dlogits, lt.grad)
