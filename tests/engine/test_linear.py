import numpy as np
import pytest

from cnnspec.engine.functional.linear import (
    fc_backward,
    fc_forward,
    flatten_backward,
    flatten_forward,
)
from cnnspec.errors import EngineError

from .helpers import assert_grads_match


def test_fc_by_hand():
    x = np.array([[1.0, 2.0]])
    w = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]])
    out, cache = fc_forward(x, w, np.array([0.0, 1.0, 2.0]))
    np.testing.assert_array_equal(out, [[5.0, 3.0, 2.0]])
    dx, dw, db = fc_backward(np.array([[1.0, 1.0, 1.0]]), cache)
    np.testing.assert_array_equal(dx, [[0.0, 3.5]])
    np.testing.assert_array_equal(dw, [[1, 1, 1], [2, 2, 2]])
    np.testing.assert_array_equal(db, [1, 1, 1])


def test_fc_gradients_numerically(rng):
    x, w, b = rng.standard_normal((5, 7)), rng.standard_normal((7, 3)), rng.standard_normal(3)
    out, cache = fc_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = fc_backward(dout, cache)
    assert_grads_match(
        lambda: fc_forward(x, w, b)[0],
        {"x": x, "w": w, "b": b},
        {"x": dx, "w": dw, "b": db},
        dout,
        h=1e-3,
    )
    _, cache = fc_forward(x, w)
    assert fc_backward(dout, cache)[2] is None


def test_fc_errors():
    with pytest.raises(EngineError, match="flatten"):
        fc_forward(np.zeros((2, 3, 4, 4)), np.zeros((48, 2)))
    with pytest.raises(EngineError, match=r"\(7, M\)"):
        fc_forward(np.zeros((2, 7)), np.zeros((6, 2)))
    with pytest.raises(EngineError, match="bias"):
        fc_forward(np.zeros((2, 7)), np.zeros((7, 2)), np.zeros(3))


def test_flatten_order_is_c_h_w():
    x = np.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2).astype(float)
    out, cache = flatten_forward(x)
    assert out.shape == (2, 12)
    # feature (c*H + h)*W + w holds x[n, c, h, w]
    assert out[1, (2 * 2 + 1) * 2 + 0] == x[1, 2, 1, 0]
    np.testing.assert_array_equal(out[0, :4], [0, 1, 2, 3])  # channel 0 first, row-major
    dout = np.arange(24.0).reshape(2, 12)
    dx = flatten_backward(dout, cache)
    np.testing.assert_array_equal(dx, x)
    assert not np.shares_memory(dx, dout)
