"""LeNet-5's trainable subsampling (LeCun et al. 1998), NCHW.

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` only.

Each channel c has one weight and one bias::

    out[n, c, oh, ow] = w[c] * sum_{i, j < s} x[n, c, oh*s + i, ow*s + j] + b[c]

with ``s = size`` (2 in LeNet), non-overlapping blocks, and
``out_h = H // s`` (a last incomplete row/column of blocks is dropped, as
in floor-mode pooling). LeNet follows it with a sigmoid (or scaled tanh).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnspec.errors import EngineError

__all__ = ["SubsampleCache", "subsample_backward", "subsample_forward", "subsample_forward_naive"]


class SubsampleCache(NamedTuple):
    """block_sum : (N, C, out_h, out_w) sum of each block; w : (C,); x_shape; size."""

    block_sum: np.ndarray
    w: np.ndarray
    x_shape: tuple[int, int, int, int]
    size: int


def _check(x: np.ndarray, w: np.ndarray, b: np.ndarray, size: int) -> tuple[int, int]:
    if x.ndim != 4:
        raise EngineError(f"subsampling expects (N, C, H, W), got {x.shape}")
    c = x.shape[1]
    if w.shape != (c,) or b.shape != (c,):
        raise EngineError(
            f"subsampling weight and bias must have shape ({c},), got {w.shape} and {b.shape}"
        )
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise EngineError(f"subsampling size must be a positive int, got {size!r}")
    out_h, out_w = x.shape[2] // size, x.shape[3] // size
    if out_h < 1 or out_w < 1:
        raise EngineError(f"input {x.shape[2]}x{x.shape[3]} is smaller than a {size}x{size} block")
    return out_h, out_w


def subsample_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, *, size: int = 2
) -> tuple[np.ndarray, SubsampleCache]:
    """Trainable subsampling forward.

    Parameters
    ----------
    x : (N, C, H, W);  w, b : (C,);  size : block side s.

    Returns
    -------
    out : (N, C, H//s, W//s);  cache : :class:`SubsampleCache`.
    """
    out_h, out_w = _check(x, w, b, size)
    n, c = x.shape[:2]
    blocks = x[:, :, : out_h * size, : out_w * size].reshape(
        n, c, out_h, size, out_w, size
    )  # (N, C, out_h, s, out_w, s)
    block_sum = blocks.sum(axis=(3, 5))  # (N, C, out_h, out_w)
    out = block_sum * w[None, :, None, None] + b[None, :, None, None]
    return out, SubsampleCache(block_sum, w, x.shape, size)


def subsample_backward(
    dout: np.ndarray, cache: SubsampleCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trainable subsampling backward.

    Returns
    -------
    dx : (N, C, H, W), ``w[c] * dout`` copied to every cell of its block
        (0 in dropped rows/columns);
    dw : (C,) = sum of ``dout * block_sum``;  db : (C,) = sum of ``dout``.
    """
    block_sum, w, x_shape, s = cache
    n, c, out_h, out_w = dout.shape
    dw = np.einsum("nchw,nchw->c", dout, block_sum)
    db = dout.sum(axis=(0, 2, 3))
    g = dout * w[None, :, None, None]  # (N, C, out_h, out_w)
    dx = np.zeros(x_shape, dtype=g.dtype)
    blocks = dx[:, :, : out_h * s, : out_w * s].reshape(n, c, out_h, s, out_w, s)  # a view
    blocks[...] = g[:, :, :, None, :, None]  # (N, C, out_h, 1, out_w, 1) broadcast
    return dx, dw, db


def subsample_forward_naive(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, *, size: int = 2
) -> np.ndarray:
    """Loop twin of :func:`subsample_forward` (forward only); test oracle."""
    out_h, out_w = _check(x, w, b, size)
    n, c = x.shape[:2]
    out = np.empty((n, c, out_h, out_w), dtype=np.result_type(x, w, b))
    for i in range(n):
        for k in range(c):
            for oh in range(out_h):
                for ow in range(out_w):
                    block = x[i, k, oh * size : (oh + 1) * size, ow * size : (ow + 1) * size]
                    out[i, k, oh, ow] = w[k] * block.sum() + b[k]
    return out
