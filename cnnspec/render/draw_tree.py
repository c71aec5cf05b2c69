"""The analysis rows as a tree of blocks, for drawing.

Room: consumers (render). Reads records only: a block row is followed by the
rows under it, one depth deeper; the segment of a child's ``path`` after its
block's path says which part it is in (``body``/``skip``/``add`` of a
residual, ``b1``, ``b2`` ... and ``cat`` of a concatenation, ``merge`` of a
dual-path block).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnnspec.analysis.records import LayerRecord, Report

ELEMENTWISE = ("relu", "sigmoid", "tanh", "softmax", "dropout", "lrn", "batchnorm")
MERGES = ("add", "concat_merge", "dual_path_merge")


@dataclass
class DrawNode:
    """A row and the rows under it (``row`` is ``None`` for the whole network)."""

    row: LayerRecord | None
    children: list[DrawNode] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """The row's kind, ``network`` for the root."""
        return self.row.kind if self.row is not None else "network"

    def part(self, child: DrawNode) -> str:
        """The segment of ``child``'s path after this block's: ``body``, ``skip``, ``b2`` ..."""
        assert child.row is not None
        if self.row is None:
            return ""
        rest = child.row.path[len(self.row.path):].lstrip(".")
        return rest.split(".")[0]

    def parts(self) -> dict[str, list[DrawNode]]:
        """Children grouped by part, in order of first appearance."""
        grouped: dict[str, list[DrawNode]] = {}
        for child in self.children:
            grouped.setdefault(self.part(child), []).append(child)
        return grouped

    def count_boxes(self) -> int:
        """Boxes a drawing of this node shows: layers that change the shape, cut blocks."""
        return sum(c.count_boxes() if c.children else
                   int(c.row is not None and c.row.kind not in ELEMENTWISE + MERGES)
                   for c in self.children)


def build_tree(report: Report, depth: int | None = None) -> DrawNode:
    """The rows of ``report`` as a tree; rows deeper than ``depth`` are left out."""
    root = DrawNode(None)
    stack: list[tuple[int, DrawNode]] = [(-1, root)]
    for row in report.layers:
        if depth is not None and row.depth > depth:
            continue
        while stack[-1][0] >= row.depth:
            stack.pop()
        node = DrawNode(row)
        stack[-1][1].children.append(node)
        if row.is_block:
            stack.append((row.depth, node))
    return root


def deepest(report: Report) -> int:
    """The largest row depth of ``report``."""
    return max((r.depth for r in report.layers), default=0)
