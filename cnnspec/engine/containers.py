"""Block containers: a sequence of layers, residual, concatenation and dual-path blocks.

Room: engine. A container runs its children forward and back-propagates through
them in reverse; residual and concat blocks merge their paths' gradients where
the paths split.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from cnnspec.analysis.records import LayerRecord
from cnnspec.engine import functional as F
from cnnspec.engine.layers import Activation, BatchNorm, Conv, Layer, MaxPool, RunContext


def following_batchnorm(layer: Layer, following: Layer, ctx: RunContext) -> BatchNorm | None:
    """``following`` when it is a batch norm that the inference conv ``layer`` applies itself.

    In inference batch norm is a fixed affine map per channel, and the conv before it
    runs it in the same pass (:meth:`Conv.forward_fused`: folded into its weights, or
    applied to its output chunk by chunk): one pass over the output fewer.
    """
    if ctx.training or type(layer) is not Conv or type(following) is not BatchNorm:
        return None
    return following


class Step(NamedTuple):
    """One unit of a forward pass: a layer and, in inference, what runs inside it.

    ``bn`` is a batch norm the conv applies (:func:`following_batchnorm`) and ``relu``
    a ReLU right after it (or after that batch norm), applied to each chunk of the
    conv's output while the chunk is in cache instead of as a pass of its own.
    """

    layer: Layer
    bn: BatchNorm | None = None
    relu: Activation | None = None


def fused_relu(layer: Layer, following: Layer | None, ctx: RunContext) -> bool:
    """Whether ``following`` is a ReLU that the inference conv ``layer`` may apply itself.

    Only a ReLU marked in place (:func:`mark_in_place`): the conv's output is then a
    fresh array that nothing but the ReLU reads, and ``max(0, conv(x))`` written over it
    chunk by chunk is that ReLU's output.
    """
    return (not ctx.training and type(layer) is Conv and isinstance(following, Activation)
            and following.kind == "relu" and following.in_place and not following.into_pool)


def steps(children: list[Layer], ctx: RunContext) -> Iterator[Step]:
    """The :class:`Step` s of ``children`` in forward order; a folded BN or fused ReLU is
    part of its conv's step, not one of its own."""
    i = 0
    while i < len(children):
        layer = children[i]
        bn = following_batchnorm(layer, children[i + 1], ctx) if i + 1 < len(children) else None
        i += 2 if bn is not None else 1
        following = children[i] if i < len(children) else None
        relu = following if fused_relu(layer, following, ctx) else None
        i += 1 if relu is not None else 0
        yield Step(layer, bn, relu)  # type: ignore[arg-type]


def fused_into(root: Layer, ctx: RunContext) -> dict[str, str]:
    """``{row: the layer or block it runs inside}`` for a forward pass of ``root``.

    A batch norm or ReLU that an inference conv runs (:class:`Step`), a ReLU that the max
    pool after it applies (:func:`mark_relu_into_pool`), and the merge row
    (:class:`Marker`) of a block, whose add or concatenation the block does itself.
    """
    found: dict[str, str] = {}
    children = getattr(root, "children", None)
    if children is None:
        return found
    if type(root) is not Sequential:  # a block: its merge row is its own work
        for child in children:
            if isinstance(child, Marker):
                found[child.name] = root.name
    else:
        for before, layer in pairwise(children):
            if isinstance(before, Activation) and before.into_pool:
                found[before.name] = layer.name  # the max pool applies it
        if not ctx.training:
            for step in steps(children, ctx):
                for part in (step.bn, step.relu):
                    if part is not None:
                        found[part.name] = step.layer.name
    for child in children:
        found.update(fused_into(child, ctx))
    return found


def run_step(step: Step, x: np.ndarray, ctx: RunContext) -> np.ndarray:
    """One :class:`Step`: the layer's forward, or the conv with its batch norm and ReLU."""
    if step.bn is None and step.relu is None:
        return step.layer.forward(x, ctx)
    return step.layer.forward_fused(x, ctx, step.bn, step.relu is not None)  # type: ignore[attr-defined]


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


def mark_relu_into_pool(children: list[Layer]) -> None:
    """Let a max pool apply the ReLU right before it in ``children``, to its pooled output.

    ``maxpool(relu(x)) = relu(maxpool(x))`` (see :class:`MaxPool`): the ReLU's passes over
    the full map, forward and backward, become passes over the pooled one. Only a plain
    max pool: average and stochastic pooling do not commute with a ReLU.
    """
    for before, layer in pairwise(children):
        if isinstance(before, Activation) and before.kind == "relu" and type(layer) is MaxPool:
            before.into_pool = True
            layer.relu_first = True


class Sequential(Layer):
    """Children in order; the backward pass runs them in reverse."""

    def __init__(self, record: LayerRecord | None, children: list[Layer]):
        self.record = record  # type: ignore[assignment]
        self.name = record.name if record else "network"
        self.children = children
        self.params, self.grads, self.buffers, self.cache = {}, {}, {}, None
        mark_in_place(children)
        mark_relu_into_pool(children)

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        for step in steps(self.children, ctx):
            x = run_step(step, x, ctx)
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
