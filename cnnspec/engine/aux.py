"""Auxiliary classifier heads (GoogLeNet, Inception v3): trained beside the main output.

Room: engine.

A head reads the tensor passing by and feeds nothing forward: the main path goes on
with ``x`` unchanged. In training its output ``z_a`` joins the loss,

    L = L_main + w * sum_a L(z_a, y)        (w = 0.3 in the GoogLeNet paper; the default
                                             is ``train.config.DEFAULT_AUX_WEIGHT``)

so the gradient reaching ``x`` is ``dL/dx = dout + w * d L(z_a, y)/dx`` through the
head. At inference the head is skipped. Its parameters are the model's like any
other layer's, so checkpoints and exports carry them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnspec.analysis.records import LayerRecord
from cnnspec.engine.containers import Sequential
from cnnspec.engine.functional import loss_by_name
from cnnspec.engine.layers import Activation, Layer, RunContext


class AuxHead(Sequential):
    """A head on the tensor passing by: ``forward`` returns ``x`` itself.

    In training the head's output is kept (``z``: the logits, before a final softmax
    layer; ``out``: the head's output) until :func:`aux_losses` turns it into a loss
    and a gradient, which :meth:`backward` adds to the main path's.
    """

    def __init__(self, record: LayerRecord, head: Sequential):
        super().__init__(record, [head])
        self.head = head
        last = head.children[-1] if head.children else None
        self.softmax = last if isinstance(last, Activation) and last.kind == "softmax" else None
        self.logit_part = Sequential(None, head.children[:-1]) if self.softmax else head
        self.z: np.ndarray | None = None
        self.out: np.ndarray | None = None
        self.pending: tuple[np.ndarray, bool] | None = None  # (gradient, on the logits?)

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        self.pending = None
        if not ctx.training:
            self.z = self.out = None
            return x
        self.z = self.logit_part.forward(x, ctx)
        self.out = self.softmax.forward(self.z, ctx) if self.softmax else self.z
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self.pending is None:  # the head took no part in the loss: no gradient for it
            for leaf in self.head.leaves():
                leaf.grads = {k: np.zeros_like(v) for k, v in leaf.params.items()}
            return dout
        grad, on_logits = self.pending
        self.pending = None
        if not on_logits and self.softmax is not None:
            grad = self.softmax.backward(grad)
        return dout + self.logit_part.backward(grad)


def find_heads(layer: Layer) -> list[AuxHead]:
    """Every auxiliary head under ``layer``, in forward order."""
    if isinstance(layer, AuxHead):
        return [layer]
    children = getattr(layer, "children", [])
    return [head for child in children for head in find_heads(child)]


def aux_losses(heads: list[AuxHead], y: np.ndarray, loss: str, weight: float) -> float:
    """``w * sum_a L(z_a, y)`` for the heads of the last training pass; sets their gradients.

    ``cross_entropy`` reads each head's logits (a final softmax is folded into the loss),
    ``squared`` its output, as for the main output. Returns 0 when there are no heads or
    ``weight`` is 0 (then no head is trained).
    """
    total = 0.0
    if weight == 0:
        return total
    for head in heads:
        if head.z is None or head.out is None:
            continue
        scores = _flat(head.z if loss == "cross_entropy" else head.out)  # (N, K)
        value, grad = loss_by_name(scores, y, loss)
        shape = head.z.shape if loss == "cross_entropy" else head.out.shape
        head.pending = ((weight * grad).reshape(shape).astype(scores.dtype, copy=False),
                        loss == "cross_entropy")
        total += weight * float(value)
    return total


def _flat(a: np.ndarray) -> Any:
    return a.reshape(len(a), -1)
