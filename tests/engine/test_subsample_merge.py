import numpy as np
import pytest

from cnnspec.engine.functional.merge import (
    add_backward,
    add_forward,
    concat_backward,
    concat_forward,
)
from cnnspec.engine.functional.subsample import (
    subsample_backward,
    subsample_forward,
    subsample_forward_naive,
)
from cnnspec.errors import EngineError

from .helpers import assert_grads_match


def test_subsample_by_hand():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, cache = subsample_forward(x, np.array([0.5]), np.array([1.0]))
    # block sums: 0+1+4+5 = 10, 2+3+6+7 = 18, 8+9+12+13 = 42, 10+11+14+15 = 50
    np.testing.assert_array_equal(out[0, 0], [[6.0, 10.0], [22.0, 26.0]])
    dx, dw, db = subsample_backward(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_array_equal(dx, np.full((1, 1, 4, 4), 0.5))
    np.testing.assert_array_equal(dw, [10 + 18 + 42 + 50])
    np.testing.assert_array_equal(db, [4.0])


def test_subsample_odd_size_matches_naive_and_gradients(rng):
    x = rng.standard_normal((2, 3, 5, 7))  # last row / column dropped
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    out, cache = subsample_forward(x, w, b)
    assert out.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(out, subsample_forward_naive(x, w, b), rtol=1e-13)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = subsample_backward(dout, cache)
    assert np.all(dx[:, :, 4, :] == 0) and np.all(dx[:, :, :, 6] == 0)
    assert_grads_match(
        lambda: subsample_forward(x, w, b)[0],
        {"x": x, "w": w, "b": b},
        {"x": dx, "w": dw, "b": db},
        dout,
        h=1e-3,
    )


def test_subsample_errors():
    with pytest.raises(EngineError, match=r"shape \(2,\)"):
        subsample_forward(np.zeros((1, 2, 4, 4)), np.zeros(3), np.zeros(2))
    with pytest.raises(EngineError, match="smaller than"):
        subsample_forward(np.zeros((1, 1, 1, 4)), np.zeros(1), np.zeros(1))


def test_residual_add():
    a, b = np.ones((2, 3)), np.full((2, 3), 2.0)
    out, cache = add_forward(a, b)
    np.testing.assert_array_equal(out, np.full((2, 3), 3.0))
    dout = np.arange(6.0).reshape(2, 3)
    da, db = add_backward(dout, cache)
    np.testing.assert_array_equal(da, dout)
    np.testing.assert_array_equal(db, dout)
    assert not np.shares_memory(da, dout) and not np.shares_memory(da, db)
    with pytest.raises(EngineError, match="projection shortcut"):
        add_forward(np.ones((1, 2, 4, 4)), np.ones((1, 3, 4, 4)))


def test_channel_concat_and_split():
    xs = [np.full((2, c, 3, 3), float(c)) for c in (1, 4, 2)]
    out, cache = concat_forward(xs)
    assert out.shape == (2, 7, 3, 3)
    assert out[0, 0, 0, 0] == 1 and out[0, 1, 0, 0] == 4 and out[0, 5, 0, 0] == 2
    dout = np.arange(out.size, dtype=float).reshape(out.shape)
    parts = concat_backward(dout, cache)
    assert [p.shape[1] for p in parts] == [1, 4, 2]
    np.testing.assert_array_equal(parts[1], dout[:, 1:5])
    with pytest.raises(EngineError, match="equal other dims"):
        concat_forward([np.ones((1, 2, 4, 4)), np.ones((1, 2, 3, 4))])
