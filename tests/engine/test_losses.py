import math

import numpy as np
import pytest

from cnnspec.engine.functional.losses import softmax_cross_entropy, squared_error_loss
from cnnspec.engine.gradcheck import numerical_gradient, relative_error
from cnnspec.errors import EngineError


def test_cross_entropy_by_hand():
    logits = np.array([[0.0, math.log(3.0)], [2.0, 2.0]])
    loss, dlogits = softmax_cross_entropy(logits, np.array([1, 0]))
    # row 0: softmax (1/4, 3/4), label 1 -> -log 3/4; row 1: (1/2, 1/2) -> -log 1/2
    assert loss == pytest.approx((-math.log(0.75) - math.log(0.5)) / 2)
    np.testing.assert_allclose(dlogits, [[0.25 / 2, -0.25 / 2], [-0.5 / 2, 0.5 / 2]])


def test_cross_entropy_is_stable_for_huge_logits():
    loss, dlogits = softmax_cross_entropy(np.array([[1000.0, 0.0, -1000.0]]), np.array([1]))
    assert loss == pytest.approx(1000.0)
    assert np.all(np.isfinite(dlogits))


def test_cross_entropy_soft_targets_and_gradient(rng):
    logits = rng.standard_normal((4, 5))
    t = rng.random((4, 5))
    t /= t.sum(axis=1, keepdims=True)
    _, dlogits = softmax_cross_entropy(logits, t)
    numeric = numerical_gradient(lambda: softmax_cross_entropy(logits, t)[0], logits)
    assert relative_error(dlogits, numeric) < 1e-7
    labels = np.array([0, 4, 2, 2])
    onehot = np.eye(5)[labels]
    assert softmax_cross_entropy(logits, labels)[0] == pytest.approx(
        softmax_cross_entropy(logits, onehot)[0]
    )


def test_cross_entropy_errors():
    with pytest.raises(EngineError, match="labels must be in"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(EngineError, match="targets must be"):
        softmax_cross_entropy(np.zeros((2, 3)), np.zeros((2, 2)))


def test_squared_error_is_the_lecture_sum_over_the_batch_size(rng):
    y = np.array([[1.0, 2.0], [0.0, -1.0]])
    t = np.array([[0.0, 2.0], [2.0, 1.0]])
    loss, dy = squared_error_loss(y, t)
    # lecture: E = 1/2 * (1 + 0 + 4 + 4) = 4.5; ours divides by N = 2
    assert loss == pytest.approx(4.5 / 2)
    np.testing.assert_allclose(dy, (y - t) / 2)
    y = rng.standard_normal((3, 4))
    t = rng.standard_normal((3, 4))
    numeric = numerical_gradient(lambda: squared_error_loss(y, t)[0], y)
    assert relative_error(squared_error_loss(y, t)[1], numeric) < 1e-7
    with pytest.raises(EngineError, match="differ in shape"):
        squared_error_loss(np.zeros(3), np.zeros(4))
