"""Fully connected (affine) layer and flatten.

Room: ``cnnspec/engine``; imports NumPy, :mod:`cnnspec.errors` and
:mod:`cnnspec.engine.blas` (threads per product) only.

Named dims: N (batch), D (input features), M (output features).
The weight is stored (D, M) so the forward is ``x @ w``; PyTorch's
``nn.Linear.weight`` is (M, D), i.e. its transpose.

Flatten turns NCHW into (N, C*H*W) in C, H, W order (PyTorch's
``torch.flatten(x, 1)``): feature ``(c*H + h)*W + w``. A weight trained in
PyTorch after a flatten therefore loads here unchanged (after transposing).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnspec.engine.blas import matmul
from cnnspec.errors import EngineError

__all__ = [
    "FcCache",
    "FlattenCache",
    "fc_backward",
    "fc_forward",
    "flatten_backward",
    "flatten_forward",
]


class FcCache(NamedTuple):
    """x : (N, D) input; w : (D, M) weights; has_bias : whether b was given."""

    x: np.ndarray
    w: np.ndarray
    has_bias: bool


class FlattenCache(NamedTuple):
    """x_shape : the shape before flattening, e.g. (N, C, H, W)."""

    x_shape: tuple[int, ...]


def fc_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None
) -> tuple[np.ndarray, FcCache]:
    """Fully connected forward: ``out = x @ w + b``.

    Parameters
    ----------
    x : (N, D) input (flatten NCHW maps first with :func:`flatten_forward`).
    w : (D, M) weights.
    b : (M,) bias, or ``None``.

    Returns
    -------
    out : (N, M); cache : :class:`FcCache`.
    """
    if x.ndim != 2:
        raise EngineError(
            f"fc expects x of shape (N, D), got {x.shape}",
            hint="flatten (N, C, H, W) maps to (N, C*H*W) first",
        )
    if w.ndim != 2 or w.shape[0] != x.shape[1]:
        raise EngineError(f"fc weight must be ({x.shape[1]}, M), got {w.shape}")
    if b is not None and b.shape != (w.shape[1],):
        raise EngineError(f"fc bias must have shape ({w.shape[1]},), got {b.shape}")
    out = matmul(x, w)  # (N, M)
    if b is not None:
        out += b
    return out, FcCache(x, w, b is not None)


def fc_backward(
    dout: np.ndarray, cache: FcCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Fully connected backward.

    Returns
    -------
    dx : (N, D) = dout @ w^T;  dw : (D, M) = x^T @ dout;
    db : (M,) = sum over N of dout, or ``None`` without bias.
    """
    x, w, has_bias = cache
    dx = matmul(dout, w.T)  # (N, M) @ (M, D) -> (N, D)
    dw = matmul(x.T, dout)  # (D, N) @ (N, M) -> (D, M)
    db = dout.sum(axis=0) if has_bias else None
    return dx, dw, db


def flatten_forward(x: np.ndarray) -> tuple[np.ndarray, FlattenCache]:
    """``out[n, (c*H + h)*W + w] = x[n, c, h, w]``: (N, C, H, W) -> (N, C*H*W).

    Any (N, ...) input is flattened to (N, prod(...)) in C order. Returns a
    view when ``x`` is contiguous.
    """
    if x.ndim < 2:
        raise EngineError(f"flatten expects at least (N, D), got {x.shape}")
    return x.reshape(x.shape[0], -1), FlattenCache(x.shape)  # (N, C*H*W)


def flatten_backward(dout: np.ndarray, cache: FlattenCache) -> np.ndarray:
    """``dx = dout`` reshaped back to the input shape (a copy; dout is untouched)."""
    return dout.reshape(cache.x_shape).copy()  # (N, C, H, W)
