"""Merging branches: residual addition and channel concatenation.

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` only.

ResNet's ``y = F(x) + x`` is :func:`add_forward`; DenseNet's
``x_i = H_i([x_0, ..., x_{i-1}])`` and GoogLeNet's inception outputs are
:func:`concat_forward` along the channel axis (axis 1 in NCHW).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from cnnspec.errors import EngineError

__all__ = [
    "AddCache",
    "ConcatCache",
    "add_backward",
    "add_forward",
    "concat_backward",
    "concat_forward",
]


class AddCache(NamedTuple):
    """shape : the common shape of both inputs."""

    shape: tuple[int, ...]


class ConcatCache(NamedTuple):
    """sizes : each input's extent along ``axis``; axis."""

    sizes: tuple[int, ...]
    axis: int


def add_forward(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, AddCache]:
    """Residual addition ``out = a + b``; both inputs must have the same shape (no broadcasting)."""
    if a.shape != b.shape:
        raise EngineError(
            f"residual add needs equal shapes, got {a.shape} and {b.shape}",
            hint="use a projection shortcut (1x1 conv) when channels or size change",
        )
    return a + b, AddCache(a.shape)


def add_backward(dout: np.ndarray, cache: AddCache) -> tuple[np.ndarray, np.ndarray]:
    """``da = db = dout``, returned as two independent copies (callers may accumulate in place)."""
    if dout.shape != cache.shape:
        raise EngineError(f"dout has shape {dout.shape}, expected {cache.shape}")
    return dout.copy(), dout.copy()


def concat_forward(xs: Sequence[np.ndarray], axis: int = 1) -> tuple[np.ndarray, ConcatCache]:
    """Concatenate along ``axis`` (channels by default): shapes must agree elsewhere.

    Returns out : e.g. (N, C_1 + ... + C_k, H, W) and :class:`ConcatCache`.
    """
    if len(xs) == 0:
        raise EngineError("concat needs at least one input")
    first = xs[0]
    ax = axis % first.ndim
    for x in xs[1:]:
        if x.ndim != first.ndim or any(
            d != e for i, (d, e) in enumerate(zip(x.shape, first.shape, strict=True)) if i != ax
        ):
            raise EngineError(
                f"concat along axis {axis} needs equal other dims, got "
                f"{[tuple(x.shape) for x in xs]}",
                hint="branches must keep the same spatial size (check their padding/stride)",
            )
    sizes = tuple(int(x.shape[ax]) for x in xs)
    return np.concatenate(xs, axis=ax), ConcatCache(sizes, ax)


def concat_backward(dout: np.ndarray, cache: ConcatCache) -> list[np.ndarray]:
    """Split ``dout`` back into one gradient per input (copies, not views of dout)."""
    bounds = np.cumsum(cache.sizes)[:-1]
    return [part.copy() for part in np.split(dout, bounds, axis=cache.axis)]
