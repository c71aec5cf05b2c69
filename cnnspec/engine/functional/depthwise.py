"""Depthwise convolution (``groups = C = F``): one HH x WW filter per channel.

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` only.

Named dims: N (batch), C (channels, = F filters), H, W (input), HH, WW
(kernel), ``out_h``, ``out_w``. Layout NCHW, weights (C, 1, HH, WW) as
PyTorch stores a depthwise ``Conv2d``; dilation 1 is a dense kernel.

    out[n, c, i, j] = b[c] + sum_{p, q} w[c, 0, p, q] * xp[n, c, i*SH + p*DH, j*SW + q*DW]
    out_h = (H + top + bottom - DH*(HH - 1) - 1) // SH + 1   (out_w alike)

The fast pair accumulates over the HH*WW kernel taps (a loop of 9 for 3x3),
each tap one vectorised multiply-add over all of N x C x out_h x out_w: no
im2col matrix and no loop over channels. ``depthwise_conv2d_*_naive`` is the
test oracle, a direct loop over every output value.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnspec.errors import EngineError


class DepthwiseCache(NamedTuple):
    """xp : the padded input (N, C, H + top + bottom, W + left + right); w : (C, 1, HH, WW);
    x_shape, stride, padding (top, bottom, left, right), dilation; has_bias."""

    xp: np.ndarray
    w: np.ndarray
    x_shape: tuple[int, ...]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    dilation: tuple[int, int]
    has_bias: bool


def _out_size(n: int, before: int, after: int, k: int, s: int, d: int) -> int:
    """``(n + before + after - d*(k - 1) - 1) // s + 1``."""
    return (n + before + after - d * (k - 1) - 1) // s + 1


def _tap(xp: np.ndarray, p: int, q: int, out_h: int, out_w: int, stride: tuple[int, int],
         dilation: tuple[int, int]) -> np.ndarray:
    """The view of ``xp`` that kernel tap (p, q) reads: (N, C, out_h, out_w)."""
    (sh, sw), (dh, dw) = stride, dilation
    top, left = p * dh, q * dw
    return xp[:, :, top:top + sh * (out_h - 1) + 1:sh, left:left + sw * (out_w - 1) + 1:sw]


def depthwise_conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
                             stride: tuple[int, int] = (1, 1),
                             padding: tuple[int, int, int, int] = (0, 0, 0, 0),
                             dilation: tuple[int, int] = (1, 1), pad_value: float = 0.0
                             ) -> tuple[np.ndarray, DepthwiseCache]:
    """``out`` (N, C, out_h, out_w) of the depthwise convolution, and its cache.

    x (N, C, H, W); w (C, 1, HH, WW); b (C,) or None; padding (top, bottom, left, right).
    """
    n, c, h, wid = x.shape
    if w.ndim != 4 or w.shape[:2] != (c, 1):
        raise EngineError(f"depthwise conv expects w of shape ({c}, 1, HH, WW), got {w.shape}")
    kh, kw = w.shape[2:]
    top, bottom, left, right = padding
    out_h = _out_size(h, top, bottom, kh, stride[0], dilation[0])
    out_w = _out_size(wid, left, right, kw, stride[1], dilation[1])
    if out_h < 1 or out_w < 1:
        raise EngineError(f"the {kh}x{kw} kernel does not fit the {h}x{wid} input")
    xp = x if not any(padding) else np.pad(
        x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=pad_value)
    out = np.zeros((n, c, out_h, out_w), dtype=np.result_type(x, w))
    scratch = np.empty_like(out)
    for p in range(kh):
        for q in range(kw):
            taps = w[:, 0, p, q].reshape(1, c, 1, 1)  # (1, C, 1, 1): one weight per channel
            np.multiply(_tap(xp, p, q, out_h, out_w, stride, dilation), taps, out=scratch)
            out += scratch
    if b is not None:
        out += b.reshape(1, c, 1, 1)
    return out, DepthwiseCache(xp, w, x.shape, stride, padding, dilation, b is not None)


def depthwise_conv2d_backward(dout: np.ndarray, cache: DepthwiseCache
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(dx, dw, db)``: per tap (p, q),
    ``dw[c, 0, p, q] = sum_{n, i, j} dout[n, c, i, j] * tap_pq[n, c, i, j]`` and
    ``dxp[tap_pq] += dout * w[c, 0, p, q]``; ``db[c] = sum_{n, i, j} dout``;
    dx is dxp without the padding."""
    xp, w, x_shape, stride, padding, dilation, has_bias = cache
    c, _, kh, kw = w.shape
    out_h, out_w = dout.shape[2:]
    dxp = np.zeros(xp.shape, dtype=dout.dtype)
    dw = np.empty_like(w)
    scratch = np.empty_like(dout)
    for p in range(kh):
        for q in range(kw):
            window = _tap(xp, p, q, out_h, out_w, stride, dilation)
            dw[:, 0, p, q] = np.einsum("nchw,nchw->c", dout, window)  # no temporary array
            np.multiply(dout, w[:, 0, p, q].reshape(1, c, 1, 1), out=scratch)
            _tap(dxp, p, q, out_h, out_w, stride, dilation)[...] += scratch
    top, left = padding[0], padding[2]
    h, wid = x_shape[2:]
    dx = dxp[:, :, top:top + h, left:left + wid]
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return (dx if dx.base is None else dx.copy()), dw, db


def depthwise_conv2d_forward_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                                   stride: tuple[int, int],
                                   padding: tuple[int, int, int, int],
                                   dilation: tuple[int, int]) -> np.ndarray:
    """The oracle: the formula of the module docstring, one output value at a time."""
    n, c, h, wid = x.shape
    kh, kw = w.shape[2:]
    top, bottom, left, right = padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    out_h = _out_size(h, top, bottom, kh, stride[0], dilation[0])
    out_w = _out_size(wid, left, right, kw, stride[1], dilation[1])
    out = np.zeros((n, c, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            rows = i * stride[0] + dilation[0] * np.arange(kh)
            cols = j * stride[1] + dilation[1] * np.arange(kw)
            patch = xp[:, :, rows][:, :, :, cols]  # (N, C, HH, WW)
            out[:, :, i, j] = np.sum(patch * w[:, 0][None], axis=(2, 3))
    if b is not None:
        out += b.reshape(1, c, 1, 1)
    return out
