"""Element-wise activations of the table: forward/backward pairs and the pair table.

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` only.

Every forward takes ``x`` of any shape (and the activation's settings as
keywords) and returns ``(out, cache)``; every backward takes ``(dout, cache)``
and returns ``dx`` of ``x``'s shape as a new array. Each cache is an
:class:`ElementwiseCache` holding the input and the settings, so backward
evaluates ``f'(x)``. At a kink the derivative is PyTorch's choice: ReLU6 and
Hardsigmoid take 0 at both ends of their slope, Hardswish 0 at -3 and 1 at 3,
LeakyReLU and ELU the negative piece at 0.

:data:`ELEMENTWISE` maps each activation ``kind`` to its pair; PReLU, which
learns its slopes, has its own pair (``prelu_forward``/``prelu_backward``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from cnnspec.errors import EngineError

SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))
GELU_CUBIC = 0.044715


class ElementwiseCache(NamedTuple):
    """x : the forward input; settings : the activation's keyword settings."""

    x: np.ndarray
    settings: dict[str, Any]


class PreluCache(NamedTuple):
    """x : the input (N, C, ...) or (N, C); a : the slopes, shape (1,) or (C,)."""

    x: np.ndarray
    a: np.ndarray


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))`` computed as ``max(x, 0) + log1p(exp(-|x|))`` (no overflow)."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def erf(x: np.ndarray) -> np.ndarray:
    """``erf(x)`` element-wise, to float64 precision, without SciPy.

    ``|x| <= 2``: the Taylor series ``2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))``;
    ``|x| > 2``: ``1 - erfc(|x|)`` with ``erfc(x) = exp(-x^2)/sqrt(pi) / (x + 1/2/(x + 1/(x
    + 3/2/(x + ...))))``, the continued fraction evaluated from its 60th term back.
    """
    x64 = np.asarray(x, dtype=np.float64)
    a = np.abs(x64)
    out = np.empty_like(x64)
    small = a <= 2.0
    xs = x64[small]
    term = xs.copy()
    total = xs.copy()
    x2 = xs * xs
    for n in range(1, 60):  # |x| <= 2: the terms fall below 1e-17 by n ~ 35
        term *= x2
        term *= -1.0 / n
        total += term / (2 * n + 1)
        if n % 8 == 0 and (term.size == 0 or np.abs(term).max() < 1e-17):
            break
    out[small] = total * (2.0 / np.sqrt(np.pi))
    big = ~small
    xb = a[big]
    # erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz, backwards)
    frac = np.zeros_like(xb)
    for k in range(60, 0, -1):
        frac = (k / 2.0) / (xb + frac)
    erfc = np.exp(-xb * xb) / np.sqrt(np.pi) / (xb + frac)
    out[big] = np.sign(x64[big]) * (1.0 - erfc)
    return out.astype(x.dtype, copy=False)


def _pair(forward: Callable[..., np.ndarray], derivative: Callable[..., np.ndarray]):
    """A ``(forward, backward)`` pair from ``f(x, **settings)`` and ``f'(x, **settings)``."""

    def run_forward(x: np.ndarray, **settings: Any) -> tuple[np.ndarray, ElementwiseCache]:
        return forward(x, **settings).astype(x.dtype, copy=False), ElementwiseCache(x, settings)

    def run_backward(dout: np.ndarray, cache: ElementwiseCache) -> np.ndarray:
        return (dout * derivative(cache.x, **cache.settings)).astype(dout.dtype, copy=False)

    run_forward.__doc__ = forward.__doc__
    run_backward.__doc__ = derivative.__doc__
    return run_forward, run_backward


# -- the formulas: f and f' ------------------------------------------------------------------
def relu6(x: np.ndarray) -> np.ndarray:
    """``out = min(max(0, x), 6)``."""
    return np.clip(x, 0, 6)


def relu6_grad(x: np.ndarray) -> np.ndarray:
    """``d/dx = 1 for 0 < x < 6, else 0``."""
    return ((x > 0) & (x < 6)).astype(x.dtype)


def leaky_relu(x: np.ndarray, slope: float) -> np.ndarray:
    """``out = x if x > 0 else slope * x``."""
    return np.where(x > 0, x, x * slope)


def leaky_relu_grad(x: np.ndarray, slope: float) -> np.ndarray:
    """``d/dx = 1 if x > 0 else slope``."""
    return np.where(x > 0, 1.0, slope).astype(x.dtype)


def elu(x: np.ndarray, alpha: float) -> np.ndarray:
    """``out = x if x > 0 else alpha * (exp(x) - 1)``."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def elu_grad(x: np.ndarray, alpha: float) -> np.ndarray:
    """``d/dx = 1 if x > 0 else alpha * exp(x)``."""
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)


def silu(x: np.ndarray) -> np.ndarray:
    """``out = x * sigmoid(x)`` (SiLU, also called Swish)."""
    return x * _sigmoid(x)


def silu_grad(x: np.ndarray) -> np.ndarray:
    """``d/dx = s + x * s * (1 - s)`` with ``s = sigmoid(x)``."""
    s = _sigmoid(x)
    return s * (1 + x * (1 - s))


def gelu(x: np.ndarray, approximate: str) -> np.ndarray:
    """``out = x/2 * (1 + erf(x / sqrt 2))``; tanh form ``x/2 * (1 + tanh(u))``,
    ``u = sqrt(2/pi) * (x + 0.044715 x^3)``."""
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x ** 3)))
    return 0.5 * x * (1 + erf(x / np.sqrt(2.0)))


def gelu_grad(x: np.ndarray, approximate: str) -> np.ndarray:
    """``d/dx = Phi(x) + x * phi(x)`` (``phi`` the normal density); tanh form
    ``(1 + t)/2 + x/2 * (1 - t^2) * sqrt(2/pi) * (1 + 3 * 0.044715 x^2)``, ``t = tanh(u)``."""
    if approximate == "tanh":
        t = np.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x ** 3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * \
            (1 + 3 * GELU_CUBIC * x * x)
    cdf = 0.5 * (1 + erf(x / np.sqrt(2.0)))
    return cdf + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def hardsigmoid(x: np.ndarray) -> np.ndarray:
    """``out = min(max(x + 3, 0), 6) / 6``."""
    return np.clip(x + 3, 0, 6) / 6


def hardsigmoid_grad(x: np.ndarray) -> np.ndarray:
    """``d/dx = 1/6 for -3 < x < 3, else 0``."""
    return np.where((x > -3) & (x < 3), 1 / 6, 0.0).astype(x.dtype)


def hardswish(x: np.ndarray) -> np.ndarray:
    """``out = x * min(max(x + 3, 0), 6) / 6``."""
    return x * np.clip(x + 3, 0, 6) / 6


def hardswish_grad(x: np.ndarray) -> np.ndarray:
    """``d/dx = 0 for x <= -3; (2x + 3)/6 for -3 < x < 3; 1 for x >= 3``."""
    return np.where(x <= -3, 0.0, np.where(x >= 3, 1.0, (2 * x + 3) / 6)).astype(x.dtype)


def mish(x: np.ndarray) -> np.ndarray:
    """``out = x * tanh(softplus(x))``."""
    return x * np.tanh(_softplus(x))


def mish_grad(x: np.ndarray) -> np.ndarray:
    """``d/dx = t + x * (1 - t^2) * sigmoid(x)`` with ``t = tanh(softplus(x))``."""
    t = np.tanh(_softplus(x))
    return t + x * (1 - t * t) * _sigmoid(x)


def softplus(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    """``out = log(1 + exp(beta * x)) / beta``, and ``x`` where ``beta * x > threshold``."""
    bx = beta * x
    return np.where(bx > threshold, x, _softplus(bx) / beta)


def softplus_grad(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    """``d/dx = sigmoid(beta * x)``, and 1 where ``beta * x > threshold``."""
    bx = beta * x
    return np.where(bx > threshold, 1.0, _sigmoid(bx)).astype(x.dtype)


ELEMENTWISE: dict[str, tuple[Callable[..., Any], Callable[..., np.ndarray]]] = {
    "relu6": _pair(relu6, relu6_grad),
    "leaky_relu": _pair(leaky_relu, leaky_relu_grad),
    "elu": _pair(elu, elu_grad),
    "silu": _pair(silu, silu_grad),
    "gelu": _pair(gelu, gelu_grad),
    "hardswish": _pair(hardswish, hardswish_grad),
    "hardsigmoid": _pair(hardsigmoid, hardsigmoid_grad),
    "mish": _pair(mish, mish_grad),
    "softplus": _pair(softplus, softplus_grad),
}
"""kind -> ``(forward(x, **settings) -> (out, cache), backward(dout, cache) -> dx)``."""


def elementwise_forward(kind: str, x: np.ndarray, **settings: Any
                        ) -> tuple[np.ndarray, ElementwiseCache]:
    """``out = f(x)`` for the activation ``kind`` of :data:`ELEMENTWISE`."""
    if kind not in ELEMENTWISE:
        raise EngineError(f"no element-wise activation {kind!r}",
                          hint="use one of " + ", ".join(sorted(ELEMENTWISE)))
    return ELEMENTWISE[kind][0](x, **settings)


def elementwise_backward(kind: str, dout: np.ndarray, cache: ElementwiseCache) -> np.ndarray:
    """``dx = dout * f'(x)`` for the activation ``kind``."""
    return ELEMENTWISE[kind][1](dout, cache)


def prelu_forward(x: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, PreluCache]:
    """``out = x if x > 0 else a_c * x`` with ``a`` of shape (1,) (shared) or (C,).

    ``x`` is (N, C, H, W) or (N, C); ``a`` broadcasts over every axis but C.
    """
    if a.shape not in ((1,), (x.shape[1],)):
        raise EngineError(f"PReLU slopes have shape {a.shape}; the input has {x.shape[1]} "
                          "channels", hint="give 1 slope or one per channel")
    slopes = a.reshape((1, -1) + (1,) * (x.ndim - 2))  # (1, C or 1, 1, 1)
    return np.where(x > 0, x, slopes * x).astype(x.dtype, copy=False), PreluCache(x, a)


def prelu_backward(dout: np.ndarray, cache: PreluCache) -> tuple[np.ndarray, np.ndarray]:
    """``dx = dout if x > 0 else a_c * dout``; ``da_c = sum over x <= 0 of dout * x``.

    A shared slope sums ``da`` over the channels too.
    """
    x, a = cache
    slopes = a.reshape((1, -1) + (1,) * (x.ndim - 2))
    negative = x <= 0
    dx = np.where(negative, slopes * dout, dout).astype(dout.dtype, copy=False)
    axes = (0, *range(2, x.ndim))
    da = np.sum(np.where(negative, dout * x, 0), axis=axes)  # (C,)
    if a.shape == (1,):
        da = da.sum(keepdims=True)
    return dx, da.astype(a.dtype, copy=False)
