"""Resizing NCHW image batches and converting between grey and colour.

Room: engine (``cnnspec/engine/data``); imports NumPy and :mod:`cnnspec.errors` only.

Every size method is a pair of matrices: ``out = A_h @ x @ A_w.T`` per image and
channel, where ``A_h`` is ``(out_h, H)`` and ``A_w`` is ``(out_w, W)``. The methods:

* ``bilinear`` -- half-pixel centres: output pixel ``o`` samples the input at
  ``s = (o + 0.5) * H / out_h - 0.5`` (clamped to ``[0, H - 1]``) and mixes
  ``x[floor(s)]`` and ``x[floor(s) + 1]`` with weights ``1 - frac(s)`` and ``frac(s)``.
  This is ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)``.
  Shrinking this way skips pixels (aliasing); use ``area`` to shrink.
* ``nearest`` -- ``x[floor(o * H / out_h)]`` (torch's ``mode="nearest"``).
* ``area`` -- the mean of input rows ``floor(o * H / out_h) .. ceil((o + 1) * H / out_h) - 1``
  (torch's ``mode="area"``, adaptive average pooling).
* ``pad`` -- no interpolation: zero-pad (or crop) around the centre; how LeNet-5
  brought 28x28 MNIST digits to its 32x32 input.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from cnnspec.errors import DataError

# ITU-R BT.601 luma: Y = 0.299 R + 0.587 G + 0.114 B
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)

# images resized per call to np.matmul; bounds the float32 temporaries (N * C * out_h * W)
CHUNK = 4096


class ResizeMethod(str, Enum):
    """How :func:`resize_images` maps an ``H x W`` image onto ``out_h x out_w``."""

    BILINEAR = "bilinear"
    NEAREST = "nearest"
    AREA = "area"
    PAD = "pad"


def resize_matrix(in_size: int, out_size: int, method: ResizeMethod) -> np.ndarray:
    """The float32 ``(out_size, in_size)`` matrix that resizes one axis; rows sum to 1
    (or to 0 for padded rows of ``pad``)."""
    a = np.zeros((out_size, in_size), dtype=np.float64)
    rows = np.arange(out_size)
    scale = in_size / out_size
    if method is ResizeMethod.BILINEAR:
        src = np.clip((rows + 0.5) * scale - 0.5, 0.0, in_size - 1)
        lo = np.floor(src).astype(np.int64)
        hi = np.minimum(lo + 1, in_size - 1)
        frac = src - lo
        np.add.at(a, (rows, lo), 1.0 - frac)
        np.add.at(a, (rows, hi), frac)
    elif method is ResizeMethod.NEAREST:
        a[rows, np.minimum(rows * in_size // out_size, in_size - 1)] = 1.0
    elif method is ResizeMethod.AREA:
        for o in rows:
            start = o * in_size // out_size
            stop = -(-(o + 1) * in_size // out_size)  # ceil division
            a[o, start:stop] = 1.0 / (stop - start)
    elif method is ResizeMethod.PAD:
        # output index o shows input index o - offset; offset < 0 crops
        offset = (out_size - in_size) // 2
        src = rows - offset
        keep = (src >= 0) & (src < in_size)
        a[rows[keep], src[keep]] = 1.0
    else:  # pragma: no cover - the Enum has no other members
        raise ValueError(method)
    return a.astype(np.float32)


def resize_images(x: np.ndarray, size: tuple[int, int],
                  method: ResizeMethod | str = ResizeMethod.BILINEAR) -> np.ndarray:
    """``x`` of shape ``(N, C, H, W)`` resized to ``(N, C, out_h, out_w)``, float32.

    ``size`` is ``(out_h, out_w)``. Values stay in the input's range for every method
    (each output is a convex combination of inputs, or 0 for ``pad``).
    """
    method = parse_method(method)
    out_h, out_w = size
    if out_h <= 0 or out_w <= 0:
        raise DataError(f"cannot resize to {out_h}x{out_w}", hint="sizes must be positive")
    n, c, h, w = x.shape
    if (h, w) == (out_h, out_w):
        return x.astype(np.float32, copy=False)
    a_h = resize_matrix(h, out_h, method)  # (out_h, H)
    a_w_t = resize_matrix(w, out_w, method).T  # (W, out_w)
    out = np.empty((n, c, out_h, out_w), dtype=np.float32)
    for start in range(0, n, CHUNK):
        block = x[start:start + CHUNK].astype(np.float32, copy=False)  # (n', C, H, W)
        rows = a_h @ block  # (n', C, out_h, W)
        out[start:start + CHUNK] = rows @ a_w_t  # (n', C, out_h, out_w)
    return out


def convert_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """``x`` ``(N, C, H, W)`` with ``C`` converted to ``channels``; only 1 <-> 3.

    * 1 -> 3: the grey plane is copied to R, G and B.
    * 3 -> 1: luma ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601).
    """
    have = x.shape[1]
    if have == channels:
        return x
    if (have, channels) == (1, 3):
        return np.repeat(x, 3, axis=1)  # (N, 1, H, W) -> (N, 3, H, W)
    if (have, channels) == (3, 1):
        return np.einsum("nchw,c->nhw", x, LUMA_WEIGHTS)[:, None].astype(np.float32)
    raise DataError(f"cannot convert {have}-channel images to {channels} channels",
                    hint="only grey (1) <-> colour (3) conversions are supported")


def parse_method(method: ResizeMethod | str) -> ResizeMethod:
    """A :class:`ResizeMethod` from itself or its name; a ``DataError`` for other names."""
    if isinstance(method, ResizeMethod):
        return method
    try:
        return ResizeMethod(str(method).lower())
    except ValueError:
        names = ", ".join(m.value for m in ResizeMethod)
        raise DataError(f"unknown resize method {method!r}", hint=f"use one of: {names}") from None
