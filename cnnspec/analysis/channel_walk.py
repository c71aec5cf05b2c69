"""Visitors of gates and channel operations (split, shuffle) for the walk.

Room: analysis. :class:`ChannelVisitors` is mixed into the walk of ``walk.py``
and follows its row contract. Row order, which the engine and exporters follow:

* ``gate``: the block row, the body's rows (``.body``), then the multiply row
  (kind ``gate_merge``), whose input and output are the gate's input shape;
* ``split`` and ``shuffle``: one row each.

The multiply has no weights and no weight MACs; torchinfo counts nothing for it
either (it is a tensor product, not a module with parameters).
"""

from __future__ import annotations

from typing import Any

from cnnspec.analysis.records import shape_text
from cnnspec.errors import AnalysisError
from cnnspec.spec import channel_blocks, layers


def broadcasts(gate: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """True when ``gate`` multiplies ``shape`` value by value: each axis equal or 1.

    ``1 x 1 x C`` (per channel), ``H x W x C`` (same shape) and ``H x W x 1``
    (per position) all broadcast onto ``H x W x C``.
    """
    return len(gate) == len(shape) and all(g in (1, s) for g, s in zip(gate, shape, strict=True))


class ChannelVisitors:
    """``visit_gate``, ``visit_split`` and ``visit_shuffle`` for the walk."""

    def visit_gate(self: Any, node: channel_blocks.Gate, state: Any, path: str,
                   depth: int) -> Any:
        name = self.block_name(node, "Gate")
        if not node.body:
            raise AnalysisError(f"{name}: the gate has no body, so nothing multiplies its "
                                "input", self.where(node),
                                "write its branch, e.g. gate: GAP-Conv(1x1, 8)-ReLU-"
                                "Conv(1x1, 32)-Sigmoid")

        def run() -> Any:
            g = self._flat(node.body, state, f"{path}.body", depth + 1)
            if not broadcasts(g.shape, state.shape):
                c = state.shape[-1]
                raise AnalysisError(
                    f"{name}: the gate's body ends at {shape_text(g.shape)}, which cannot "
                    f"multiply its input {shape_text(state.shape)}",
                    self.where(node),
                    f"end the body with 1x1x{c} (per channel), the input's shape, or "
                    f"{shape_text((*state.shape[:2], 1))} (per position)")
            rf = (max(state.rf_h, g.rf_h), max(state.rf_w, g.rf_w))
            mul = layers.Node(written="Multiply")
            return self.add_row(mul, f"{name}.mul", f"{path}.mul", depth + 1, state,
                                state.shape, rf, hyper=f"y = x * g, g {shape_text(g.shape)}",
                                kind="gate_merge", type_name="Multiply")

        return self.block(node, state, path, depth, name, run)

    def visit_split(self: Any, node: channel_blocks.Split, state: Any, path: str,
                    depth: int) -> Any:
        name = self.auto_name(node)
        h, w, c = self.spatial(node, name, state.shape)
        taken = node.channel_range(c)
        if taken is None:
            if node.of is not None:
                raise self.fail(node, name, f"{c} channels do not split into {node.of} equal "
                                "parts", f"give a range instead, e.g. Split(start=0, "
                                f"stop={c // node.of})", "of")
            raise self.fail(node, name, f"the range {node.start or 0}:{node.stop} goes past "
                            f"the input's {c} channels", f"end the range at {c} or before",
                            "stop")
        start, stop = taken
        hyper = f"channels {start}:{stop} of {c}"
        if node.of is not None:
            hyper = f"part {node.part} of {node.of}: " + hyper
        return self.add_row(node, name, path, depth, state, (h, w, stop - start),
                            (state.rf_h, state.rf_w), hyper=hyper)

    def visit_shuffle(self: Any, node: channel_blocks.Shuffle, state: Any, path: str,
                      depth: int) -> Any:
        name = self.auto_name(node)
        _, _, c = self.spatial(node, name, state.shape)
        if c % node.groups:
            raise self.fail(node, name, f"groups={node.groups} does not divide the {c} "
                            "channels", "pick a number of groups that divides the channels",
                            "groups")
        return self.add_row(node, name, path, depth, state, state.shape,
                            (state.rf_h, state.rf_w),
                            hyper=f"{node.groups} groups of {c // node.groups}")
