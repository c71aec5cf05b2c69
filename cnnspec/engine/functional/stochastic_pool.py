"""Stochastic pooling (Zeiler & Fergus 2013, as taught in SEEDS.md), NCHW.

Room: ``cnnspec/engine``; imports NumPy, :mod:`cnnspec.errors` and
:mod:`cnnspec.engine.im2col` / :mod:`.pool` only.

For a window (region) R_j holding non-negative activations a_i::

    p_i = a_i / sum_{k in R_j} a_k
    training:  out_j = a_I  with I drawn from p (one draw per window)
    inference: out_j = s_j = sum_{i in R_j} p_i a_i = (sum a_i^2) / (sum a_i)

A window of zeros outputs 0 and gets no gradient in either mode. In
training the gradient goes to the sampled element (like max pooling); at
inference it flows through the weighted sum::

    d s_j / d a_i = (2 a_i S1 - S2) / S1^2,   S1 = sum a_k,  S2 = sum a_k^2

Inputs must be non-negative (put the pooling after a ReLU); padding is 0,
which never gets sampled. Randomness comes only from the ``rng`` passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from cnnspec.engine.functional.pool import PoolGeometry, pool_geometry
from cnnspec.engine.im2col import pad_nchw, sliding_windows
from cnnspec.errors import EngineError

__all__ = [
    "StochasticPool2dCache",
    "stochastic_pool2d_backward",
    "stochastic_pool2d_forward",
    "stochastic_pool2d_forward_naive",
]


class StochasticPool2dCache(NamedTuple):
    """a : (N, C, out_h, out_w, HH*WW) window values (row-major offsets);
    idx : (N, C, out_h, out_w) sampled offset (training) or ``None``;
    nonzero : (N, C, out_h, out_w) bool, False for all-zero windows;
    training : the mode; geom : :class:`PoolGeometry`.
    """

    a: np.ndarray
    idx: np.ndarray | None
    nonzero: np.ndarray
    training: bool
    geom: PoolGeometry


def _windows(x: np.ndarray, g: PoolGeometry) -> np.ndarray:
    xp = pad_nchw(x, g.full_padding, 0.0)
    win = sliding_windows(xp, g.kernel, g.stride, g.dilation, g.out_h, g.out_w)
    n, c = x.shape[:2]
    k = g.kernel[0] * g.kernel[1]
    win = win.transpose(0, 1, 4, 5, 2, 3)  # (N, C, out_h, out_w, HH, WW)
    return win.reshape(n, c, g.out_h, g.out_w, k)  # (N, C, out_h, out_w, HH*WW), a copy


def _sample(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the first k with cumsum_k > u * total, i.e. a draw from p."""
    csum = np.cumsum(a, axis=-1)  # (..., K)
    threshold = u * csum[..., -1]  # in [0, total): zero-valued elements are never picked
    idx = np.count_nonzero(csum <= threshold[..., None], axis=-1)
    return np.minimum(idx, a.shape[-1] - 1)


def stochastic_pool2d_forward(
    x: np.ndarray,
    kernel: int | Sequence[int],
    *,
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    training: bool,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, StochasticPool2dCache]:
    """Stochastic pooling forward pass.

    Parameters
    ----------
    x : (N, C, H, W) non-negative floating input.
    kernel, stride, padding, ceil_mode : as :func:`~.pool.max_pool2d_forward`.
    training : sample (True) or take the probability-weighted mean (False).
    rng : the generator to draw from; required when ``training``. One
        uniform number per window is drawn, shape (N, C, out_h, out_w).

    Returns
    -------
    out : (N, C, out_h, out_w); cache : :class:`StochasticPool2dCache`.
    """
    g = pool_geometry(x, kernel, stride, padding, 1, ceil_mode)
    if np.any(x < 0):
        raise EngineError(
            "stochastic pooling needs non-negative activations",
            hint="put it after a ReLU; p_i = a_i / sum a_k is not a probability otherwise",
        )
    a = _windows(x, g)
    total = a.sum(axis=-1)  # (N, C, out_h, out_w)
    nonzero = total > 0
    if training:
        if rng is None:
            raise EngineError("stochastic pooling in training mode needs an rng (Generator)")
        idx = _sample(a, rng.random(total.shape))
        out = np.take_along_axis(a, idx[..., None], axis=-1)[..., 0]  # (N, C, out_h, out_w)
        out = np.where(nonzero, out, 0).astype(x.dtype, copy=False)
        return out, StochasticPool2dCache(a, idx, nonzero, True, g)
    safe = np.where(nonzero, total, 1)
    out = np.where(nonzero, np.einsum("nchwk,nchwk->nchw", a, a) / safe, 0)
    return out.astype(x.dtype, copy=False), StochasticPool2dCache(a, None, nonzero, False, g)


def stochastic_pool2d_backward(dout: np.ndarray, cache: StochasticPool2dCache) -> np.ndarray:
    """Stochastic pooling backward pass; dx : (N, C, H, W).

    Training: ``dout`` goes to the sampled element. Inference:
    ``dx_i += dout_j (2 a_i S1 - S2) / S1^2`` for every i in window j.
    All-zero windows pass no gradient.
    """
    a, idx, nonzero, training, g = cache
    dmasked = np.where(nonzero, dout, 0).astype(dout.dtype, copy=False)
    if training:
        k_of = idx
        grad = None
    else:
        s1 = np.where(nonzero, a.sum(axis=-1), 1)  # (N, C, out_h, out_w)
        s2 = np.einsum("nchwk,nchwk->nchw", a, a)
        # (N, C, out_h, out_w, K): d s / d a_i times dout
        grad = (2 * a * s1[..., None] - s2[..., None]) * (dmasked / s1**2)[..., None]
    dxp = np.zeros(g.padded_shape(), dtype=dout.dtype)
    zero = dout.dtype.type(0)
    for k, (i, j) in enumerate(g.offsets()):
        if training:
            dxp[g.plane(i, j)] += np.where(k_of == k, dmasked, zero)
        else:
            dxp[g.plane(i, j)] += grad[..., k]
    return g.crop(dxp)


def stochastic_pool2d_forward_naive(
    x: np.ndarray,
    kernel: int | Sequence[int],
    *,
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    training: bool,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Loop twin of :func:`stochastic_pool2d_forward` (forward only); test oracle.

    Draws the same uniforms, in the same order, as the fast kernel.
    """
    g = pool_geometry(x, kernel, stride, padding, 1, ceil_mode)
    top, bottom, left, right = g.full_padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, c = x.shape[:2]
    out = np.zeros((n, c, g.out_h, g.out_w), dtype=x.dtype)
    u = rng.random(out.shape) if training and rng is not None else None
    for q in range(n):
        for r in range(c):
            for oh in range(g.out_h):
                for ow in range(g.out_w):
                    vals = [xp[q, r, oh * g.stride[0] + i, ow * g.stride[1] + j]
                            for i, j in g.offsets()]  # fmt: skip
                    total = float(np.sum(vals))
                    if total == 0:
                        continue
                    if u is None:
                        out[q, r, oh, ow] = sum(v * v for v in vals) / total
                        continue
                    running, target = 0.0, u[q, r, oh, ow] * float(np.cumsum(vals)[-1])
                    for v in vals:
                        running += v
                        if running > target:
                            out[q, r, oh, ow] = v
                            break
    return out
