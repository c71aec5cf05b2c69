"""Strided window views, im2col and col2im for NCHW tensors.

Room: ``cnnspec/engine``; imports NumPy, :mod:`cnnspec.errors`,
:mod:`cnnspec.engine.map_shifts` (the whole-map kernels it picks where they apply) and
the column layout of :mod:`cnnspec.engine.blas` only.

This is the only module of the engine that uses stride tricks; every other
kernel goes through :func:`sliding_windows`, :func:`im2col` or
:func:`col2im`. Layout is NCHW (PyTorch's) everywhere and dilation=1 means a
dense kernel.

Named dims: N (batch), C (channels), H, W (input height, width), HH, WW
(kernel height, width), ``out_h``, ``out_w`` (output height, width).
Padding is always the 4-tuple ``(top, bottom, left, right)`` once normalised.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from cnnspec.engine.blas import gemm_operand, has_unit_rows
from cnnspec.engine.map_shifts import (
    IntPair,
    Padding4,
    fill_column_bands,
    fill_shifted,
    keeps_size,
    sum_shifted,
    tiles_input,
)
from cnnspec.errors import EngineError

__all__ = [
    "IntPair",
    "Padding4",
    "as_padding",
    "as_pair",
    "col2im",
    "col2im_wide",
    "conv_output_size",
    "fits_buffer",
    "im2col",
    "pad_nchw",
    "sliding_windows",
]


def as_pair(value: int | Sequence[int], name: str, *, minimum: int = 1) -> IntPair:
    """Normalise an int or a 2-sequence ``(h, w)`` to a pair of ints >= ``minimum``."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise EngineError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise EngineError(f"{name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def as_padding(value: int | Sequence[int], name: str = "padding") -> Padding4:
    """Normalise padding to ``(top, bottom, left, right)``.

    Accepts an int (all four sides), a pair ``(ph, pw)`` (top=bottom=ph,
    left=right=pw) or a 4-tuple ``(top, bottom, left, right)``.
    """
    if isinstance(value, (int, np.integer)):
        sides: tuple[int, ...] = (value,) * 4
    else:
        sides = tuple(value)
        if len(sides) == 2:
            sides = (sides[0], sides[0], sides[1], sides[1])
    if len(sides) != 4 or not all(isinstance(v, (int, np.integer)) for v in sides):
        raise EngineError(
            f"{name} must be an int, (ph, pw) or (top, bottom, left, right), got {value!r}"
        )
    if min(sides) < 0:
        raise EngineError(f"{name} must be >= 0, got {value!r}")
    top, bottom, left, right = (int(v) for v in sides)
    return top, bottom, left, right


def conv_output_size(
    size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int
) -> int:
    """Output length of a sliding window, floor rounding.

    ``O = (N + P_before + P_after - D (F - 1) - 1) // S + 1``, which is the
    lecture's ``(N - F + 2P) / S + 1`` for D=1 and symmetric padding. The
    caller decides whether a non-integral quotient is an error; this function
    floors (PyTorch's rule). The result may be <= 0 for a too-small input.
    """
    return (size + pad_before + pad_after - dilation * (kernel - 1) - 1) // stride + 1


def pad_nchw(x: np.ndarray, padding: Padding4, value: float = 0.0) -> np.ndarray:
    """Pad the two spatial axes of ``x`` (N, C, H, W) with a constant.

    Returns ``x`` itself when all pads are 0, otherwise a new array of shape
    (N, C, H + top + bottom, W + left + right) in ``x``'s memory order: (C, N, .., ..)
    memory (a convolution's output) stays so, and the copy reads and writes in order.
    """
    top, bottom, left, right = padding
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    hp, wp = h + top + bottom, w + left + right
    if n > 1 and c > 1 and abs(x.strides[0]) < abs(x.strides[1]):  # channels outermost
        xp = np.empty((c, n, hp, wp), dtype=x.dtype).transpose(1, 0, 2, 3)  # (N, C, Hp, Wp)
    else:
        xp = np.empty((n, c, hp, wp), dtype=x.dtype)
    # Fill only the border strips, then copy the interior once.
    xp[:, :, :top, :] = value
    xp[:, :, top + h :, :] = value
    xp[:, :, top : top + h, :left] = value
    xp[:, :, top : top + h, left + w :] = value
    xp[:, :, top : top + h, left : left + w] = x
    return xp


def sliding_windows(
    xp: np.ndarray, kernel: IntPair, stride: IntPair, dilation: IntPair, out_h: int, out_w: int
) -> np.ndarray:
    """Read-only strided view of all windows of an already padded ``xp``.

    Parameters
    ----------
    xp : (N, C, Hp, Wp) array, the padded input.
    kernel, stride, dilation : (h, w) pairs.
    out_h, out_w : number of window positions along each axis.

    Returns
    -------
    (N, C, HH, WW, out_h, out_w) view, no copy:
    ``view[n, c, i, j, oh, ow] = xp[n, c, oh*sh + i*dh, ow*sw + j*dw]``.
    ``view[:, :, i, j]`` is the plane of kernel offset (i, j).
    """
    kh, kw = kernel
    sh, sw = stride
    dh, dw = dilation
    n, c, hp, wp = xp.shape
    if (out_h - 1) * sh + dh * (kh - 1) >= hp or (out_w - 1) * sw + dw * (kw - 1) >= wp:
        raise EngineError(
            f"windows run past the padded input ({hp}x{wp}) for kernel {kernel}, "
            f"stride {stride}, dilation {dilation} and output {out_h}x{out_w}"
        )
    s_n, s_c, s_h, s_w = xp.strides
    return as_strided(
        xp,
        shape=(n, c, kh, kw, out_h, out_w),
        strides=(s_n, s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w),
        writeable=False,
    )


def im2col(
    x: np.ndarray,
    kernel: IntPair,
    stride: IntPair = (1, 1),
    padding: Padding4 = (0, 0, 0, 0),
    dilation: IntPair = (1, 1),
    pad_value: float = 0.0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Unfold every receptive field of ``x`` into a column.

    Parameters
    ----------
    x : (N, C, H, W) array.
    kernel : (HH, WW).
    stride, dilation : (h, w) pairs; padding : (top, bottom, left, right).
    pad_value : constant written into the padding.
    out : optional writeable buffer of the result's shape and dtype with contiguous
        rows (e.g. the columns of an earlier, finished pass, or their first rows); it
        is filled and returned, which spares a fresh allocation and its page faults.
        Any other array is ignored and a new one is allocated.

    Returns
    -------
    cols : (C*HH*WW, N*out_h*out_w) array with contiguous rows, in a block whose rows
        are :func:`~cnnspec.engine.blas.row_stride` apart (padded where the GEMM would
        otherwise alias in cache), rows ordered (c, i, j) and columns (n, oh, ow):
        ``cols[(c*HH + i)*WW + j, (n*out_h + oh)*out_w + ow]
        = xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]``.
        A filter bank ``w`` (F, C, HH, WW) reshaped to (F, C*HH*WW) then
        multiplies it in one GEMM.
    """
    n, c, h, w = x.shape
    top, bottom, left, right = padding
    out_h = conv_output_size(h, kernel[0], stride[0], top, bottom, dilation[0])
    out_w = conv_output_size(w, kernel[1], stride[1], left, right, dilation[1])
    if out_h < 1 or out_w < 1:
        raise EngineError(f"input {h}x{w} is too small for kernel {kernel} with these settings")
    shape = (c * kernel[0] * kernel[1], n * out_h * out_w)  # (C*HH*WW, N*oh*ow)
    # A fresh array, never a view of the input (the backward pass reuses cols as scratch).
    cols = out if fits_buffer(out, shape, x) else gemm_operand(*shape, x.dtype)
    cols6 = cols.reshape(c, kernel[0], kernel[1], n, out_h, out_w)  # (C, HH, WW, N, oh, ow)
    if tiles_input(x.shape, (out_h, out_w), stride) and any(padding):
        # The output is the input's size divided by the stride: each kernel offset's
        # plane is one phase of the input shifted by a constant (engine.map_shifts).
        fill_shifted(cols6, x, kernel, stride, padding, dilation, pad_value)
    elif any(padding):
        # One plane per kernel offset straight from x, the padding written where the
        # window leaves it: no padded copy of x.
        _fill_offsets(cols6, x, kernel, stride, padding, dilation, pad_value)
    elif tuple(stride) == (1, 1):
        fill_column_bands(cols6, x, dilation)
    else:
        win = sliding_windows(x, kernel, stride, dilation, out_h, out_w)  # (N, C, HH, WW, ..)
        np.copyto(cols6, win.transpose(1, 2, 3, 0, 4, 5))  # (C, HH, WW, N, oh, ow)
    return cols


def fits_buffer(out: np.ndarray | None, shape: tuple[int, int], x: np.ndarray) -> bool:
    """Whether ``out`` can take the (rows, columns) ``shape`` of ``x``'s im2col columns.

    It must have that shape and x's dtype, contiguous rows in order
    (:func:`~cnnspec.engine.blas.has_unit_rows`), be writeable, and share no memory with x.
    """
    return (out is not None and out.shape == shape and out.dtype == x.dtype
            and has_unit_rows(out) and out.flags.writeable
            and not np.may_share_memory(out, x))


def inside_range(n_out: int, size: int, stride: int, offset: int) -> tuple[int, int]:
    """Output positions ``[o0, o1)`` whose input index ``o*stride + offset`` is in ``[0, size)``.

    ``o0 = max(0, ceil(-offset / stride))``, ``o1 = min(n_out, floor((size - 1 - offset)
    / stride) + 1)``, and ``o1 = o0`` when no position is inside.
    """
    first = max(0, -(offset // stride))
    stop = min(n_out, (size - 1 - offset) // stride + 1)
    return first, max(first, stop)


def _fill_offsets(
    cols6: np.ndarray,
    x: np.ndarray,
    kernel: IntPair,
    stride: IntPair,
    padding: Padding4,
    dilation: IntPair,
    pad_value: float,
) -> None:
    """im2col of a padded input, one kernel offset (i, j) at a time.

    ``cols6[c, i, j, n, oh, ow] = x[n, c, oh*sh + i*dh - top, ow*sw + j*dw - left]``
    where that pixel is inside x, ``pad_value`` where it falls in the padding
    (:func:`inside_range` gives the inside block of each offset's plane).
    cols6 : (C, HH, WW, N, out_h, out_w) view of the columns; x : (N, C, H, W).
    """
    _, _, h, w = x.shape
    _, kh, kw, _, out_h, out_w = cols6.shape
    (sh, sw), (dh, dw) = stride, dilation
    top, _, left, _ = padding
    xc = x.transpose(1, 0, 2, 3)  # (C, N, H, W)
    for i in range(kh):
        r0, r1 = inside_range(out_h, h, sh, i * dh - top)
        y0 = r0 * sh + i * dh - top
        for j in range(kw):
            q0, q1 = inside_range(out_w, w, sw, j * dw - left)
            x0 = q0 * sw + j * dw - left
            plane = cols6[:, i, j]  # (C, N, out_h, out_w)
            for border in ((slice(0, r0),), (slice(r1, None),),
                           (slice(r0, r1), slice(0, q0)), (slice(r0, r1), slice(q1, None))):
                strip = plane[(slice(None), slice(None), *border)]
                if strip.size:
                    strip.fill(pad_value)
            if r1 > r0 and q1 > q0:
                plane[:, :, r0:r1, q0:q1] = xc[:, :, y0 : y0 + (r1 - r0 - 1) * sh + 1 : sh,
                                                x0 : x0 + (q1 - q0 - 1) * sw + 1 : sw]


def col2im(
    cols: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kernel: IntPair,
    stride: IntPair = (1, 1),
    padding: Padding4 = (0, 0, 0, 0),
    dilation: IntPair = (1, 1),
    *,
    scratch: bool = False,
) -> np.ndarray:
    """Adjoint of :func:`im2col`: sum every column entry back onto its pixel.

    Parameters
    ----------
    cols : (C*HH*WW, N*out_h*out_w) array laid out as :func:`im2col` returns.
    x_shape : (N, C, H, W) of the unpadded input.
    scratch : cols may be overwritten (a backward pass's column gradient, read once).
        A stride-1 convolution that keeps the input's size then zeroes its padding
        entries and adds each offset's plane as whole-map runs
        (:func:`~cnnspec.engine.map_shifts.sum_shifted`).

    Returns
    -------
    dx : (N, C, H, W) new array in (C, N, H, W) memory order (a transposed view, the
        order a convolution's output has too); entries in the padding are dropped.

    Notes
    -----
    No ``np.add.at``: one loop over the HH*WW kernel offsets, each adding a
    whole strided plane (the planes of one offset never overlap each other).
    """
    n, c, h, w = x_shape
    kh, kw = kernel
    sh, sw = stride
    dh, dw = dilation
    top, bottom, left, right = padding
    out_h = conv_output_size(h, kh, sh, top, bottom, dh)
    out_w = conv_output_size(w, kw, sw, left, right, dw)
    cols6 = cols.reshape(c, kh, kw, n, out_h, out_w)  # (C, HH, WW, N, oh, ow)
    if scratch and keeps_size(x_shape, (out_h, out_w), stride) and has_unit_rows(cols):
        return sum_shifted(cols6, x_shape, padding, dilation)
    # Accumulate in (C, N, Hp, Wp) so each add reads and writes in the same order.
    dxp = np.zeros((c, n, h + top + bottom, w + left + right), dtype=cols.dtype)
    h_span = sh * (out_h - 1) + 1
    w_span = sw * (out_w - 1) + 1
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dh, j * dw
            dxp[:, :, r0 : r0 + h_span : sh, c0 : c0 + w_span : sw] += cols6[:, i, j]
    return _without_padding(dxp, x_shape, padding)


def col2im_wide(
    cols: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kernel: IntPair,
    padding: Padding4 = (0, 0, 0, 0),
    dilation: IntPair = (1, 1),
) -> np.ndarray:
    """:func:`col2im` of a stride-1 convolution whose columns run over the padded width.

    Parameters
    ----------
    cols : (C*HH*WW, N*out_h*Wp) array, ``Wp = W + left + right``: column
        ``(n, oh, q)`` holds the usual entry of output pixel (oh, q) for ``q < out_w``
        and 0 for ``out_w <= q < Wp``.
    x_shape : (N, C, H, W) of the unpadded input.

    Returns
    -------
    dx : (N, C, H, W) in (C, N, H, W) memory order, as :func:`col2im` returns.

    Notes
    -----
    With rows of the padded width, the entry of offset (i, j) for output (oh, q) lands
    on padded pixel ``(oh + i*dh, q + j*dw)``, flat index ``(oh*Wp + q) + i*dh*Wp + j*dw``:
    each offset's plane is one shifted run of ``out_h*Wp`` values per image, added
    whole. The zero columns spill onto the next row (or, from the last row, onto the
    next image or the tail after the last one) and add nothing there.
    """
    n, c, h, w = x_shape
    kh, kw = kernel
    dh, dw = dilation
    top, bottom, left, right = padding
    hp, wp = h + top + bottom, w + left + right
    out_h = conv_output_size(h, kh, 1, top, bottom, dh)
    run = out_h * wp
    planes = cols.reshape(c, kh, kw, n, run)  # (C, HH, WW, N, out_h*Wp)
    tail = dh * (kh - 1) * wp + dw * (kw - 1)  # the largest shift
    flat = np.zeros((c, n * hp * wp + tail), dtype=cols.dtype)  # padded dx, then a tail
    for i in range(kh):
        for j in range(kw):
            shift = i * dh * wp + j * dw
            target = flat[:, shift : shift + n * hp * wp].reshape(c, n, hp * wp)[:, :, :run]
            target += planes[:, i, j]
    dxp = flat[:, : n * hp * wp].reshape(c, n, hp, wp)  # (C, N, Hp, Wp)
    return _without_padding(dxp, x_shape, padding)


def _without_padding(dxp: np.ndarray, x_shape: tuple[int, int, int, int],
                     padding: Padding4) -> np.ndarray:
    """The (N, C, H, W) view of the inside of a padded (C, N, Hp, Wp) gradient.

    The padding's entries are dropped; the result is in (C, N, H, W) memory order (a
    copy when there is padding to drop, ``dxp`` itself otherwise).
    """
    _, _, h, w = x_shape
    top, bottom, left, right = padding
    if not (top or bottom or left or right):
        return dxp.transpose(1, 0, 2, 3)
    inner = dxp[:, :, top : top + h, left : left + w]  # (C, N, H, W)
    return np.ascontiguousarray(inner).transpose(1, 0, 2, 3)
