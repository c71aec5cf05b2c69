"""Weight initialisers: He (Kaiming normal) and Xavier/Glorot (uniform).

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` only.

Randomness comes only from the ``np.random.Generator`` passed in, so the
same seed gives the same weights. Fans are explicit integers; the helpers
:func:`conv_fans` and :func:`fc_fans` compute them for the engine's layouts.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike

from cnnspec.errors import EngineError

__all__ = ["conv_fans", "fc_fans", "he_normal", "xavier_uniform"]


def conv_fans(w_shape: tuple[int, ...], groups: int = 1) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a conv weight (F, C/G, HH, WW).

    ``fan_in = C/G * HH * WW`` (the inputs one output unit sees) and
    ``fan_out = F/G * HH * WW`` (the outputs one input unit feeds). PyTorch
    uses ``F * HH * WW`` for fan_out whatever the groups; the two agree for G=1.
    """
    if len(w_shape) != 4:
        raise EngineError(f"conv weight must be (F, C/groups, HH, WW), got {w_shape}")
    f, cg, kh, kw = w_shape
    if groups < 1 or f % groups:
        raise EngineError(f"groups={groups} must divide the filter count {f}")
    return cg * kh * kw, (f // groups) * kh * kw


def fc_fans(w_shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out) = (D, M)`` of a fully connected weight (D, M)."""
    if len(w_shape) != 2:
        raise EngineError(f"fc weight must be (D, M), got {w_shape}")
    return int(w_shape[0]), int(w_shape[1])


def _check_fan(name: str, fan: int) -> None:
    if not isinstance(fan, (int, np.integer)) or fan < 1:
        raise EngineError(f"{name} must be a positive int, got {fan!r}")


def he_normal(
    shape: tuple[int, ...],
    *,
    fan_in: int,
    rng: np.random.Generator,
    dtype: DTypeLike = np.float32,
) -> np.ndarray:
    """He / Kaiming normal (fan_in mode, ReLU gain): ``w ~ N(0, 2 / fan_in)``.

    ``std = sqrt(2 / fan_in)``; keeps the variance of ReLU activations
    constant from layer to layer (He et al. 2015).
    """
    _check_fan("fan_in", fan_in)
    std = math.sqrt(2.0 / fan_in)
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise EngineError(f"initialisers produce float32 or float64, not {dt}")
    return rng.standard_normal(shape, dtype=dt) * dt.type(std)


def xavier_uniform(
    shape: tuple[int, ...],
    *,
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator,
    dtype: DTypeLike = np.float32,
) -> np.ndarray:
    """Xavier / Glorot uniform: ``w ~ U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``.

    The variance is ``a^2 / 3 = 2 / (fan_in + fan_out)`` (Glorot & Bengio 2010),
    suited to tanh and sigmoid layers.
    """
    _check_fan("fan_in", fan_in)
    _check_fan("fan_out", fan_out)
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise EngineError(f"initialisers produce float32 or float64, not {dt}")
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return (rng.random(shape, dtype=dt) * dt.type(2 * a) - dt.type(a)).astype(dt, copy=False)
