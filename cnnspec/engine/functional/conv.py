"""2-D convolution (cross-correlation, as in every framework), NCHW.

Room: ``cnnspec/engine``; imports NumPy, :mod:`cnnspec.errors`,
:mod:`cnnspec.engine.im2col`, :mod:`cnnspec.engine.map_shifts` and
:mod:`cnnspec.engine.blas` (whose ``matmul`` picks the BLAS threads of each product) only.

Named dims: N (batch), C (input channels), H, W (input size), F (filters =
output channels), HH, WW (kernel size), G (groups), ``out_h``, ``out_w``.
A weight has shape (F, C/G, HH, WW); filter f sees the channels of group
``g = f // (F/G)``. Depthwise convolution is ``groups=C``.

Formula (``xpad`` = input padded with ``pad_value``)::

    out[n, f, oh, ow] = b[f] + sum_{c, i, j} w[f, c, i, j]
                        * xpad[n, g*C/G + c, oh*sh + i*dh, ow*sw + j*dw]
    out_h = (H + top + bottom - dh*(HH-1) - 1) // sh + 1     (floor)
    out_w = (W + left + right - dw*(WW-1) - 1) // sw + 1

The fast pair does one :func:`~cnnspec.engine.im2col.im2col` and one BLAS
GEMM per group (a single ``np.matmul`` call over a (G, ., .) stack); the
``*_naive`` pair is a plain loop used as the test oracle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from cnnspec.engine.blas import gemm_operand, matmul
from cnnspec.engine.im2col import (
    IntPair,
    Padding4,
    as_padding,
    as_pair,
    col2im,
    col2im_wide,
    conv_output_size,
    fits_buffer,
    im2col,
)
from cnnspec.engine.map_shifts import keeps_size
from cnnspec.errors import EngineError

# The padded-width column gradient of :func:`_dx_on_padded_width` is a fresh array (the
# input's columns, which other paths reuse, are too narrow for it); it is used while it
# stays under this size, so a backward pass's memory peak grows by at most that.
WIDE_COLUMNS_BYTES = 32 * 2**20

__all__ = [
    "Conv2dCache",
    "Conv2dNaiveCache",
    "columns_are_input",
    "conv2d_backward",
    "conv2d_backward_naive",
    "conv2d_forward",
    "conv2d_forward_naive",
]


class Conv2dCache(NamedTuple):
    """What :func:`conv2d_backward` needs.

    cols : (C*HH*WW, N*out_h*out_w) im2col of the padded input, with a last row of
        ones when the bias was the GEMM's last column (:func:`conv2d_forward`).
        Backward reuses this buffer for the column gradient and then marks it
        read-only: a cache serves one backward pass (like PyTorch's freed
        graph), and a second one raises EngineError.
    w : (F, C/G, HH, WW) weights.
    x_shape : (N, C, H, W).
    has_bias : whether a bias was given (``db`` is ``None`` otherwise).
    stride, padding, dilation, groups : the normalised settings.
    """

    cols: np.ndarray
    w: np.ndarray
    x_shape: tuple[int, int, int, int]
    has_bias: bool
    stride: IntPair
    padding: Padding4
    dilation: IntPair
    groups: int


class Conv2dNaiveCache(NamedTuple):
    """What :func:`conv2d_backward_naive` needs: the raw input instead of columns."""

    x: np.ndarray
    w: np.ndarray
    has_bias: bool
    stride: IntPair
    padding: Padding4
    dilation: IntPair
    groups: int
    pad_value: float


class _Setup(NamedTuple):
    stride: IntPair
    padding: Padding4
    dilation: IntPair
    out_h: int
    out_w: int


def _setup(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    dilation: int | Sequence[int],
    groups: int,
) -> _Setup:
    """Validate shapes and settings; raise EngineError for user problems."""
    for name, arr in (("x", x), ("w", w)):
        if not np.issubdtype(arr.dtype, np.floating):
            raise EngineError(
                f"conv2d expects floating-point arrays, {name} is {arr.dtype}",
                hint="convert with .astype(np.float32)",
            )
    if x.ndim != 4:
        raise EngineError(f"conv2d expects x of shape (N, C, H, W), got {x.shape}")
    if w.ndim != 4:
        raise EngineError(f"conv2d expects w of shape (F, C/groups, HH, WW), got {w.shape}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise EngineError(f"groups must be a positive int, got {groups!r}")
    _, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    if c % groups or f % groups:
        raise EngineError(
            f"groups={groups} must divide both input channels ({c}) and filters ({f})"
        )
    if cg != c // groups:
        raise EngineError(
            f"weight has {cg} input channels per group, input has {c} channels "
            f"in {groups} group(s)",
            hint=f"use a weight of shape ({f}, {c // groups}, {kh}, {kw})",
        )
    if b is not None and b.shape != (f,):
        raise EngineError(f"bias must have shape ({f},), got {b.shape}")
    st = as_pair(stride, "stride")
    pad = as_padding(padding)
    dil = as_pair(dilation, "dilation")
    out_h = conv_output_size(h, kh, st[0], pad[0], pad[1], dil[0])
    out_w = conv_output_size(wd, kw, st[1], pad[2], pad[3], dil[1])
    if out_h < 1 or out_w < 1:
        raise EngineError(
            f"input {h}x{wd} is too small for a {kh}x{kw} kernel with stride {st}, "
            f"padding {pad}, dilation {dil}"
        )
    return _Setup(st, pad, dil, out_h, out_w)


def conv2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    pad_value: float = 0.0,
    workspace: np.ndarray | None = None,
    out: np.ndarray | None = None,
    inference: bool = False,
) -> tuple[np.ndarray, Conv2dCache]:
    """Convolution forward pass via im2col and one GEMM per group.

    Parameters
    ----------
    x : (N, C, H, W) input.
    w : (F, C/G, HH, WW) filters.
    b : (F,) bias, or ``None`` for no bias.
    stride, dilation : int or (h, w); dilation=1 is a dense kernel.
    padding : int, (ph, pw) or (top, bottom, left, right).
    groups : G; C and F must be multiples of it.
    pad_value : constant written into the padding (0 is zero padding).
    workspace : optional buffer for the im2col columns, typically the ``cols``
        of a cache whose backward pass is done (the caller then gives that
        cache up); used when it is a writeable C-contiguous
        (C*HH*WW, N*out_h*out_w) array of x's dtype, ignored otherwise.
    out : optional (F, N*out_h*out_w) array of the result's dtype, rows contiguous
        (e.g. the part of a larger batch's output that these images fill); the GEMM
        writes into it (grouped: a copy), and the result is a view of it.
    inference : no backward pass will use the cache. A 1x1 convolution with stride 1
        and no padding then multiplies x's own memory, when it is in (C, N, H, W)
        order (a convolution's output, or a batch of one), instead of a copy of it;
        the cache's ``cols`` is then a read-only view of x.

    Returns
    -------
    out : (N, F, out_h, out_w), ``out_h = (H + top + bottom - dh*(HH-1) - 1)//sh + 1``;
        in memory (F, N, out_h, out_w), the GEMM's own order (a transposed view, C-
        contiguous only for N == 1 or F == 1).
    cache : :class:`Conv2dCache`.
    """
    s = _setup(x, w, b, stride, padding, dilation, groups)
    n = x.shape[0]
    f, cg, kh, kw = w.shape
    cols = _input_as_columns(x, (kh, kw), s) if inference else None
    bias_column = cols is None and groups == 1 and b is not None
    if cols is None:
        cols = _columns(x, (kh, kw), s, pad_value, workspace, ones=bias_column)
    p = cols.shape[1]  # P = N*out_h*out_w
    if bias_column:  # [w | b] @ [cols; 1]: the bias comes with the product
        w_b = np.empty((f, cg * kh * kw + 1), dtype=w.dtype)
        w_b[:, :-1] = w.reshape(f, -1)
        w_b[:, -1] = b
        out2d = matmul(w_b, cols, out=out)  # (F, P)
    elif groups == 1:
        out2d = matmul(w.reshape(f, cg * kh * kw), cols, out=out)  # (F, P)
    else:
        w3 = w.reshape(groups, f // groups, cg * kh * kw)  # (G, F/G, C/G*HH*WW)
        cols3 = cols.reshape(groups, cg * kh * kw, p)  # (G, C/G*HH*WW, P)
        out2d = matmul(w3, cols3).reshape(f, p)  # (G, F/G, P) -> (F, P)
        if out is not None:
            out[...] = out2d
            out2d = out
    out4 = out2d.reshape(f, n, s.out_h, s.out_w)  # (F, N, out_h, out_w)
    if b is not None and not bias_column:
        out4 += b.astype(out4.dtype, copy=False)[:, None, None, None]
    # (N, F, out_h, out_w) view of the (F, N, out_h, out_w) memory: no NCHW copy (the
    # next layers read any strides, and the next im2col reads this order faster)
    cache = Conv2dCache(cols, w, x.shape, b is not None, s.stride, s.padding, s.dilation, groups)
    return out4.transpose(1, 0, 2, 3), cache


def _columns(x: np.ndarray, kernel: IntPair, s: _Setup, pad_value: float,
             workspace: np.ndarray | None, *, ones: bool) -> np.ndarray:
    """im2col of ``x`` (C*HH*WW, P), in ``workspace`` when it fits; with ``ones``, one more
    row of ones, the input of the bias in ``[w | b] @ [cols; 1] = w @ cols + b``.

    The bias then costs no pass over the output, and its gradient, ``sum_p dout[f, p]``,
    is the last row of the weight gradient's product ``[cols; 1] @ dout^T``.
    """
    if not ones:
        return im2col(x, kernel, s.stride, s.padding, s.dilation, pad_value, out=workspace)
    n, c = x.shape[:2]
    shape = (c * kernel[0] * kernel[1] + 1, n * s.out_h * s.out_w)
    cols = workspace if fits_buffer(workspace, shape, x) else gemm_operand(*shape, x.dtype)
    im2col(x, kernel, s.stride, s.padding, s.dilation, pad_value, out=cols[:-1])
    cols[-1] = 1
    return cols


def columns_are_input(kernel: IntPair, stride: IntPair, padding: Padding4) -> bool:
    """Whether the im2col columns of a convolution are its input itself: 1x1, stride 1, no pad.

    Then ``cols[c, (n*H + y)*W + x] = x[n, c, y, x]``, and no columns need to be built.
    """
    return tuple(kernel) == (1, 1) and tuple(stride) == (1, 1) and not any(padding)


def _input_as_columns(x: np.ndarray, kernel: IntPair, s: _Setup) -> np.ndarray | None:
    """x's memory as the (C, N*H*W) columns of a 1x1, stride-1, unpadded convolution.

    ``None`` when the convolution is another kind or x's memory is not in (C, N, H, W)
    order; the view is read-only (it is x).
    """
    if not columns_are_input(kernel, s.stride, s.padding):
        return None
    by_channel = x.transpose(1, 0, 2, 3)  # (C, N, H, W)
    if not by_channel.flags.c_contiguous:
        return None
    cols = by_channel.reshape(x.shape[1], -1)  # (C, N*H*W), a view
    cols.flags.writeable = False
    return cols


def conv2d_backward(
    dout: np.ndarray, cache: Conv2dCache, *, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Convolution backward pass (consumes ``cache``, see :class:`Conv2dCache`).

    Parameters
    ----------
    dout : (N, F, out_h, out_w) upstream gradient (not modified).
    cache : from :func:`conv2d_forward`.
    need_dx : False skips the input gradient (its GEMM and the col2im), for a
        first layer whose input is data; ``dx`` is then ``None``.

    Returns
    -------
    dx : (N, C, H, W) = col2im(W^T dout) per group, or ``None`` if not ``need_dx``;
        in (C, N, H, W) memory order, like the forward output.
    dw : (F, C/G, HH, WW) = dout cols^T per group.
    db : (F,) = sum of dout over N, out_h, out_w; ``None`` without bias.
    """
    spent, w, x_shape, has_bias, stride, padding, dilation, groups = cache
    if not spent.flags.writeable:
        raise EngineError(
            "this conv2d cache was already used by a backward pass",
            hint="run conv2d_forward again; each cache serves one backward pass",
        )
    f, cg, kh, kw = w.shape
    kg = cg * kh * kw
    p = spent.shape[1]
    if dout.shape[1] != f or dout.shape[0] * dout.shape[2] * dout.shape[3] != p:
        raise EngineError(f"dout has shape {dout.shape}, which does not match the forward pass")
    dout2d = dout.transpose(1, 0, 2, 3).reshape(f, p)  # (F, N*out_h*out_w); read only
    # dw first: it is the last reader of the columns, whose memory then receives the
    # column gradient (same shape), sparing a fresh C*HH*WW x P allocation and
    # its page faults, the largest memory cost of the backward pass.
    if groups == 1:
        dw, db = _weight_grad(dout2d, spent, w.shape)  # db: the row of ones' product
    else:
        dw, db = _weight_grad(dout2d.reshape(groups, f // groups, p),
                              spent.reshape(groups, kg, p), w.shape)  # (G, ., P) views
    if has_bias and db is None:
        db = dout2d.sum(axis=1)
    cols = spent[: groups * kg]  # without a row of ones: scratch for the column gradient
    spent.flags.writeable = False  # one backward pass per cache, whichever path follows
    if not need_dx:
        return None, dw, db
    if groups == 1 and _transposed_conv_fits(w.shape, stride, padding, dilation):
        return _dx_by_transposed_conv(dout, w, x_shape, padding, dilation, cols), dw, db
    wide_bytes = kg * p * (x_shape[3] + padding[2] + padding[3]) // dout.shape[3] * cols.itemsize
    same_size = keeps_size(x_shape, dout.shape[2:], stride)  # col2im adds whole maps then
    if groups == 1 and stride == (1, 1) and not same_size and wide_bytes <= WIDE_COLUMNS_BYTES:
        return _dx_on_padded_width(dout, w, x_shape, padding, dilation), dw, db
    target = cols if np.result_type(w, dout2d) == cols.dtype else None
    if groups == 1:
        dcols = matmul(w.reshape(f, kg).T, dout2d, out=target)  # (C*HH*WW, P)
    else:
        fg = f // groups
        w3 = w.reshape(groups, fg, kg)  # (G, F/G, C/G*HH*WW)
        dout3 = dout2d.reshape(groups, fg, p)  # (G, F/G, P)
        target3 = None if target is None else target.reshape(groups, kg, p)
        if fg == 1:
            # Depthwise: the GEMM degenerates to an outer product, which
            # np.matmul handles slowly; a broadcast multiply is the same sum.
            dcols = np.multiply(w3.transpose(0, 2, 1), dout3, out=target3)  # (G, Kg, P)
        else:
            dcols = matmul(w3.transpose(0, 2, 1), dout3, out=target3)  # (G, Kg, P)
        dcols = dcols.reshape(groups * kg, p)  # (C*HH*WW, P)
    return col2im(dcols, x_shape, (kh, kw), stride, padding, dilation, scratch=True), dw, db


def _weight_grad(dout2d: np.ndarray, cols: np.ndarray, w_shape: tuple[int, ...]
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """``dw = dout cols^T`` per group, computed as ``(cols dout^T)^T``; and ``db``.

    dout2d : (F, P) or (G, F/G, P); cols : (Kg, P) or (G, Kg, P), Kg = C/G*HH*WW, or
    (Kg + 1, P) whose last row is ones (:func:`_columns`): the product's last row is then
    ``db = sum_p dout[f, p]``, returned as the second value (``None`` otherwise).
    Returns dw of ``w_shape`` (F, C/G, HH, WW), a new C-contiguous array. OpenBLAS runs
    the product with the long P axis as the shared one about twice as fast when the
    columns are the left operand (measured on the LeNet and VGG shapes).
    """
    dw_t = matmul(cols, dout2d.swapaxes(-1, -2))  # (Kg[+1], F) or (G, Kg, F/G)
    kg = int(np.prod(w_shape[1:]))
    db = dw_t[kg].copy() if dw_t.ndim == 2 and dw_t.shape[0] == kg + 1 else None
    dw = np.ascontiguousarray(dw_t[..., :kg, :].swapaxes(-1, -2)).reshape(w_shape)
    return dw, db


def _transposed_conv_fits(
    w_shape: tuple[int, ...], stride: IntPair, padding: Padding4, dilation: IntPair
) -> bool:
    """Whether :func:`_dx_by_transposed_conv` applies and is the cheaper way to dx.

    Stride 1, each pad at most the dilated kernel extent minus 1 (so the
    transposed convolution's padding is >= 0), and F <= C: then dout's columns
    (F*HH*WW rows) are no larger than the input's (C*HH*WW rows), and one
    im2col plus a GEMM moves less memory than a GEMM plus the HH*WW
    read-modify-write passes of col2im.
    """
    f, c, kh, kw = w_shape
    top, bottom, left, right = padding
    ext_h, ext_w = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
    # pads are >= 0 already (as_padding)
    return stride == (1, 1) and f <= c and max(top, bottom) <= ext_h and max(left, right) <= ext_w


def _dx_by_transposed_conv(
    dout: np.ndarray,
    w: np.ndarray,
    x_shape: tuple[int, int, int, int],
    padding: Padding4,
    dilation: IntPair,
    scratch: np.ndarray,
) -> np.ndarray:
    """Input gradient of a stride-1 convolution as a convolution of ``dout``.

    ``dx[n, c, y, x] = sum_{f, i, j} dout[n, f, y + top - i*dh, x + left - j*dw]
    * w[f, c, i, j]`` is a correlation of ``dout``, padded by ``dh*(HH-1) - top``
    (top), ``dh*(HH-1) - bottom`` (bottom) and likewise in width, with the
    kernel flipped and its F and C axes swapped. ``scratch`` (the spent input
    columns, C*HH*WW rows) receives dout's columns in its first F*HH*WW rows when
    their lengths and dtypes match.
    """
    n, c, h, wd = x_shape
    f, _, kh, kw = w.shape
    top, bottom, left, right = padding
    ext_h, ext_w = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
    pad_t = (ext_h - top, ext_h - bottom, ext_w - left, ext_w - right)
    dcols = im2col(dout, (kh, kw), (1, 1), pad_t, dilation,
                   out=scratch[: f * kh * kw])  # (F*HH*WW, N*H*W)
    w_t = w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1].reshape(c, f * kh * kw)  # (C, F*HH*WW)
    dx2d = matmul(w_t, dcols)  # (C, N*H*W)
    return dx2d.reshape(c, n, h, wd).transpose(1, 0, 2, 3)  # (N, C, H, W) view, (C, N) memory


def _dx_on_padded_width(
    dout: np.ndarray,
    w: np.ndarray,
    x_shape: tuple[int, int, int, int],
    padding: Padding4,
    dilation: IntPair,
) -> np.ndarray:
    """Input gradient of a stride-1 convolution: ``col2im(W^T dout)`` over whole rows.

    ``dout`` is widened with zeros from ``out_w`` to the padded input width ``Wp``, so
    the column gradient ``W^T dout_wide`` (C*HH*WW, N*out_h*Wp) has rows of the padded
    width and :func:`~cnnspec.engine.im2col.col2im_wide` adds each kernel offset's plane
    as whole runs of ``out_h*Wp`` values (plain col2im adds rows of ``out_w``, a short
    inner loop for small maps). The GEMM grows by ``Wp / out_w``.
    """
    f, c, kh, kw = w.shape
    n, _, out_h, out_w = dout.shape
    wp = x_shape[3] + padding[2] + padding[3]
    wide = np.zeros((f, n, out_h, wp), dtype=np.result_type(dout, w))  # (F, N, out_h, Wp)
    wide[..., :out_w] = dout.transpose(1, 0, 2, 3)
    dcols = gemm_operand(c * kh * kw, n * out_h * wp, wide.dtype)  # (C*HH*WW, N*out_h*Wp)
    matmul(w.reshape(f, c * kh * kw).T, wide.reshape(f, -1), out=dcols)
    return col2im_wide(dcols, x_shape, (kh, kw), padding, dilation)


def conv2d_forward_naive(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    pad_value: float = 0.0,
) -> tuple[np.ndarray, Conv2dNaiveCache]:
    """Loop twin of :func:`conv2d_forward` (same arguments and result); test oracle only."""
    s = _setup(x, w, b, stride, padding, dilation, groups)
    n = x.shape[0]
    f, cg, kh, kw = w.shape
    fg = f // groups
    (sh, sw), (dh, dw), (top, bottom, left, right) = s.stride, s.dilation, s.padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=pad_value)
    out = np.zeros((n, f, s.out_h, s.out_w), dtype=np.result_type(x, w))
    for i in range(n):
        for k in range(f):
            g = k // fg
            for oh in range(s.out_h):
                for ow in range(s.out_w):
                    r, q = oh * sh, ow * sw
                    patch = xp[i, g * cg : (g + 1) * cg, r : r + dh * (kh - 1) + 1 : dh,
                               q : q + dw * (kw - 1) + 1 : dw]  # fmt: skip
                    out[i, k, oh, ow] = np.sum(patch * w[k]) + (0.0 if b is None else b[k])
    cache = Conv2dNaiveCache(
        x, w, b is not None, s.stride, s.padding, s.dilation, groups, pad_value
    )
    return out, cache


def conv2d_backward_naive(
    dout: np.ndarray, cache: Conv2dNaiveCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Loop twin of :func:`conv2d_backward`; test oracle only."""
    x, w, has_bias, (sh, sw), padding, (dh, dw_), groups, pad_value = cache
    top, bottom, left, right = padding
    n, _, h, wd = x.shape
    f, cg, kh, kw = w.shape
    fg = f // groups
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=pad_value)
    dxp = np.zeros_like(xp, dtype=np.result_type(x, dout))
    dw = np.zeros_like(w, dtype=np.result_type(w, dout))
    _, _, out_h, out_w = dout.shape
    for i in range(n):
        for k in range(f):
            g = k // fg
            for oh in range(out_h):
                for ow in range(out_w):
                    r, q = oh * sh, ow * sw
                    rows = slice(r, r + dh * (kh - 1) + 1, dh)
                    colz = slice(q, q + dw_ * (kw - 1) + 1, dw_)
                    chans = slice(g * cg, (g + 1) * cg)
                    dw[k] += dout[i, k, oh, ow] * xp[i, chans, rows, colz]
                    dxp[i, chans, rows, colz] += dout[i, k, oh, ow] * w[k]
    dx = dxp[:, :, top : top + h, left : left + wd].copy()
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dw, db
