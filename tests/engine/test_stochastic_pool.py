import numpy as np
import pytest

from cnnspec.engine.functional.stochastic_pool import (
    stochastic_pool2d_backward,
    stochastic_pool2d_forward,
    stochastic_pool2d_forward_naive,
)
from cnnspec.errors import EngineError

from .helpers import assert_grads_match

# one 2x2 window: a = (1, 2, 3, 4), sum 10, p = (0.1, 0.2, 0.3, 0.4)
WINDOW = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)


def test_inference_is_the_probability_weighted_sum():
    out, _ = stochastic_pool2d_forward(WINDOW, 2, training=False)
    # s = sum p_i a_i = (1 + 4 + 9 + 16) / 10
    assert out[0, 0, 0, 0] == pytest.approx(3.0)


def test_training_samples_with_probability_a_over_sum():
    # many copies of the same window, one draw each: frequencies must match p
    x = np.broadcast_to(WINDOW, (20000, 1, 2, 2)).copy()
    out, _ = stochastic_pool2d_forward(x, 2, training=True, rng=np.random.default_rng(7))
    freq = np.array([np.mean(out == v) for v in (1.0, 2.0, 3.0, 4.0)])
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=0.015)


def test_zero_elements_are_never_sampled_and_zero_windows_give_zero():
    x = np.array([[0.0, 5.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]).reshape(1, 1, 2, 4)
    x = np.broadcast_to(x, (500, 1, 2, 4)).copy()
    out, cache = stochastic_pool2d_forward(x, 2, training=True, rng=np.random.default_rng(1))
    assert np.all(out[:, 0, 0, 0] == 5.0)
    assert np.all(out[:, 0, 0, 1] == 0.0)
    dx = stochastic_pool2d_backward(np.ones_like(out), cache)
    assert np.all(dx[:, 0, 0, 1] == 1.0)  # the only non-zero element gets the gradient
    assert dx.sum() == 500.0  # and the all-zero window passes nothing
    out_inf, cache_inf = stochastic_pool2d_forward(x[:1], 2, training=False)
    np.testing.assert_array_equal(out_inf[0, 0, 0], [5.0, 0.0])
    dx_inf = stochastic_pool2d_backward(np.ones_like(out_inf), cache_inf)
    assert np.all(np.isfinite(dx_inf))
    assert dx_inf[0, 0, :, 2:].sum() == 0.0


def test_training_routes_gradient_to_the_sampled_element(rng):
    x = rng.random((2, 3, 4, 6)) + 0.1
    out, cache = stochastic_pool2d_forward(x, 2, training=True, rng=np.random.default_rng(3))
    dout = rng.standard_normal(out.shape)
    dx = stochastic_pool2d_backward(dout, cache)
    # each window gets its dout at exactly one cell, whose value equals the output
    blocks = dx.reshape(2, 3, 2, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 2, 3, 4)
    xb = x.reshape(2, 3, 2, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 2, 3, 4)
    assert np.all(np.count_nonzero(blocks, axis=-1) == 1)
    np.testing.assert_allclose(blocks.sum(-1), dout)
    np.testing.assert_array_equal(xb[blocks != 0].reshape(out.shape), out)


@pytest.mark.parametrize("training", [True, False])
def test_fast_matches_naive(rng, training):
    x = rng.random((2, 2, 7, 6))
    x[0, 0, :2, :2] = 0.0  # an all-zero window
    kw = dict(stride=2, padding=1, ceil_mode=True, training=training)
    out, _ = stochastic_pool2d_forward(x, 3, rng=np.random.default_rng(5), **kw)
    ref = stochastic_pool2d_forward_naive(x, 3, rng=np.random.default_rng(5), **kw)
    np.testing.assert_allclose(out, ref, rtol=1e-13)


def test_inference_gradient_numerically(rng):
    x = rng.random((2, 2, 6, 5)) + 0.05
    out, cache = stochastic_pool2d_forward(x, (2, 3), stride=(2, 1), training=False)
    dout = rng.standard_normal(out.shape)
    dx = stochastic_pool2d_backward(dout, cache)
    assert_grads_match(
        lambda: stochastic_pool2d_forward(x, (2, 3), stride=(2, 1), training=False)[0],
        {"x": x},
        {"x": dx},
        dout,
    )


def test_errors():
    with pytest.raises(EngineError, match="non-negative"):
        stochastic_pool2d_forward(-WINDOW, 2, training=False)
    with pytest.raises(EngineError, match="rng"):
        stochastic_pool2d_forward(WINDOW, 2, training=True)
