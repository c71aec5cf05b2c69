"""Layers of the channel operations (split, shuffle) and the gate container.

Room: engine; imports NumPy, the functional engine and the analysis records.
"""

from __future__ import annotations

import numpy as np

from cnnspec.analysis.records import LayerRecord
from cnnspec.engine.containers import Sequential
from cnnspec.engine.functional import channel_ops as F
from cnnspec.engine.layers import Layer, RunContext


class Split(Layer):
    """``x[:, start:stop]``; the gradient is zero on the channels not taken."""

    def __init__(self, record: LayerRecord, start: int, stop: int):
        super().__init__(record)
        self.start, self.stop = start, stop

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = F.split_forward(x, self.start, self.stop)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.split_backward(dout, self.cache)


class Shuffle(Layer):
    """Channel shuffle with ``groups`` groups; backward applies the inverse permutation."""

    def __init__(self, record: LayerRecord, groups: int):
        super().__init__(record)
        self.groups = groups

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = F.shuffle_forward(x, self.groups)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.shuffle_backward(dout, self.cache)


class Gate(Sequential):
    """``y = x * body(x)``: the gradient reaches x directly (``dout * g``) and through the body
    (``dg = sum(dout * x)`` over the broadcast axes), and the two add up."""

    def __init__(self, record: LayerRecord, body: Sequential, merge: Layer):
        super().__init__(record, [body, merge])
        self.body = body

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        g = self.body.forward(x, ctx)
        out, cache = F.gate_forward(x, g)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dg = F.gate_backward(dout, self.cache)
        return dx + self.body.backward(dg)
