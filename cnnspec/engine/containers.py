"""Block containers: a sequence of layers, residual, concatenation and dual-path blocks.

Room: engine. A container runs its children forward and back-propagates through
them in reverse; residual and concat blocks merge their paths' gradients where
the paths split.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import numpy as np

from cnnspec.analysis.records import LayerRecord
from cnnspec.engine import functional as F
from cnnspec.engine.layers import Activation, BatchNorm, Conv, Layer, RunContext


def folded_batchnorm(layer: Layer, following: Layer, ctx: RunContext,
                     batch: int) -> BatchNorm | None:
    """``following`` when it is a batch norm worth folding into the conv ``layer``.

    In inference a convolution followed by batch norm can run as one convolution with
    folded weights (:meth:`Conv.forward_folded`): one pass over the output fewer, for
    one pass over the weights more. Folded when the weights are no larger than the
    output, ``F*C/G*HH*WW <= batch * F * out_h * out_w``; at batch 1 the deep layers of
    a ResNet have far more weights than outputs and keep their batch norm.
    """
    if ctx.training or type(layer) is not Conv or type(following) is not BatchNorm:
        return None
    w = layer.params["weight"]
    out_h, out_w = layer.record.output[0], layer.record.output[1]
    return following if w.size <= batch * w.shape[0] * out_h * out_w else None


def steps(children: list[Layer], ctx: RunContext,
          batch: int) -> Iterator[tuple[Layer, BatchNorm | None]]:
    """``(layer, folded batch norm or None)`` in forward order; a folded one is skipped."""
    i = 0
    while i < len(children):
        layer = children[i]
        bn = folded_batchnorm(layer, children[i + 1], ctx, batch) \
            if i + 1 < len(children) else None
        yield layer, bn
        i += 2 if bn is not None else 1


def run_step(layer: Layer, bn: BatchNorm | None, x: np.ndarray, ctx: RunContext) -> np.ndarray:
    """One step of :func:`steps`: the layer's forward, or the conv with ``bn`` folded in."""
    return layer.forward_folded(x, bn, ctx) if bn is not None else layer.forward(x, ctx)  # type: ignore[attr-defined]


def mark_in_place(children: list[Layer]) -> None:
    """Let a ReLU run in place when the layer before it in ``children`` is a conv or BN.

    Their outputs are fresh arrays that only the next layer reads: neither keeps its
    output for the backward pass (conv keeps its columns, batch norm ``xhat``), so
    ReLU may overwrite it, one activation less to allocate.
    """
    for before, layer in pairwise(children):
        if isinstance(layer, Activation) and layer.kind == "relu" and \
                isinstance(before, (Conv, BatchNorm)):
            layer.in_place = True


class Sequential(Layer):
    """Children in order; the backward pass runs them in reverse."""

    def __init__(self, record: LayerRecord | None, children: list[Layer]):
        self.record = record  # type: ignore[assignment]
        self.name = record.name if record else "network"
        self.children = children
        self.params, self.grads, self.buffers, self.cache = {}, {}, {}, None
        mark_in_place(children)

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        for child, bn in steps(self.children, ctx, len(x)):
            x = run_step(child, bn, x, ctx)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for child in reversed(self.children):
            dout = child.backward(dout)
        return dout

    def leaves(self) -> list[Layer]:
        return [leaf for child in self.children for leaf in child.leaves()]


class Residual(Sequential):
    """``y = F(x) + shortcut(x)``: the gradient flows into both paths and adds up at x."""

    def __init__(self, record: LayerRecord, body: Sequential, shortcut: Sequential | None,
                 add: Layer):
        super().__init__(record, [body] + ([shortcut] if shortcut else []) + [add])
        self.body, self.shortcut = body, shortcut

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        main = self.body.forward(x, ctx)
        skip = self.shortcut.forward(x, ctx) if self.shortcut else x
        out, cache = F.add_forward(main, skip)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dmain, dskip = F.add_backward(dout, self.cache)
        dx = self.body.backward(dmain)
        return dx + (self.shortcut.backward(dskip) if self.shortcut else dskip)


class Concat(Sequential):
    """Branches on one input, concatenated on channels; ``None`` is the identity branch."""

    def __init__(self, record: LayerRecord, branches: list[Sequential | None], merge: Layer):
        super().__init__(record, [b for b in branches if b is not None] + [merge])
        self.branches = branches

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        outs = [b.forward(x, ctx) if b is not None else x for b in self.branches]
        out, cache = F.concat_forward(outs, axis=1)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        parts = F.concat_backward(dout, self.cache)
        dx: np.ndarray | None = None
        for branch, part in zip(self.branches, parts, strict=True):
            grad = branch.backward(part) if branch is not None else part
            dx = grad if dx is None else dx + grad
        assert dx is not None
        return dx


class DualPath(Sequential):
    """DPN's block: ``[x_res + y_res | x_dense | y_dense]`` from one bottleneck ``y``.

    ``y = body(x)`` has ``out + inc`` channels, split into ``y_res`` and ``y_dense``;
    the skip input (``x``, or ``projection(x)``) is split into ``x_res`` (``out``) and
    ``x_dense``. Backward: the residual gradient goes to both ``y_res`` and ``x_res``,
    each dense part's gradient to where it came from.
    """

    def __init__(self, record: LayerRecord, body: Sequential, projection: Sequential | None,
                 out: int, merge: Layer):
        super().__init__(record, [body] + ([projection] if projection else []) + [merge])
        self.body, self.projection, self.out = body, projection, out
        self.dense = 0

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        y = self.body.forward(x, ctx)
        skip = self.projection.forward(x, ctx) if self.projection else x
        o = self.out
        self.dense = skip.shape[1] - o
        out = np.concatenate([skip[:, :o] + y[:, :o], skip[:, o:], y[:, o:]], axis=1)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        o, d = self.out, self.dense
        d_res = dout[:, :o]
        d_skip = dout[:, :o + d]  # (N, out + D): [d_res | d_x_dense], the skip's channels
        d_y = np.concatenate([d_res, dout[:, o + d:]], axis=1)  # (N, out + inc)
        dx = self.body.backward(d_y)
        return dx + (self.projection.backward(d_skip) if self.projection else d_skip)


class Marker(Layer):
    """A row with no computation of its own (the ``Add``/``Concat`` merge rows)."""

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout
