"""Max and average pooling with kernel, stride, padding, dilation and ceil_mode, NCHW.

Room: ``cnnspec/engine``; imports NumPy, :mod:`cnnspec.errors` and
:mod:`cnnspec.engine.im2col` only.

Named dims: N, C, H, W (input), HH, WW (kernel), ``out_h``, ``out_w``.
Pooling has no weights. Stride defaults to the kernel size. Output size::

    out_h = floor_or_ceil((H + top + bottom - dh*(HH-1) - 1) / sh) + 1

and, with ``ceil_mode=True``, a last window that would start at or past
``H + top`` (entirely in the bottom padding or past the input) is dropped,
exactly as PyTorch does. Each padding side must be at most half the kernel
(PyTorch's rule), so every window holds at least one input element.

The fast kernels loop over the HH*WW kernel offsets only, never over pixels;
the ``*_naive`` twins loop over every output element and are test oracles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from cnnspec.engine.im2col import (
    IntPair,
    Padding4,
    as_padding,
    as_pair,
    pad_nchw,
    sliding_windows,
)
from cnnspec.errors import EngineError

__all__ = [
    "AvgPool2dCache",
    "MaxPool2dCache",
    "PoolGeometry",
    "avg_pool2d_backward",
    "avg_pool2d_backward_naive",
    "avg_pool2d_forward",
    "avg_pool2d_forward_naive",
    "max_pool2d_backward",
    "max_pool2d_backward_naive",
    "max_pool2d_forward",
    "max_pool2d_forward_naive",
    "pool_geometry",
]


class PoolGeometry(NamedTuple):
    """Normalised pooling settings and sizes.

    ``padding`` is what the user asked for; ``extra_h``/``extra_w`` are the
    additional bottom/right cells that ``ceil_mode`` windows reach into.
    """

    x_shape: tuple[int, int, int, int]
    kernel: IntPair
    stride: IntPair
    padding: Padding4
    dilation: IntPair
    out_h: int
    out_w: int
    extra_h: int
    extra_w: int

    @property
    def full_padding(self) -> Padding4:
        """(top, bottom + extra_h, left, right + extra_w)."""
        top, bottom, left, right = self.padding
        return top, bottom + self.extra_h, left, right + self.extra_w

    @property
    def tiles(self) -> bool:
        """True when the windows cover the padded input exactly once (a tiling, no gaps).

        Stride equals the kernel, dilation is 1 and the windows reach the last row and
        column: e.g. 2x2 pooling with stride 2 of an even-sized map.
        """
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        _, _, hp, wp = self.padded_shape()
        return (sh, sw) == (kh, kw) and (dh, dw) == (1, 1) and \
            (self.out_h * sh, self.out_w * sw) == (hp, wp)

    @property
    def disjoint(self) -> bool:
        """True when no input cell lies in two windows (stride >= dilated kernel)."""
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        return sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1

    def offsets(self) -> list[tuple[int, int]]:
        """Kernel offsets (i, j) in row-major order (index k = i*WW + j)."""
        return [(i, j) for i in range(self.kernel[0]) for j in range(self.kernel[1])]

    def plane(self, i: int, j: int) -> tuple[slice, slice, slice, slice]:
        """Index of offset (i, j)'s (N, C, out_h, out_w) plane in the padded input."""
        (sh, sw), (dh, dw) = self.stride, self.dilation
        r0, c0 = i * dh, j * dw
        return (
            slice(None),
            slice(None),
            slice(r0, r0 + sh * (self.out_h - 1) + 1, sh),
            slice(c0, c0 + sw * (self.out_w - 1) + 1, sw),
        )

    def padded_shape(self) -> tuple[int, int, int, int]:
        n, c, h, w = self.x_shape
        top, bottom, left, right = self.full_padding
        return n, c, h + top + bottom, w + left + right

    def crop(self, xp: np.ndarray) -> np.ndarray:
        """The (N, C, H, W) interior of a padded array: ``xp`` itself when it has no
        padding, else a new array in ``xp``'s memory order."""
        _, _, h, w = self.x_shape
        if xp.shape[2:] == (h, w):
            return xp
        top, _, left, _ = self.padding
        return xp[:, :, top : top + h, left : left + w].copy(order="K")


def _pool_length(size: int, k: int, s: int, p0: int, p1: int, d: int, ceil_mode: bool) -> int:
    span = size + p0 + p1 - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p0:
        out -= 1  # the last window would start past the input: PyTorch drops it
    return out


def pool_geometry(
    x: np.ndarray,
    kernel: int | Sequence[int],
    stride: int | Sequence[int] | None,
    padding: int | Sequence[int],
    dilation: int | Sequence[int],
    ceil_mode: bool,
) -> PoolGeometry:
    """Validate pooling settings for ``x`` and compute the output size."""
    if x.ndim != 4:
        raise EngineError(f"pooling expects x of shape (N, C, H, W), got {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise EngineError(f"pooling expects a floating-point input, got {x.dtype}")
    k = as_pair(kernel, "kernel")
    s = k if stride is None else as_pair(stride, "stride")
    p = as_padding(padding)
    d = as_pair(dilation, "dilation")
    if p[0] > k[0] // 2 or p[1] > k[0] // 2 or p[2] > k[1] // 2 or p[3] > k[1] // 2:
        raise EngineError(
            f"pooling padding {p} is more than half the kernel {k}",
            hint="a window could then lie entirely in the padding (PyTorch forbids it too)",
        )
    _, _, h, w = x.shape
    out_h = _pool_length(h, k[0], s[0], p[0], p[1], d[0], ceil_mode)
    out_w = _pool_length(w, k[1], s[1], p[2], p[3], d[1], ceil_mode)
    if out_h < 1 or out_w < 1:
        raise EngineError(f"input {h}x{w} is too small for a {k[0]}x{k[1]} pooling window")
    extra_h = max(0, (out_h - 1) * s[0] + d[0] * (k[0] - 1) + 1 - (h + p[0] + p[1]))
    extra_w = max(0, (out_w - 1) * s[1] + d[1] * (k[1] - 1) + 1 - (w + p[2] + p[3]))
    return PoolGeometry(x.shape, k, s, p, d, out_h, out_w, extra_h, extra_w)


# --------------------------------------------------------------------------- max


class MaxPool2dCache(NamedTuple):
    """idx : (N, C, out_h, out_w) row-major kernel offset of each maximum (``None``
    from an inference pass, which does not track it); geom."""

    idx: np.ndarray | None
    geom: PoolGeometry


def max_pool2d_forward(
    x: np.ndarray,
    kernel: int | Sequence[int],
    *,
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    need_index: bool = True,
) -> tuple[np.ndarray, MaxPool2dCache]:
    """Max pooling: ``out[n, c, oh, ow] = max_{i,j} xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]``.

    Parameters
    ----------
    x : (N, C, H, W) floating input; padding is filled with -inf.
    kernel : HH or (HH, WW); stride defaults to the kernel.
    padding : int, (ph, pw) or (top, bottom, left, right); dilation : int or pair.
    ceil_mode : round the output size up (see the module docstring).
    need_index : False (inference) skips tracking where each maximum was: the
        cache then cannot serve a backward pass.

    Returns
    -------
    out : (N, C, out_h, out_w).
    cache : :class:`MaxPool2dCache`; on ties the first maximum in row-major
        window order wins (as PyTorch's CPU kernel).
    """
    g = pool_geometry(x, kernel, stride, padding, dilation, ceil_mode)
    xp = pad_nchw(x, g.full_padding, -np.inf)
    win = sliding_windows(xp, g.kernel, g.stride, g.dilation, g.out_h, g.out_w)
    if not need_index:
        return _max_separable(xp, g), MaxPool2dCache(None, g)
    out = win[:, :, 0, 0].copy(order="K")  # (N, C, out_h, out_w) in x's memory order
    n_offsets = g.kernel[0] * g.kernel[1]
    idx = np.zeros_like(out, dtype=np.min_scalar_type(n_offsets))
    mask = np.empty_like(out, dtype=bool)
    step = np.empty_like(idx)
    for k, (i, j) in enumerate(g.offsets()[1:], start=1):
        plane = win[:, :, i, j]
        np.greater(plane, out, out=mask)  # strict: earlier offsets win ties
        # idx = k where mask, written as idx += mask * (k - idx): plain arithmetic
        # is several times faster than a masked copy (0 <= idx < k, no underflow).
        np.subtract(idx.dtype.type(k), idx, out=step)
        step *= mask
        idx += step
        np.maximum(out, plane, out=out)
    return out, MaxPool2dCache(idx, g)


def _max_separable(xp: np.ndarray, g: PoolGeometry) -> np.ndarray:
    """``out = max_j max_i xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]``: rows first, then columns.

    The maximum over a rectangle is the maximum over its rows of the maximum over its
    columns, so HH + WW - 2 elementwise passes replace HH*WW - 1, and the first HH - 1
    read whole contiguous rows. No index of the maxima is kept (inference).
    xp : (N, C, Hp, Wp) padded input; returns (N, C, out_h, out_w).
    """
    (kh, kw), (sh, sw), (dh, dw) = g.kernel, g.stride, g.dilation
    h_span, w_span = sh * (g.out_h - 1) + 1, sw * (g.out_w - 1) + 1
    rows = xp[:, :, 0:h_span:sh, :].copy(order="K")  # (N, C, out_h, Wp)
    for i in range(1, kh):
        np.maximum(rows, xp[:, :, i * dh : i * dh + h_span : sh, :], out=rows)
    out = rows[:, :, :, 0:w_span:sw].copy(order="K")  # (N, C, out_h, out_w)
    for j in range(1, kw):
        np.maximum(out, rows[:, :, :, j * dw : j * dw + w_span : sw], out=out)
    return out


def max_pool2d_backward(dout: np.ndarray, cache: MaxPool2dCache) -> np.ndarray:
    """Route each ``dout`` entry to the input element that was the maximum.

    Returns dx : (N, C, H, W); overlapping windows add up.
    """
    idx, g = cache
    if idx is None:
        raise EngineError("this max-pool cache comes from an inference pass",
                          hint="run max_pool2d_forward with need_index=True before backward")
    # A tiling writes every cell below exactly once: no zero fill needed.
    make = np.empty if g.tiles else np.zeros
    n, c, hp, wp = g.padded_shape()
    if abs(dout.strides[0]) < abs(dout.strides[1]):  # keep a (C, N, ., .) memory order
        dxp = make((c, n, hp, wp), dtype=dout.dtype).transpose(1, 0, 2, 3)
    else:
        dxp = make((n, c, hp, wp), dtype=dout.dtype)
    for k, (i, j) in enumerate(g.offsets()):
        routed = dout * (idx == k)  # (N, C, out_h, out_w); faster than np.where
        if g.disjoint:
            dxp[g.plane(i, j)] = routed  # windows do not overlap: no read needed
        else:
            dxp[g.plane(i, j)] += routed
    return g.crop(dxp)


# --------------------------------------------------------------------------- average


class AvgPool2dCache(NamedTuple):
    """divisor : (out_h, out_w) count each window is divided by; geom."""

    divisor: np.ndarray
    geom: PoolGeometry


def _avg_divisor(g: PoolGeometry, count_include_pad: bool, dtype: np.dtype) -> np.ndarray:
    """PyTorch's divisor: window clipped to the padded input, or to the input alone."""
    _, _, h, w = g.x_shape
    top, bottom, left, right = g.padding

    def counts(size: int, n_out: int, k: int, s: int, p0: int, p1: int) -> np.ndarray:
        start = np.arange(n_out) * s - p0
        end = np.minimum(start + k, size + p1)
        if count_include_pad:
            return end - start
        return np.minimum(end, size) - np.maximum(start, 0)

    ch = counts(h, g.out_h, g.kernel[0], g.stride[0], top, bottom)
    cw = counts(w, g.out_w, g.kernel[1], g.stride[1], left, right)
    return np.outer(ch, cw).astype(dtype)  # (out_h, out_w)


def avg_pool2d_forward(
    x: np.ndarray,
    kernel: int | Sequence[int],
    *,
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> tuple[np.ndarray, AvgPool2dCache]:
    """Average pooling: ``out = (sum of the window over xpad) / divisor``.

    Parameters
    ----------
    x : (N, C, H, W) floating input; padding is filled with 0.
    kernel, stride, padding, ceil_mode : as :func:`max_pool2d_forward` (no dilation).
    count_include_pad : PyTorch's default True divides by the window size
        clipped to the padded input (cells past it, reached only in
        ceil_mode, never count); False divides by the input cells only.

    Returns
    -------
    out : (N, C, out_h, out_w); cache : :class:`AvgPool2dCache`.
    """
    g = pool_geometry(x, kernel, stride, padding, 1, ceil_mode)
    xp = pad_nchw(x, g.full_padding, 0.0)
    win = sliding_windows(xp, g.kernel, g.stride, g.dilation, g.out_h, g.out_w)
    total = win[:, :, 0, 0].copy()  # (N, C, out_h, out_w)
    for i, j in g.offsets()[1:]:
        total += win[:, :, i, j]
    divisor = _avg_divisor(g, count_include_pad, x.dtype)
    total /= divisor
    return total, AvgPool2dCache(divisor, g)


def avg_pool2d_backward(dout: np.ndarray, cache: AvgPool2dCache) -> np.ndarray:
    """Spread ``dout / divisor`` evenly over each window. Returns dx : (N, C, H, W)."""
    divisor, g = cache
    share = dout / divisor  # new array; dout untouched
    dxp = np.zeros(g.padded_shape(), dtype=share.dtype)
    for i, j in g.offsets():
        dxp[g.plane(i, j)] += share
    return g.crop(dxp)


# --------------------------------------------------------------------------- naive twins


def _naive_windows(x: np.ndarray, g: PoolGeometry, fill: float) -> np.ndarray:
    top, bottom, left, right = g.full_padding
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)


def max_pool2d_forward_naive(
    x: np.ndarray,
    kernel: int | Sequence[int],
    *,
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
) -> tuple[np.ndarray, tuple[np.ndarray, PoolGeometry]]:
    """Loop twin of :func:`max_pool2d_forward`; cache is ``(x, geom)``. Test oracle only."""
    g = pool_geometry(x, kernel, stride, padding, dilation, ceil_mode)
    xp = _naive_windows(x, g, -np.inf)
    n, c, _, _ = x.shape
    out = np.empty((n, c, g.out_h, g.out_w), dtype=x.dtype)
    for a in range(n):
        for b in range(c):
            for oh in range(g.out_h):
                for ow in range(g.out_w):
                    out[a, b, oh, ow] = max(
                        xp[a, b, oh * g.stride[0] + i * g.dilation[0],
                           ow * g.stride[1] + j * g.dilation[1]]
                        for i, j in g.offsets()
                    )  # fmt: skip
    return out, (x, g)


def max_pool2d_backward_naive(
    dout: np.ndarray, cache: tuple[np.ndarray, PoolGeometry]
) -> np.ndarray:
    """Loop twin of :func:`max_pool2d_backward` (first maximum wins ties)."""
    x, g = cache
    xp = _naive_windows(x, g, -np.inf)
    dxp = np.zeros(xp.shape, dtype=dout.dtype)
    n, c, _, _ = x.shape
    for a in range(n):
        for b in range(c):
            for oh in range(g.out_h):
                for ow in range(g.out_w):
                    cells = [
                        (oh * g.stride[0] + i * g.dilation[0], ow * g.stride[1] + j * g.dilation[1])
                        for i, j in g.offsets()
                    ]
                    best = max(cells, key=lambda rc, a=a, b=b: xp[a, b, rc[0], rc[1]])
                    dxp[a, b, best[0], best[1]] += dout[a, b, oh, ow]
    return g.crop(dxp)


def avg_pool2d_forward_naive(
    x: np.ndarray,
    kernel: int | Sequence[int],
    *,
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> tuple[np.ndarray, tuple[np.ndarray, PoolGeometry, bool]]:
    """Loop twin of :func:`avg_pool2d_forward`, divisor computed per window. Test oracle only."""
    g = pool_geometry(x, kernel, stride, padding, 1, ceil_mode)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (top, bottom, left, right) = g.kernel, g.stride, g.padding
    out = np.empty((n, c, g.out_h, g.out_w), dtype=x.dtype)
    for oh in range(g.out_h):
        for ow in range(g.out_w):
            r0, c0 = oh * sh - top, ow * sw - left  # window start in input coordinates
            r1, c1 = min(r0 + kh, h + bottom), min(c0 + kw, w + right)
            rr0, cc0, rr1, cc1 = max(r0, 0), max(c0, 0), min(r1, h), min(c1, w)
            div = (r1 - r0) * (c1 - c0) if count_include_pad else (rr1 - rr0) * (cc1 - cc0)
            for a in range(n):
                for b in range(c):
                    out[a, b, oh, ow] = x[a, b, rr0:rr1, cc0:cc1].sum() / div
    return out, (x, g, count_include_pad)


def avg_pool2d_backward_naive(
    dout: np.ndarray, cache: tuple[np.ndarray, PoolGeometry, bool]
) -> np.ndarray:
    """Loop twin of :func:`avg_pool2d_backward`."""
    x, g, count_include_pad = cache
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (top, bottom, left, right) = g.kernel, g.stride, g.padding
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for oh in range(g.out_h):
        for ow in range(g.out_w):
            r0, c0 = oh * sh - top, ow * sw - left
            r1, c1 = min(r0 + kh, h + bottom), min(c0 + kw, w + right)
            rr0, cc0, rr1, cc1 = max(r0, 0), max(c0, 0), min(r1, h), min(c1, w)
            div = (r1 - r0) * (c1 - c0) if count_include_pad else (rr1 - rr0) * (cc1 - cc0)
            for a in range(n):
                for b in range(c):
                    dx[a, b, rr0:rr1, cc0:cc1] += dout[a, b, oh, ow] / div
    return dx
