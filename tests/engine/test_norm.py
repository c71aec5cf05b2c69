import numpy as np
import pytest

from cnnspec.engine.functional.norm import (
    batchnorm1d_forward,
    batchnorm2d_forward,
    batchnorm_backward,
    dropout_backward,
    dropout_forward,
    lrn_backward,
    lrn_forward,
    lrn_forward_naive,
)
from cnnspec.errors import EngineError

from .helpers import assert_grads_match


def test_batchnorm2d_training_normalises_and_updates_running_stats():
    # channel 0 holds 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3); channel 1 all 7
    x = np.array([[[[1.0, 2.0]], [[7.0, 7.0]]], [[[3.0, 4.0]], [[7.0, 7.0]]]])  # (2, 2, 1, 2)
    gamma, beta = np.array([2.0, 1.0]), np.array([0.5, -1.0])
    rm, rv = np.array([1.0, 0.0]), np.array([1.0, 2.0])
    out, _ = batchnorm2d_forward(x, gamma, beta, rm, rv, training=True, momentum=0.1, eps=1e-12)
    z = (np.array([1.0, 2.0, 3.0, 4.0]) - 2.5) / np.sqrt(1.25)
    np.testing.assert_allclose(out[:, 0].ravel(), 2.0 * z + 0.5)
    np.testing.assert_allclose(rm, [0.9 * 1.0 + 0.1 * 2.5, 0.9 * 0.0 + 0.1 * 7.0])
    np.testing.assert_allclose(rv, [0.9 * 1.0 + 0.1 * 5.0 / 3.0, 0.9 * 2.0 + 0.1 * 0.0])


def test_batchnorm_eval_uses_running_stats():
    x = np.array([[3.0, 0.0]])
    out, cache = batchnorm1d_forward(
        x, np.array([2.0, 1.0]), np.array([1.0, 0.0]), np.array([1.0, 0.0]), np.array([4.0, 1.0]),
        training=False, eps=1e-12,
    )  # fmt: skip
    np.testing.assert_allclose(out, [[2.0 * (3 - 1) / 2 + 1, 0.0]])
    dx, dgamma, dbeta = batchnorm_backward(np.ones((1, 2)), cache)
    np.testing.assert_allclose(dx, [[1.0, 1.0]])  # gamma / sqrt(var)
    np.testing.assert_allclose(dgamma, [1.0, 0.0])
    np.testing.assert_allclose(dbeta, [1.0, 1.0])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3, 3, 2), (6, 5)])
def test_batchnorm_gradients_numerically(rng, training, shape):
    forward = batchnorm2d_forward if len(shape) == 4 else batchnorm1d_forward
    c = shape[1]
    x = rng.standard_normal(shape) * 2 + 1
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    rm, rv = rng.standard_normal(c), rng.random(c) + 0.5

    def run():
        # copies: the training forward updates the running stats in place
        return forward(x, gamma, beta, rm.copy(), rv.copy(), training=training)[0]

    out, cache = forward(x, gamma, beta, rm.copy(), rv.copy(), training=training)
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    assert_grads_match(
        run, {"x": x, "gamma": gamma, "beta": beta}, {"x": dx, "gamma": dgamma, "beta": dbeta}, dout
    )


def test_batchnorm_errors():
    x = np.zeros((1, 2, 1, 1))
    ones = np.ones(2)
    with pytest.raises(EngineError, match="more than one value"):
        batchnorm2d_forward(x, ones, ones, None, None, training=True)
    with pytest.raises(EngineError, match="running_mean and running_var"):
        batchnorm2d_forward(x, ones, ones, None, None, training=False)
    with pytest.raises(EngineError, match="eps"):
        batchnorm2d_forward(x, ones, ones, ones, ones, training=False, eps=0.0)
    with pytest.raises(EngineError, match=r"gamma must have shape \(2,\)"):
        batchnorm2d_forward(x, np.ones(3), ones, None, None, training=False)


def test_lrn_single_pixel_by_hand():
    # 3 channels a = (1, 2, 3), n = 3 (window i-1..i+1), k = 1, alpha = 0.5, beta = 1
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1)
    out, _ = lrn_forward(x, size=3, alpha=0.5, beta=1.0, k=1.0)
    sums = np.array([1 + 4, 1 + 4 + 9, 4 + 9])
    np.testing.assert_allclose(out.ravel(), [1, 2, 3] / (1 + 0.5 * sums))
    out_n, _ = lrn_forward(x, size=3, alpha=0.5, beta=1.0, k=1.0, alpha_over_n=True)
    np.testing.assert_allclose(out_n.ravel(), [1, 2, 3] / (1 + 0.5 / 3 * sums))


def test_lrn_even_size_windows():
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    # lecture formula, n = 2: channels i-1..i+1 (three); PyTorch window: i-1..i (two)
    lecture, _ = lrn_forward(x, size=2, alpha=1.0, beta=1.0, k=0.0)
    torch_like, _ = lrn_forward(x, size=2, alpha=1.0, beta=1.0, k=0.0, torch_window=True)
    np.testing.assert_allclose(lecture.ravel(), [1 / 5, 2 / 14, 3 / 29, 4 / 25])
    np.testing.assert_allclose(torch_like.ravel(), [1 / 1, 2 / 5, 3 / 13, 4 / 25])


@pytest.mark.parametrize(
    ("size", "alpha_over_n", "torch_window"),
    [(5, False, False), (3, True, False), (4, True, True), (4, False, False)],
)
def test_lrn_fast_matches_naive_and_gradients(rng, size, alpha_over_n, torch_window):
    x = rng.standard_normal((2, 7, 3, 3))
    kw = dict(
        size=size, alpha=0.3, beta=0.75, k=1.5, alpha_over_n=alpha_over_n, torch_window=torch_window
    )
    out, cache = lrn_forward(x, **kw)
    np.testing.assert_allclose(out, lrn_forward_naive(x, **kw), rtol=1e-13)
    dout = rng.standard_normal(out.shape)
    assert_grads_match(
        lambda: lrn_forward(x, **kw)[0], {"x": x}, {"x": lrn_backward(dout, cache)}, dout
    )


def test_dropout_training_inverted_scaling_and_gradient():
    x = np.ones((200, 500))
    out, cache = dropout_forward(x, 0.25, training=True, rng=np.random.default_rng(0))
    kept = out != 0
    assert set(np.unique(out)) == {0.0, 1 / 0.75}
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    assert out.mean() == pytest.approx(1.0, abs=0.015)  # inverted: expectation unchanged
    dout = np.full_like(x, 3.0)
    dx = dropout_backward(dout, cache)
    np.testing.assert_array_equal(dx, np.where(kept, 3.0 / 0.75, 0.0))
    assert np.all(dout == 3.0)


def test_dropout_is_reproducible_and_off_at_inference():
    x = np.arange(12.0).reshape(3, 4)
    a, _ = dropout_forward(x, 0.5, training=True, rng=np.random.default_rng(4))
    b, _ = dropout_forward(x, 0.5, training=True, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    out, cache = dropout_forward(x, 0.5, training=False)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(dropout_backward(np.ones_like(x), cache), np.ones_like(x))
    with pytest.raises(EngineError, match=r"\[0, 1\)"):
        dropout_forward(x, 1.0, training=True, rng=np.random.default_rng(0))
    with pytest.raises(EngineError, match="rng"):
        dropout_forward(x, 0.5, training=True)
