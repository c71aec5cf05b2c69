import numpy as np
import pytest

from cnnspec.engine.gradcheck import numerical_gradient, numerical_gradient_array, relative_error
from cnnspec.errors import EngineError


def test_relative_error_is_elementwise_then_max():
    a = np.array([1.0, 100.0, 0.0])
    b = np.array([1.1, 100.0, 0.0])
    # element 0: 0.1 / 2.1; element 2: 0 / max(1e-8, 0) = 0
    assert relative_error(a, b) == pytest.approx(0.1 / 2.1)
    assert relative_error(np.array([1e-12]), np.array([0.0])) == pytest.approx(1e-4)


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 0.5])
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-9)
    np.testing.assert_array_equal(x, [1.0, -2.0, 0.5])  # restored


def test_numerical_gradient_array_weights_by_dout():
    x = np.array([[1.0, 2.0]])
    dout = np.array([[3.0, -1.0]])
    grad = numerical_gradient_array(lambda: x**2, x, dout)
    np.testing.assert_allclose(grad, 2 * x * dout, rtol=1e-9)


def test_float32_is_refused():
    with pytest.raises(EngineError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))
    with pytest.raises(EngineError, match="contiguous"):
        numerical_gradient(lambda: 0.0, np.zeros((4, 4))[::2, :3])
