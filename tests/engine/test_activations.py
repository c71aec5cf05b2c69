import numpy as np
import pytest

from cnnspec.engine.functional.activations import (
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)
from cnnspec.errors import EngineError

from .helpers import assert_grads_match, spaced_values


def test_relu_values_and_gradient():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0], dtype=np.float32)
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, [0, 0, 0, 0.5, 3])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(relu_backward(np.ones_like(x), cache), [0, 0, 0, 1, 1])


def test_relu_gradient_numerically(rng):
    # spaced_values keeps every element >= 0.025 away from the kink at 0
    x = spaced_values(rng, (3, 4, 5))
    out, cache = relu_forward(x)
    dout = rng.standard_normal(out.shape)
    assert_grads_match(
        lambda: relu_forward(x)[0], {"x": x}, {"x": relu_backward(dout, cache)}, dout
    )


def test_leaky_relu(rng):
    out, cache = leaky_relu_forward(np.array([-2.0, 4.0]), negative_slope=0.1)
    np.testing.assert_allclose(out, [-0.2, 4.0])
    np.testing.assert_allclose(leaky_relu_backward(np.array([1.0, 1.0]), cache), [0.1, 1.0])
    x = spaced_values(rng, (4, 5))
    dout = rng.standard_normal(x.shape)
    _, cache = leaky_relu_forward(x, 0.2)
    assert_grads_match(
        lambda: leaky_relu_forward(x, 0.2)[0],
        {"x": x},
        {"x": leaky_relu_backward(dout, cache)},
        dout,
    )
    with pytest.raises(EngineError, match="negative_slope"):
        leaky_relu_forward(x, -1.0)


def test_sigmoid_values_stable_and_gradient(rng):
    out, _ = sigmoid_forward(np.array([0.0, np.log(3.0), -1000.0, 1000.0]))
    np.testing.assert_allclose(out, [0.5, 0.75, 0.0, 1.0])
    assert np.all(np.isfinite(out))
    x = rng.standard_normal((3, 7)) * 2
    out, cache = sigmoid_forward(x)
    dout = rng.standard_normal(out.shape)
    assert_grads_match(
        lambda: sigmoid_forward(x)[0], {"x": x}, {"x": sigmoid_backward(dout, cache)}, dout
    )


def test_tanh_gradient(rng):
    x = rng.standard_normal((3, 7))
    out, cache = tanh_forward(x)
    np.testing.assert_allclose(out, np.tanh(x))
    dout = rng.standard_normal(out.shape)
    assert_grads_match(
        lambda: tanh_forward(x)[0], {"x": x}, {"x": tanh_backward(dout, cache)}, dout
    )


def test_softmax_values_stability_and_gradient(rng):
    out, _ = softmax_forward(np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]]))
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(out[0], e / e.sum())
    np.testing.assert_allclose(out[1], [0.5, 0.5, 0.0])
    x = rng.standard_normal((4, 6))
    for axis in (-1, 0):
        out, cache = softmax_forward(x, axis=axis)
        np.testing.assert_allclose(out.sum(axis=axis), 1.0)
        dout = rng.standard_normal(out.shape)
        assert_grads_match(
            lambda axis=axis: softmax_forward(x, axis=axis)[0],
            {"x": x},
            {"x": softmax_backward(dout, cache)},
            dout,
        )
