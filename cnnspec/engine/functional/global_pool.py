"""Global average pooling and PyTorch's adaptive average pooling, NCHW.

Room: ``cnnspec/engine``; imports NumPy, :mod:`cnnspec.errors` and
:mod:`cnnspec.engine.im2col` only.

Named dims: N, C, H, W (input), ``out_h``, ``out_w``. No per-pixel loops: the
adaptive bins are separable, so pooling is two small matrix products.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from cnnspec.engine.im2col import as_pair
from cnnspec.errors import EngineError

__all__ = [
    "AdaptiveAvgPool2dCache",
    "GlobalAvgPoolCache",
    "adaptive_avg_pool2d_backward",
    "adaptive_avg_pool2d_forward",
    "adaptive_avg_pool2d_forward_naive",
    "global_avg_pool_backward",
    "global_avg_pool_forward",
]


class GlobalAvgPoolCache(NamedTuple):
    """x_shape : (N, C, H, W)."""

    x_shape: tuple[int, int, int, int]


def global_avg_pool_forward(x: np.ndarray) -> tuple[np.ndarray, GlobalAvgPoolCache]:
    """``out[n, c, 0, 0] = mean_{h,w} x[n, c, h, w]``; out : (N, C, 1, 1)."""
    if x.ndim != 4:
        raise EngineError(f"global average pooling expects (N, C, H, W), got {x.shape}")
    return x.mean(axis=(2, 3), keepdims=True), GlobalAvgPoolCache(x.shape)


def global_avg_pool_backward(dout: np.ndarray, cache: GlobalAvgPoolCache) -> np.ndarray:
    """dx : (N, C, H, W) = dout / (H*W) broadcast over each map."""
    n, c, h, w = cache.x_shape
    return np.broadcast_to(dout / (h * w), (n, c, h, w)).copy()


class AdaptiveAvgPool2dCache(NamedTuple):
    """a_h : (out_h, H), a_w : (out_w, W) averaging matrices; x_shape."""

    a_h: np.ndarray
    a_w: np.ndarray
    x_shape: tuple[int, int, int, int]


def _bins(size: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(n_out)
    return (i * size) // n_out, -((-(i + 1) * size) // n_out)  # floor, ceil


def _averaging_matrix(size: int, n_out: int, dtype: np.dtype) -> np.ndarray:
    start, end = _bins(size, n_out)
    pos = np.arange(size)
    inside = (pos >= start[:, None]) & (pos < end[:, None])  # (n_out, size)
    return (inside / (end - start)[:, None]).astype(dtype)


def adaptive_avg_pool2d_forward(
    x: np.ndarray, output_size: int | Sequence[int]
) -> tuple[np.ndarray, AdaptiveAvgPool2dCache]:
    """PyTorch's adaptive average pooling.

    Bin ``i`` of ``out_h`` covers rows ``floor(i*H/out_h)`` to
    ``ceil((i+1)*H/out_h) - 1`` (bins may overlap); columns likewise. The bins
    are separable, so ``out = A_h @ x @ A_w^T`` with averaging matrices
    A_h (out_h, H) and A_w (out_w, W).

    Returns out : (N, C, out_h, out_w) and :class:`AdaptiveAvgPool2dCache`.
    """
    if x.ndim != 4:
        raise EngineError(f"adaptive average pooling expects (N, C, H, W), got {x.shape}")
    out_h, out_w = as_pair(output_size, "output_size")
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
    a_h = _averaging_matrix(x.shape[2], out_h, dtype)
    a_w = _averaging_matrix(x.shape[3], out_w, dtype)
    out = a_h @ (x @ a_w.T)  # (N, C, H, out_w) -> (N, C, out_h, out_w)
    return out, AdaptiveAvgPool2dCache(a_h, a_w, x.shape)


def adaptive_avg_pool2d_backward(dout: np.ndarray, cache: AdaptiveAvgPool2dCache) -> np.ndarray:
    """dx : (N, C, H, W) = A_h^T @ dout @ A_w."""
    return cache.a_h.T @ (dout @ cache.a_w)  # (N, C, out_h, W) -> (N, C, H, W)


def adaptive_avg_pool2d_forward_naive(
    x: np.ndarray, output_size: int | Sequence[int]
) -> np.ndarray:
    """Loop twin of :func:`adaptive_avg_pool2d_forward` (forward only). Test oracle."""
    out_h, out_w = as_pair(output_size, "output_size")
    n, c, h, w = x.shape
    out = np.empty((n, c, out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        r0, r1 = (i * h) // out_h, -((-(i + 1) * h) // out_h)
        for j in range(out_w):
            c0, c1 = (j * w) // out_w, -((-(j + 1) * w) // out_w)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return out
