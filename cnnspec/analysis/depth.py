"""How deep a network is: weighted layers on its longest path, as papers count depth.

Room: analysis; reads the spec tree, pure integers.

"ResNet-50", "VGG-16", "DenseNet-121" and GoogLeNet's "22 layers" count the
layers with weights (convolutions and fully connected layers) along the
longest path from input to output: a residual block counts its body (not the
shortcut), an inception module its deepest branch, and auxiliary heads
nothing.
"""

from __future__ import annotations

from typing import Any

from cnnspec.analysis.records import Report

WEIGHTED_KINDS = ("conv", "fc", "table_conv")


def longest_path(nodes: list[Any]) -> int:
    """Weighted layers on the longest path through ``nodes``.

    ``sequence``: ``repeat * sum(children)``; ``residual``: ``max(body, shortcut)``;
    ``concat``: ``max(branches)``; ``aux``: 0; composite blocks count the layers
    they expand to, on their deeper path.
    """
    total = 0
    for node in nodes:
        kind = node.kind
        if kind in WEIGHTED_KINDS:
            total += 1
        elif kind == "sequence":
            total += node.repeat * longest_path(node.layers)
        elif kind == "residual":
            total += max(longest_path(node.body), longest_path(node.shortcut))
        elif kind == "concat":
            total += max((longest_path(b) for b in node.branches), default=0)
        elif kind == "transition":
            total += longest_path(node.expand(1))
        elif kind == "gate":
            pass  # a gate's branch rescales the path; papers do not count it in the depth
        elif kind == "dual_path":
            total += max(longest_path(node.expand_body()), longest_path(node.expand_projection()))
    return total


def weighted_layers(report: Report) -> int:
    """How many convolution and fully connected layers the main network has."""
    return sum(1 for r in report.leaves() if r.kind in WEIGHTED_KINDS)
