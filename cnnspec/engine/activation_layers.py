"""Layer objects of the table's activations: element-wise ones and PReLU.

Room: engine; imports NumPy, the functional engine, the analysis records and
the activation table (read-only).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnspec.analysis.records import LayerRecord
from cnnspec.engine.functional import elementwise as E
from cnnspec.engine.layers import Layer, RunContext


class Elementwise(Layer):
    """``out = f(x)`` for one activation of the ``ELEMENTWISE`` table."""

    def __init__(self, record: LayerRecord, kind: str, settings: dict[str, Any]):
        super().__init__(record)
        self.kind = kind
        self.settings = settings

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = E.elementwise_forward(self.kind, x, **self.settings)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return E.elementwise_backward(self.kind, dout, self.cache)


class PReLU(Layer):
    """``x if x > 0 else a_c * x`` with learned slopes ``weight`` of shape (1,) or (C,)."""

    def __init__(self, record: LayerRecord, slopes: np.ndarray):
        super().__init__(record)
        self.params["weight"] = slopes

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = E.prelu_forward(x, self.params["weight"])
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, self.grads["weight"] = E.prelu_backward(dout, self.cache)
        return dx
