"""Numerical gradients by central differences, and the relative error.

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` only.

Use float64 throughout: with ``h = 1e-5`` the truncation error is about
``h^2 f''' / 6`` and the round-off about ``1e-16 |f| / h``, both far below
the 1e-7 relative errors the tests ask for; float32 would swamp them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnspec.errors import EngineError

__all__ = ["numerical_gradient", "numerical_gradient_array", "relative_error"]


def _check(x: np.ndarray) -> None:
    if x.dtype != np.float64:
        raise EngineError(
            f"gradient checks need float64 arrays, got {x.dtype}",
            hint="cast inputs and parameters with .astype(np.float64)",
        )


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """``df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)`` for every element of ``x``.

    ``f`` takes no arguments and reads ``x`` (by closure); each element of
    ``x`` is perturbed in place and restored, so ``x`` ends unchanged.
    Returns an array of x's shape.
    """
    _check(x)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)  # views: x must be contiguous
    if not np.shares_memory(flat, x):
        raise EngineError("numerical_gradient needs a contiguous x")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = float(f())
        flat[i] = old - h
        minus = float(f())
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_array(
    f: Callable[[], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Numerical gradient of ``sum(f() * dout)`` with respect to ``x``.

    This is what a backward pass given upstream gradient ``dout`` must return
    for the input ``x`` of an op ``f``.
    """
    _check(dout)
    return numerical_gradient(lambda: float(np.sum(f() * dout)), x, h)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|)`` (elementwise, then the max)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise EngineError(f"relative_error of different shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
