"""Whole-map im2col and col2im: the convolutions whose kernel offsets are constant shifts.

Room: ``cnnspec/engine``; imports NumPy only. :mod:`cnnspec.engine.im2col` picks these
for the geometries they cover and keeps the general, row-by-row kernels.

When the output is the input's size divided by the stride (at stride 1, ``p = (k - 1) /
2``), output pixel (y, x) of kernel offset (i, j) reads input pixel ``(y*s + i*d - top,
x*s + j*d - left)``, which is pixel ``(y + dy, x + dx)`` of the phase ``x[:, :, a::s,
b::s]`` with ``dy = (i*d - top) // s`` and ``a = (i*d - top) % s`` (likewise for columns).
In a flat map that is one constant shift ``s = dy*W + dx``: each offset's plane is one run
of ``H*W - |s|`` values per map, with the padding value written over the rows and columns
whose source is off the map. Copying row by row moves ``out_w`` values at a time, a short
loop for small maps (7 for ResNet's last stage).

Named dims: N, C, H, W (input), HH, WW (kernel), ``out_h``, ``out_w``; padding is the
4-tuple ``(top, bottom, left, right)``.
"""

from __future__ import annotations

import numpy as np

IntPair = tuple[int, int]
Padding4 = tuple[int, int, int, int]

__all__ = ["IntPair", "Padding4", "fill_column_bands", "fill_shifted", "keeps_size",
           "sum_shifted", "tiles_input"]


def keeps_size(x_shape: tuple[int, ...], out_size: IntPair, stride: IntPair) -> bool:
    """Whether a window op at ``stride`` gives an output of the input's height and width.

    Then (stride 1) the window offset (i, j) reads every output pixel's input at one
    constant shift, ``(i*dh - top, j*dw - left)``: im2col and col2im move whole maps per
    offset instead of row by row.
    """
    return tuple(stride) == (1, 1) and tiles_input(x_shape, out_size, stride)


def tiles_input(x_shape: tuple[int, ...], out_size: IntPair, stride: IntPair) -> bool:
    """Whether the output is exactly the input's size divided by the stride.

    ``H = sh * out_h`` and ``W = sw * out_w``: the input then splits into ``sh*sw`` phases
    ``x[:, :, a::sh, b::sw]`` of the output's size, and window offset (i, j) reads one
    phase at a constant shift (:func:`_shift`). Stride 1 is :func:`keeps_size`.
    """
    return (x_shape[2] == stride[0] * out_size[0]) and (x_shape[3] == stride[1] * out_size[1])


def _shift(i: int, j: int, w: int, padding: Padding4, dilation: IntPair,
           stride: IntPair = (1, 1)) -> tuple[int, int, int]:
    """``(dy, dx, s)``: offset (i, j) reads pixel ``(y + dy, x + dx)`` of its phase for output
    (y, x), which in a flat map of width ``w`` is ``s = dy*w + dx``.

    Padded row ``y*sh + i*dh`` is input row ``y*sh + i*dh - top = (y + dy)*sh + a`` with
    ``dy = (i*dh - top) // sh`` and phase ``a = (i*dh - top) % sh``; likewise for columns.
    At stride 1, ``dy = i*dh - top`` and ``dx = j*dw - left``.
    """
    dy = (i * dilation[0] - padding[0]) // stride[0]
    dx = (j * dilation[1] - padding[2]) // stride[1]
    return dy, dx, dy * w + dx


def _phase(i: int, j: int, padding: Padding4, dilation: IntPair,
           stride: IntPair) -> tuple[int, int]:
    """The phase ``(a, b)`` of the input that window offset (i, j) reads (:func:`_shift`)."""
    return (i * dilation[0] - padding[0]) % stride[0], (j * dilation[1] - padding[2]) % stride[1]


def _strips(plane: np.ndarray, dy: int, dx: int) -> list[np.ndarray]:
    """The views of a (C, N, H, W) map whose shifted source ``(y + dy, x + dx)`` is off the map.

    Rows ``y < -dy`` or ``y >= H - dy`` and columns ``x < -dx`` or ``x >= W - dx``; a
    column is taken as one (C, N*H) view with a stride of W, so it is a single long loop.
    """
    c, n, h, w = plane.shape
    rows = plane[:, :, : -dy] if dy < 0 else plane[:, :, h - dy :] if dy > 0 else None
    by_row = plane.reshape(c, n * h, w)
    columns = range(-dx) if dx < 0 else range(w - dx, w)
    return ([rows] if rows is not None else []) + [by_row[:, :, q] for q in columns]


def fill_shifted(
    cols6: np.ndarray,
    x: np.ndarray,
    kernel: IntPair,
    stride: IntPair,
    padding: Padding4,
    dilation: IntPair,
    pad_value: float,
) -> None:
    """im2col of a convolution whose output is the input's size divided by the stride.

    ``cols6[c, i, j, n, y, x] = phase[n, c, y + dy, x + dx]``, with the phase and
    ``(dy, dx)`` of :func:`_phase` and :func:`_shift` (at stride 1 the phase is x itself):
    in each flat map that is ``plane[p] = map[p + s]``, one run of ``out_h*out_w - |s|``
    values per map, then ``pad_value`` written where the source is off the map
    (:func:`_strips`; the run also wrote those places, from the neighbouring row). The
    row-by-row copy of im2col runs ``out_w`` values at a time, a short loop for small maps,
    and reads every other value at stride 2.
    cols6 : (C, HH, WW, N, out_h, out_w) view of the columns; x : (N, C, H, W).
    """
    _, kh, kw, _, h, w = cols6.shape
    phases = _phases(x, stride)
    for i in range(kh):
        for j in range(kw):
            dy, dx, s = _shift(i, j, w, padding, dilation, stride)
            plane = cols6[:, i, j]  # (C, N, out_h, out_w), contiguous
            if abs(dy) >= h or abs(dx) >= w:  # every source pixel is off the map
                plane.fill(pad_value)
                continue
            maps, runs = phases[_phase(i, j, padding, dilation, stride)]
            flat = plane.reshape(maps.shape)
            lo, hi = max(0, -s), runs - max(0, s)
            flat[:, :, lo:hi] = maps[:, :, lo + s : hi + s]
            flat[:, :, :lo] = pad_value
            flat[:, :, hi:] = pad_value
            for strip in _strips(plane, dy, dx):
                strip[...] = pad_value


def _phases(x: np.ndarray, stride: IntPair) -> dict[tuple[int, int], tuple[np.ndarray, int]]:
    """The ``sh*sw`` phases ``x[:, :, a::sh, b::sw]`` as :func:`_runs`, keyed by ``(a, b)``.

    At stride 1 the one phase is x itself, read in place; otherwise each phase is
    copied once into (C, N, H/sh, W/sw) memory.
    """
    sh, sw = stride
    if (sh, sw) == (1, 1):
        return {(0, 0): _runs(x)}
    n, c, _, _ = x.shape
    found = {}
    for a in range(sh):
        for b in range(sw):
            phase = x[:, :, a::sh, b::sw]
            stored = np.empty((c, n, *phase.shape[2:]), dtype=x.dtype)
            stored[...] = phase.transpose(1, 0, 2, 3)
            found[(a, b)] = _runs(stored.transpose(1, 0, 2, 3))
    return found


def _runs(x: np.ndarray) -> tuple[np.ndarray, int]:
    """x's maps as ``(C, M, L)`` runs for :func:`fill_shifted`, and L.

    In (C, N, H, W) memory (a convolution's output) all N maps of a channel are one run,
    ``(C, 1, N*H*W)``; otherwise each map is, ``(C, N, H*W)``. A shift that crosses from
    one map into the next lands only on places the strips overwrite.
    """
    n, c, h, w = x.shape
    by_channel = x.transpose(1, 0, 2, 3)
    if by_channel.flags.c_contiguous:
        return by_channel.reshape(c, 1, n * h * w), n * h * w
    return by_channel.reshape(c, n, h * w), h * w


def sum_shifted(cols6: np.ndarray, x_shape: tuple[int, int, int, int], padding: Padding4,
                 dilation: IntPair) -> np.ndarray:
    """col2im of a stride-1 convolution that keeps the input's size, by whole-map runs.

    The adjoint of :func:`fill_shifted`: ``dx[p + s] += plane[p]`` over the (C, N*H*W)
    runs, after the plane's entries whose source is off the map (its padding, which
    im2col filled) are zeroed in place. An offset with no shift starts the sum as a copy.
    cols6 : (C, HH, WW, N, H, W) view of writeable columns; returns dx (N, C, H, W) in
    (C, N, H, W) memory.
    """
    n, c, h, w = x_shape
    _, kh, kw, _, _, _ = cols6.shape
    offsets = [(i, j) for i in range(kh) for j in range(kw)]
    shifts = {(i, j): _shift(i, j, w, padding, dilation) for i, j in offsets}
    centre = next((o for o in offsets if shifts[o][:2] == (0, 0)), None)
    dx = (cols6[:, centre[0], centre[1]].copy() if centre is not None
          else np.zeros((c, n, h, w), dtype=cols6.dtype))  # (C, N, H, W)
    total = dx.reshape(c, n * h * w)
    for i, j in offsets:
        dy, dxx, s = shifts[(i, j)]
        if (i, j) == centre or abs(dy) >= h or abs(dxx) >= w:  # done, or all padding
            continue
        plane = cols6[:, i, j]  # (C, N, H, W), contiguous
        for strip in _strips(plane, dy, dxx):
            strip[...] = 0
        lo, hi = max(0, -s), n * h * w - max(0, s)
        total[:, lo + s : hi + s] += plane.reshape(c, n * h * w)[:, lo:hi]
    return dx.transpose(1, 0, 2, 3)


def fill_column_bands(cols6: np.ndarray, x: np.ndarray, dilation: IntPair) -> None:
    """im2col of an unpadded stride-1 convolution: column bands first, then whole runs.

    ``cols6[c, i, j, n, y, x] = band_j[c, n, y + i*dh, x]`` with the band
    ``band_j = x[:, :, :, j*dw : j*dw + out_w]`` copied once per kernel column j (rows of
    ``out_w`` values); each offset (i, j) is then a block of whole rows of its band, one
    run of ``out_h*out_w`` values per map. Copying every offset's plane row by row moves
    ``out_w`` values at a time, HH times as many short copies.
    cols6 : (C, HH, WW, N, out_h, out_w) view of the columns; x : (N, C, H, W).
    """
    _, kh, kw, n, out_h, out_w = cols6.shape
    c, h = x.shape[1], x.shape[2]
    dh, dw = dilation
    band = np.empty((c, n, h, out_w), dtype=x.dtype)  # (C, N, H, out_w)
    for j in range(kw):
        band[...] = x[:, :, :, j * dw : j * dw + out_w].transpose(1, 0, 2, 3)
        runs = band.reshape(c, n, h * out_w)
        for i in range(kh):
            start = i * dh * out_w
            cols6[:, i, j].reshape(c, n, out_h * out_w)[...] = \
                runs[:, :, start : start + out_h * out_w]
