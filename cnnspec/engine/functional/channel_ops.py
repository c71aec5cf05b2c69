"""Channel operations: gate (multiply by a broadcast map), split and shuffle.

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` only.

Layout NCHW; dims N (batch), C (channels), H, W. Each op is a pair
``xxx_forward(...) -> (out, cache)`` / ``xxx_backward(dout, cache)`` with a
``NamedTuple`` cache; inputs and ``dout`` are never modified.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnspec.errors import EngineError


class GateCache(NamedTuple):
    """x : the gated input (N, C, H, W); g : the gate, x's shape with some axes of size 1."""

    x: np.ndarray
    g: np.ndarray


class SplitCache(NamedTuple):
    """shape : the input's shape; start, stop : the channels taken."""

    shape: tuple[int, ...]
    start: int
    stop: int


class ShuffleCache(NamedTuple):
    """groups : g of the forward shuffle."""

    groups: int


def gate_forward(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, GateCache]:
    """``out = x * g`` with ``g`` broadcast: (N, C, 1, 1) per channel, (N, 1, H, W) per
    position, or (N, C, H, W) value by value."""
    if g.ndim != x.ndim or any(a not in (1, b) for a, b in zip(g.shape[1:], x.shape[1:],
                                                                strict=True)):
        raise EngineError(f"a gate of shape {g.shape} cannot multiply an input of shape "
                          f"{x.shape}", hint="the gate's axes must equal the input's or be 1")
    return x * g, GateCache(x, g)


def gate_backward(dout: np.ndarray, cache: GateCache) -> tuple[np.ndarray, np.ndarray]:
    """``dx = dout * g``; ``dg = sum of dout * x`` over the axes ``g`` broadcasts on."""
    x, g = cache
    dx = dout * g
    axes = tuple(i for i in range(1, x.ndim) if g.shape[i] == 1 and x.shape[i] != 1)
    dg = np.sum(dout * x, axis=axes, keepdims=True) if axes else dout * x
    return dx, dg


def split_forward(x: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, SplitCache]:
    """``out = x[:, start:stop]``: channels ``start`` to ``stop - 1`` (a copy)."""
    if not 0 <= start < stop <= x.shape[1]:
        raise EngineError(f"cannot take channels {start}:{stop} of {x.shape[1]}")
    return x[:, start:stop].copy(), SplitCache(x.shape, start, stop)


def split_backward(dout: np.ndarray, cache: SplitCache) -> np.ndarray:
    """``dx`` is ``dout`` on the channels taken, 0 on the others."""
    dx = np.zeros(cache.shape, dtype=dout.dtype)
    dx[:, cache.start:cache.stop] = dout
    return dx


def shuffle_forward(x: np.ndarray, groups: int) -> tuple[np.ndarray, ShuffleCache]:
    """Channel shuffle: ``out[:, i * g + j] = x[:, j * n + i]`` with ``C = g * n``.

    (N, C, H, W) -> (N, g, n, H, W) -> transpose the group axes -> (N, n, g, H, W)
    -> (N, C, H, W).
    """
    n, c = x.shape[:2]
    if c % groups:
        raise EngineError(f"shuffle: {groups} groups do not divide {c} channels")
    rest = x.shape[2:]
    grouped = x.reshape(n, groups, c // groups, *rest)  # (N, g, C/g, H, W)
    out = grouped.swapaxes(1, 2).reshape(n, c, *rest)  # (N, C/g, g, H, W) -> (N, C, H, W)
    return out, ShuffleCache(groups)


def shuffle_backward(dout: np.ndarray, cache: ShuffleCache) -> np.ndarray:
    """The inverse permutation: a shuffle with ``C / g`` groups."""
    c = dout.shape[1]
    return shuffle_forward(dout, c // cache.groups)[0]
