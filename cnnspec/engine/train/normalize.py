"""Input standardisation: the per-channel mean and spread of the training images.

Room: engine (``cnnspec/engine/train``); imports NumPy only.

For channel c, with mean ``mu_c`` and standard deviation ``sigma_c`` over every training
image and pixel: ``x'[n, c, h, w] = (x[n, c, h, w] - mu_c) / sigma_c``. Centred inputs of
unit spread make the first layer's gradients better scaled (LeCun et al., "Efficient
BackProp", 1998). The statistics come from the training part only and are stored in
every checkpoint (``info["data"]["normalize"]``), so ``evaluate`` and ``predict`` feed
the network what it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MIN_STD = 1e-6  # a constant channel is centred but not scaled


@dataclass(frozen=True)
class Standardize:
    """Per-channel ``(x - mean) / std``; ``mean``/``std`` have one entry per channel."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, x: np.ndarray) -> Standardize:
        """The statistics of ``x`` (N, C, H, W), computed in float64."""
        mean = x.mean(axis=(0, 2, 3), dtype=np.float64)  # (C,)
        std = x.std(axis=(0, 2, 3), dtype=np.float64)  # (C,)
        return cls(tuple(float(m) for m in mean), tuple(float(max(s, MIN_STD)) for s in std))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``x`` (N, C, H, W) standardised, as float32 (a new array)."""
        mean = np.asarray(self.mean, dtype=np.float32)[None, :, None, None]  # (1, C, 1, 1)
        std = np.asarray(self.std, dtype=np.float32)[None, :, None, None]
        return ((x - mean) / std).astype(np.float32, copy=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Standardize | None:
        """The inverse of :meth:`to_dict`; ``None`` stays ``None`` (no standardisation)."""
        if not data:
            return None
        return cls(tuple(data["mean"]), tuple(data["std"]))


def standardize_from_info(info: dict[str, Any]) -> Standardize | None:
    """The standardisation a checkpoint's network was trained with, if any."""
    return Standardize.from_dict(info.get("data", {}).get("normalize"))


def apply_standardize(norm: Standardize | None, x: np.ndarray) -> np.ndarray:
    """``norm.apply(x)``, or ``x`` itself when there is no standardisation."""
    return x if norm is None else norm.apply(x)
