"""Element-wise activations and softmax.

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` only.

Every forward takes an array of any shape and returns ``(out, cache)``; every
backward takes ``(dout, cache)`` and returns ``dx`` of the same shape as a new
array (``dout`` is never modified).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnspec.errors import EngineError

__all__ = [
    "LeakyReluCache",
    "OutCache",
    "ReluCache",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_backward",
    "softmax_forward",
    "tanh_backward",
    "tanh_forward",
]


class ReluCache(NamedTuple):
    """out : the forward output ``max(0, x)``; ``out > 0`` exactly where ``x > 0``."""

    out: np.ndarray


class LeakyReluCache(NamedTuple):
    """positive : bool mask ``x > 0``; negative_slope : the slope for x <= 0."""

    positive: np.ndarray
    negative_slope: float


class OutCache(NamedTuple):
    """out : the forward output (sigmoid, tanh and softmax derive from it); axis."""

    out: np.ndarray
    axis: int = -1


def relu_forward(x: np.ndarray, out: np.ndarray | None = None) -> tuple[np.ndarray, ReluCache]:
    """``out = max(0, x)`` (NaN stays NaN, as in PyTorch).

    The cache keeps ``out`` itself rather than a separate mask: one array
    less to allocate, and ``out > 0`` is the mask ``x > 0``. ``out=x``
    computes in place, for an ``x`` that nothing else reads afterwards.
    """
    out = np.maximum(x, x.dtype.type(0), out=out)
    return out, ReluCache(out)


def relu_backward(dout: np.ndarray, cache: ReluCache) -> np.ndarray:
    """``dx = dout * [x > 0]`` (the subgradient at 0 is taken as 0, like PyTorch).

    A multiply by the boolean mask (several times faster than ``np.where``);
    the product keeps ``dout``'s dtype. Only a non-finite ``dout`` where
    ``x <= 0`` differs from a select (``inf * 0`` is NaN).
    """
    return dout * (cache.out > 0)


def leaky_relu_forward(
    x: np.ndarray, negative_slope: float = 0.01
) -> tuple[np.ndarray, LeakyReluCache]:
    """``out = x if x > 0 else negative_slope * x``."""
    if negative_slope < 0:
        raise EngineError(f"negative_slope must be >= 0, got {negative_slope}")
    positive = x > 0
    out = np.where(positive, x, x * x.dtype.type(negative_slope))
    return out, LeakyReluCache(positive, negative_slope)


def leaky_relu_backward(dout: np.ndarray, cache: LeakyReluCache) -> np.ndarray:
    """``dx = dout if x > 0 else negative_slope * dout``."""
    return np.where(cache.positive, dout, dout * dout.dtype.type(cache.negative_slope))


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, OutCache]:
    """``out = 1 / (1 + exp(-x))``, computed without overflow for large |x|."""
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
    return out, OutCache(out)


def sigmoid_backward(dout: np.ndarray, cache: OutCache) -> np.ndarray:
    """``dx = dout * s (1 - s)`` with ``s`` the forward output."""
    s = cache.out
    return dout * s * (1 - s)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, OutCache]:
    """``out = tanh(x)``."""
    out = np.tanh(x)
    return out, OutCache(out)


def tanh_backward(dout: np.ndarray, cache: OutCache) -> np.ndarray:
    """``dx = dout * (1 - tanh(x)^2)``."""
    return dout * (1 - cache.out * cache.out)


def softmax_forward(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, OutCache]:
    """Numerically stable softmax along ``axis``.

    ``y_k = exp(x_k - max_j x_j) / sum_j exp(x_j - max_j x_j)``; subtracting
    the maximum changes nothing mathematically and keeps ``exp`` <= 1.
    For logits (N, K) use ``axis=-1``.
    """
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    out = e / e.sum(axis=axis, keepdims=True)
    return out, OutCache(out, axis)


def softmax_backward(dout: np.ndarray, cache: OutCache) -> np.ndarray:
    """``dx_k = y_k (dout_k - sum_j dout_j y_j)`` along the softmax axis."""
    y, axis = cache
    return y * (dout - np.sum(dout * y, axis=axis, keepdims=True))
