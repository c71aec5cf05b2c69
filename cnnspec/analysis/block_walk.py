"""Visitors of the composite blocks: DenseNet's transition, DPN's dual path, LeNet's C3.

Room: analysis. :class:`BlockVisitors` is mixed into the walk of ``walk.py``;
it uses the walk's helpers (``add_row``, ``block``, ``_flat``, ``size``, ...)
and its rows follow the same contract: a block row, then its layers.

Row order, which the engine follows when it pairs nodes with rows:

* ``transition``: the block row, then BN, ReLU, Conv(1x1), APool;
* ``dual_path``: the block row, the bottleneck's nine layers (``.body``), the
  projection's three (``.skip``, when there is one), then the merge row;
* ``table_conv``: one row.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from cnnspec.analysis.block_counts import (
    dual_path_channels,
    table_conv_macs,
    table_conv_weights,
    transition_filters,
)
from cnnspec.analysis.receptive import next_field
from cnnspec.analysis.records import shape_text
from cnnspec.errors import AnalysisError
from cnnspec.spec import blocks, layers


class BlockVisitors:
    """``visit_transition``, ``visit_dual_path`` and ``visit_table_conv`` for the walk."""

    def visit_transition(self: Any, node: blocks.Transition, state: Any, path: str,
                         depth: int) -> Any:
        name = self.block_name(node, "Transition")
        _, _, c = self.spatial(node, name, state.shape)
        filters = transition_filters(c, node.compression)
        if filters < 1:
            raise self.fail(node, name, f"compression {node.compression:g} of {c} channels "
                            f"leaves floor({node.compression:g}*{c}) = {filters} filters",
                            "raise the compression (theta) or widen the dense block",
                            "compression")
        children = node.expand(filters)
        return self.block(node, state, path, depth, name,
                          lambda: self._flat(children, state, path, depth + 1),
                          hyper=f"theta={node.compression:g}: floor({node.compression:g}*{c})"
                                f" = {filters}")

    def visit_dual_path(self: Any, node: blocks.DualPath, state: Any, path: str,
                        depth: int) -> Any:
        name = self.block_name(node, "DualPath")
        _, _, c = self.spatial(node, name, state.shape)
        if not node.projection and c < node.out:
            raise self.fail(node, name, f"the input has {c} channels, fewer than the residual "
                            f"path's {node.out}",
                            "the first block of a stage needs a projection: write proj=true",
                            "out")

        def run() -> Any:
            body = self._flat(node.expand_body(), state, f"{path}.body", depth + 1)
            skip = (self._flat(node.expand_projection(), state, f"{path}.skip", depth + 1)
                    if node.projection else state)
            if body.shape[:2] != skip.shape[:2]:
                raise AnalysisError(
                    f"{name}: the bottleneck ends at {shape_text(body.shape)} but the "
                    f"shortcut stays at {shape_text(skip.shape)}",
                    self.where(node),
                    "a strided dual-path block needs a projection: write proj=true",
                )
            dense, total = dual_path_channels(c, node.out, node.inc, node.projection)
            rf = (max(body.rf_h, skip.rf_h), max(body.rf_w, skip.rf_w))
            merge = layers.Node(written="Add+Concat")
            return self.add_row(
                merge, f"{name}.merge", f"{path}.merge", depth + 1, body,
                (body.shape[0], body.shape[1], total), rf,
                hyper=f"res {node.out} (added); dense {dense} + {node.inc}; "
                      f"C = {node.out} + {dense} + {node.inc} = {total}",
                kind="dual_path_merge", type_name="Add+Concat",
                formulas={"output": f"{node.out} + {dense} + {node.inc} = {total}"})

        hyper = f"r={node.width}, g={node.groups}, out={node.out}, +{node.inc}"
        if node.stride != 1:
            hyper += f", s={node.stride}"
        if node.projection:
            hyper += ", proj"
        return self.block(node, state, path, depth, name, run, hyper=hyper)

    def visit_table_conv(self: Any, node: blocks.TableConv, state: Any, path: str,
                         depth: int) -> Any:
        name = self.auto_name(node)
        h, w, c = self.spatial(node, name, state.shape)
        for k, channels in enumerate(node.connections):
            outside = [i for i in channels if i >= c]
            if outside:
                raise self.fail(node, name, f"filter {k} reads input channel {outside[0]}, but "
                                f"the input has {c} channels (0 to {c - 1})",
                                "number the input channels from 0", "connections")
        fh, fw = node.kernel
        sh, sw = node.stride
        ph, pw = node.padding
        rounding = self.conventions.rounding_for("conv")
        oh, th = self.size(node, name, "height", h, fh, sh, ph, 1, rounding, "stride")
        ow, tw = self.size(node, name, "width", w, fw, sw, pw, 1, rounding, "stride")
        bias = self.conventions.conv_bias if node.bias is None else node.bias
        k = node.filters
        weights = table_conv_weights(fh, fw, node.connections)
        biases = k if bias else 0
        macs = table_conv_macs(oh, ow, fh, fw, node.connections)
        fan_in = sorted(Counter(len(ch) for ch in node.connections).items())
        plus = " + 1" if bias else ""
        terms = " + ".join(f"({fh}*{fw}*{n}{plus})*{count}" for n, count in fan_in)
        links = sum(len(ch) for ch in node.connections)
        formulas = {
            "output": th if th == tw else f"H: {th}; W: {tw}",
            "params": f"{terms} = {weights + biases:,}",
            "macs": f"{oh}*{ow}*{fh}*{fw}*{links} = {macs:,}",
            "nodes": f"{oh}*{ow}*{k} = {oh * ow * k:,}",
        }
        hyper = (f"{fh}x{fw}, {k}, table: {links} of {c * k} channel pairs, "
                 f"s={sh if sh == sw else f'{sh}x{sw}'}, p={ph if ph == pw else f'{ph}x{pw}'}")
        if not bias:
            hyper += ", no bias"
        rf = (next_field(state.rf_h, fh, sh), next_field(state.rf_w, fw, sw))
        return self.add_row(node, name, path, depth, state, (oh, ow, k), rf, hyper=hyper,
                            weights=weights, biases=biases, macs=macs, formulas=formulas)
