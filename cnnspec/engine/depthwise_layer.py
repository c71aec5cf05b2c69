"""The depthwise convolution layer (``groups = C = F``), built by per-tap accumulation.

Room: engine; imports NumPy, the functional engine and the analysis records.
"""

from __future__ import annotations

import numpy as np

from cnnspec.analysis.records import LayerRecord
from cnnspec.engine.functional.depthwise import (
    depthwise_conv2d_backward,
    depthwise_conv2d_forward,
)
from cnnspec.engine.layers import Layer, RunContext


class DepthwiseConv(Layer):
    """``out[n, c] = w[c] * x[n, c] + b[c]``: one filter per channel (weight (C, 1, HH, WW))."""

    def __init__(self, record: LayerRecord, w: np.ndarray, b: np.ndarray | None, *,
                 stride: tuple[int, int], padding: tuple[int, int, int, int],
                 dilation: tuple[int, int], pad_value: float):
        super().__init__(record)
        self.params["weight"] = w
        if b is not None:
            self.params["bias"] = b
        self.options = {"stride": tuple(stride), "padding": padding,
                        "dilation": tuple(dilation), "pad_value": pad_value}

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = depthwise_conv2d_forward(x, self.params["weight"], self.params.get("bias"),
                                              **self.options)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, self.grads["weight"], db = depthwise_conv2d_backward(dout, self.cache)
        if db is not None:
            self.grads["bias"] = db
        self.cache = None
        return dx
