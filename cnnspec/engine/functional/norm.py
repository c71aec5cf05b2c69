"""Batch normalisation (1d and 2d), local response normalisation, dropout.

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` only.

Named dims: N (batch), C (channels or features), H, W; M is the number of
values per channel that batch statistics average over (N*H*W, or N).

Batch norm's running statistics follow PyTorch exactly::

    running_mean = (1 - momentum) * running_mean + momentum * batch_mean
    running_var  = (1 - momentum) * running_var  + momentum * batch_var * M / (M - 1)

(the running variance is the unbiased one, the normalisation uses the biased
one). Like ``torch.nn.functional.batch_norm``, the training forward updates
``running_mean`` and ``running_var`` **in place**; it is the only op of the
engine that writes to its arguments.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnspec.errors import EngineError

__all__ = [
    "BatchNormCache",
    "DropoutCache",
    "LrnCache",
    "batchnorm1d_forward",
    "batchnorm2d_forward",
    "batchnorm_backward",
    "dropout_backward",
    "dropout_forward",
    "fold_batchnorm",
    "lrn_backward",
    "lrn_forward",
    "lrn_forward_naive",
]


class BatchNormCache(NamedTuple):
    """xhat : normalised input (x's shape); inv_std : (C,) 1/sqrt(var + eps);
    gamma : (C,); axes : the reduced axes; training : which statistics were used.
    """

    xhat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    axes: tuple[int, ...]
    training: bool


def batchnorm_scale_shift(
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    eps: float,
    b: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Inference batch norm of ``y + b`` as one affine map per channel: ``(s, t)``.

    ``gamma * (y + b - mean) / sqrt(var + eps) + beta = s * y + t`` with
    ``s = gamma / sqrt(var + eps)`` and ``t = s * (b - mean) + beta`` (``b = 0``
    when absent: the bias of the conv before it). Both (C,).
    """
    scale = gamma / np.sqrt(running_var + eps)  # (C,)
    bias = -running_mean if b is None else b - running_mean
    return scale, bias * scale + beta


def fold_batchnorm(
    w: np.ndarray,
    b: np.ndarray | None,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    eps: float,
) -> tuple[np.ndarray, np.ndarray]:
    """A convolution followed by inference batch norm, as one convolution.

    With ``s, t`` of :func:`batchnorm_scale_shift`, batch norm of the conv output
    ``y[n, f] = s[f] * conv(x, w)[n, f] + t[f]`` is the conv with ``w'[f] = s[f] * w[f]``
    and bias ``b' = t = s * (b - mean) + beta`` (``b = 0`` when the conv has no bias).
    Only for inference: training normalises with the batch's statistics.

    Returns (w', b') in w's dtype: (F, C/G, HH, WW) and (F,).
    """
    scale, shift = batchnorm_scale_shift(gamma, beta, running_mean, running_var, eps, b)
    w_folded = (w * scale[:, None, None, None]).astype(w.dtype, copy=False)
    return w_folded, shift.astype(w.dtype, copy=False)


def batchnorm_inference(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    eps: float,
) -> np.ndarray:
    """Inference batch norm without a cache: ``out = s * x + t`` per channel (axis 1).

    ``s, t`` from :func:`batchnorm_scale_shift`; two passes over x (the training
    form's four, and no ``xhat`` kept, since no backward pass follows). x : (N, C, ...);
    out has x's shape and memory order.
    """
    c = x.shape[1]
    bshape = (1, c) + (1,) * (x.ndim - 2)
    scale, shift = batchnorm_scale_shift(gamma, beta, running_mean, running_var, eps)
    out = np.multiply(x, scale.astype(x.dtype, copy=False).reshape(bshape))
    out += shift.astype(x.dtype, copy=False).reshape(bshape)
    return out


def _batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    training: bool,
    momentum: float,
    eps: float,
    axes: tuple[int, ...],
) -> tuple[np.ndarray, BatchNormCache]:
    c = x.shape[1]
    for name, arr in (("gamma", gamma), ("beta", beta)):
        if arr.shape != (c,):
            raise EngineError(f"batch norm {name} must have shape ({c},), got {arr.shape}")
    for name, arr in (("running_mean", running_mean), ("running_var", running_var)):
        if arr is not None and arr.shape != (c,):
            raise EngineError(f"batch norm {name} must have shape ({c},), got {arr.shape}")
    if not 0.0 <= momentum <= 1.0:
        raise EngineError(f"batch norm momentum must be in [0, 1], got {momentum}")
    if not eps > 0:
        raise EngineError(f"batch norm eps must be > 0, got {eps}")
    bshape = [1] * x.ndim
    bshape[1] = c  # (1, C, 1, 1) or (1, C)
    m = x.size // c
    if training:
        if m < 2:
            raise EngineError(
                "batch norm needs more than one value per channel in training",
                hint="use a batch larger than 1 or evaluation mode",
            )
        mean = x.mean(axis=axes)  # (C,)
        xc = x - mean.reshape(bshape)  # (C,) -> (1, C, 1, 1) or (1, C)
        var = np.mean(xc * xc, axis=axes)  # (C,) biased
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += momentum * var * (m / (m - 1))
    else:
        if running_mean is None or running_var is None:
            raise EngineError("batch norm in evaluation mode needs running_mean and running_var")
        xc = x - running_mean.reshape(bshape).astype(x.dtype, copy=False)  # (1, C, ...)
        var = running_var
    inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)  # (C,)
    xhat = xc * inv_std.reshape(bshape)  # (C,) -> (1, C, 1, 1) or (1, C)
    out = xhat * gamma.reshape(bshape) + beta.reshape(bshape)  # (1, C, ...) broadcasts
    return out, BatchNormCache(xhat, inv_std, gamma, axes, training)


def batchnorm2d_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    *,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[np.ndarray, BatchNormCache]:
    """Spatial batch norm: ``out = gamma * (x - mean) / sqrt(var + eps) + beta`` per channel.

    Parameters
    ----------
    x : (N, C, H, W).
    gamma, beta : (C,) scale and shift.
    running_mean, running_var : (C,) arrays, updated in place when
        ``training`` (pass ``None`` not to track them); used instead of the
        batch statistics when not ``training``.
    training : batch statistics (True) or running statistics (False).
    momentum, eps : PyTorch's meaning and defaults.

    Returns
    -------
    out : (N, C, H, W); cache : :class:`BatchNormCache`.
    """
    if x.ndim != 4:
        raise EngineError(f"batchnorm2d expects (N, C, H, W), got {x.shape}")
    return _batchnorm_forward(
        x, gamma, beta, running_mean, running_var, training, momentum, eps, (0, 2, 3)
    )


def batchnorm1d_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    *,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[np.ndarray, BatchNormCache]:
    """Batch norm over features: x (N, C), statistics over N; else :func:`batchnorm2d_forward`."""
    if x.ndim != 2:
        raise EngineError(f"batchnorm1d expects (N, C), got {x.shape}")
    return _batchnorm_forward(
        x, gamma, beta, running_mean, running_var, training, momentum, eps, (0,)
    )


def batchnorm_backward(
    dout: np.ndarray, cache: BatchNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of :func:`batchnorm2d_forward` and :func:`batchnorm1d_forward`.

    Returns
    -------
    dx : x's shape. Training (batch statistics depend on x)::

        dx = inv_std / M * (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)),
        dxhat = dout * gamma

      Evaluation: ``dx = dout * gamma * inv_std``.
    dgamma : (C,) = sum(dout * xhat);  dbeta : (C,) = sum(dout).
    """
    xhat, inv_std, gamma, axes, training = cache
    bshape = [1] * xhat.ndim
    bshape[1] = xhat.shape[1]
    dbeta = dout.sum(axis=axes)
    dgamma = np.sum(dout * xhat, axis=axes)
    scale = (gamma * inv_std).reshape(bshape)  # (C,) -> (1, C, 1, 1) or (1, C)
    if not training:
        return dout * scale, dgamma, dbeta
    m = xhat.size // xhat.shape[1]
    # With dxhat = dout * gamma, sum(dxhat) = gamma * dbeta and
    # sum(dxhat * xhat) = gamma * dgamma, so no extra reductions are needed.
    mean_terms = dbeta.reshape(bshape) + xhat * dgamma.reshape(bshape)  # (1, C, ...) bcast
    dx = scale * (dout - mean_terms / m)
    return dx, dgamma, dbeta


# --------------------------------------------------------------------------- LRN


class LrnCache(NamedTuple):
    """x : input; denom : k + c * S (x's shape); c : effective alpha; beta;
    before, after : window reach below and above channel i.
    """

    x: np.ndarray
    denom: np.ndarray
    c: float
    beta: float
    before: int
    after: int


def _channel_window_sum(v: np.ndarray, before: int, after: int) -> np.ndarray:
    """``out[:, i] = sum_{j=max(0, i-before)}^{min(C-1, i+after)} v[:, j]`` (loop over offsets)."""
    out = v.copy()
    for d in range(1, before + 1):
        out[:, d:] += v[:, :-d]
    for d in range(1, after + 1):
        out[:, :-d] += v[:, d:]
    return out


def _lrn_settings(
    size: int, alpha: float, alpha_over_n: bool, torch_window: bool
) -> tuple[float, int, int]:
    """(effective alpha, channels before i, channels after i) of the window."""
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise EngineError(f"LRN size must be a positive int, got {size!r}")
    c = alpha / size if alpha_over_n else alpha
    after = (size - 1) // 2 if torch_window else size // 2
    return c, size // 2, after


def lrn_forward(
    x: np.ndarray,
    *,
    size: int = 5,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 2.0,
    alpha_over_n: bool = False,
    torch_window: bool = False,
) -> tuple[np.ndarray, LrnCache]:
    """Local response normalisation across channels (AlexNet; defaults are the paper's).

    ``b^i = a^i / (k + alpha * sum_{j=max(0, i-n/2)}^{min(C-1, i+n/2)} (a^j)^2)^beta``
    with ``n = size`` and integer ``n/2``, at every (n, h, w).

    PyTorch's ``nn.LocalResponseNorm`` differs in two ways: it divides alpha
    by n, and it pads the channel axis asymmetrically, so its window is
    ``i - n//2 .. i + (n-1)//2`` (the same window for odd n; for even n the
    lecture formula spans n+1 channels, PyTorch n). ``alpha_over_n=True``
    uses ``alpha / n``; ``torch_window=True`` uses PyTorch's window. Both
    True reproduce PyTorch exactly.

    Parameters
    ----------
    x : (N, C, H, W) (any (N, C, ...) works).

    Returns
    -------
    out : x's shape; cache : :class:`LrnCache`.
    """
    if x.ndim < 2:
        raise EngineError(f"LRN expects (N, C, H, W), got {x.shape}")
    c, before, after = _lrn_settings(size, alpha, alpha_over_n, torch_window)
    denom = k + c * _channel_window_sum(x * x, before, after)
    return x * denom**-beta, LrnCache(x, denom, c, beta, before, after)


def lrn_backward(dout: np.ndarray, cache: LrnCache) -> np.ndarray:
    """``dx_m = dout_m D_m^-beta - 2 c beta a_m sum_{i: m in window(i)} dout_i a_i D_i^(-beta-1)``.

    ``D = k + c S`` is the cached denominator; the channels i whose window
    holds m are ``m - after .. m + before`` (the transposed window).
    """
    x, denom, c, beta, before, after = cache
    inner = dout * x * denom ** (-beta - 1)
    return dout * denom**-beta - (2 * c * beta) * x * _channel_window_sum(inner, after, before)


def lrn_forward_naive(
    x: np.ndarray,
    *,
    size: int = 5,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 2.0,
    alpha_over_n: bool = False,
    torch_window: bool = False,
) -> np.ndarray:
    """Loop-over-channels twin of :func:`lrn_forward` (forward only); test oracle."""
    c, before, after = _lrn_settings(size, alpha, alpha_over_n, torch_window)
    channels = x.shape[1]
    out = np.empty_like(x)
    for i in range(channels):
        lo, hi = max(0, i - before), min(channels - 1, i + after)
        s = sum(x[:, j] ** 2 for j in range(lo, hi + 1))
        out[:, i] = x[:, i] / (k + c * s) ** beta
    return out


# --------------------------------------------------------------------------- dropout


class DropoutCache(NamedTuple):
    """mask : keep-mask already divided by (1 - p), x's shape; ``None`` when inactive."""

    mask: np.ndarray | None


def dropout_forward(
    x: np.ndarray, p: float, *, training: bool, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, DropoutCache]:
    """Inverted dropout: ``out = x * [u >= p] / (1 - p)`` with ``u ~ U[0, 1)``.

    Each element is zeroed with probability p and the survivors are scaled
    by 1/(1-p), so the expected output equals x and inference is the
    identity (returns ``x`` itself when not training or p == 0).
    ``rng`` is required when training with p > 0.
    """
    if not 0.0 <= p < 1.0:
        raise EngineError(f"dropout probability must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x, DropoutCache(None)
    if rng is None:
        raise EngineError("dropout in training mode needs an rng (Generator)")
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    keep = rng.random(x.shape, dtype=dtype) >= p
    mask = keep * dtype.type(1.0 / (1.0 - p))
    return x * mask, DropoutCache(mask)


def dropout_backward(dout: np.ndarray, cache: DropoutCache) -> np.ndarray:
    """``dx = dout * mask`` (a copy of dout when dropout was inactive)."""
    return dout.copy() if cache.mask is None else dout * cache.mask
