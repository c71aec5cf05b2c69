"""From the tree of rows to drawing pieces, laid out in rows that wrap.

Room: consumers (render). Layers that keep the shape (activations, batch
norm, dropout, LRN, softmax) get no box of their own: they are listed under
the box of the layer they follow. Groups (labelled or repeated sequences,
block templates, transitions) are transparent: their layers are drawn, with
a bar under them naming the group; cut at ``depth``, a block is one framed
box. A long network wraps onto several rows, only between top-level pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnnspec.analysis.records import Report
from cnnspec.render.draw_atoms import GAP, AuxHead, Box, Branches, Canvas, Chain, Piece, Skip
from cnnspec.render.draw_scale import LINE_H, Scales, text_width
from cnnspec.render.draw_tree import ELEMENTWISE, MERGES, DrawNode

ROW_WIDTH = 30.0  # units before a row wraps
STYLE = {"conv": "conv", "table_conv": "conv", "pool": "pool", "global_pool": "pool",
         "adaptive_pool": "pool", "subsample": "pool", "fc": "fc", "flatten": "other"}
SHORT = {"batchnorm": "BN", "softmax": "SM"}


@dataclass
class Group:
    """A bar under pieces ``start``..``end`` (indices in the top-level stream)."""

    title: str
    start: int
    end: int


@dataclass
class Stream:
    """Pieces in order, the tags waiting for the next box, and the groups seen."""

    scales: Scales
    pieces: list[Piece] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)

    def tag(self, text: str) -> None:
        last = self.pieces[-1] if self.pieces else None
        if isinstance(last, Box):
            last.tags.append(text)
        elif isinstance(last, (Skip, Branches)):
            last.after.append(text)
        else:
            self.pending.append(text)

    def add(self, piece: Piece) -> None:
        if self.pending and isinstance(piece, Box):
            piece.pre.extend(self.pending)
            self.pending = []
        self.pieces.append(piece)


def shape_label(shape: tuple[int, ...]) -> str:
    """``(56, 56, 96)`` -> ``56×56×96``."""
    return "×".join(map(str, shape))


def tag_text(node: DrawNode) -> str:
    assert node.row is not None
    return SHORT.get(node.row.kind, node.row.type)


def block_title(node: DrawNode) -> str:
    assert node.row is not None
    hyper = node.row.hyper
    return node.row.name + (f" {hyper}" if hyper.startswith("x") else "")


def expand(node: DrawNode, stream: Stream, top: bool, title: str = "") -> None:
    """Add the pieces of ``node``'s children to ``stream``."""
    for child in node.children:
        row = child.row
        assert row is not None
        if row.kind in MERGES:
            continue
        if not row.is_block:
            if row.kind in ELEMENTWISE:
                stream.tag(tag_text(child))
            else:
                stream.add(Box(stream.scales, tuple(row.output), row.name,
                               STYLE.get(row.kind, "other"), row.trainable))
            continue
        if not child.children:  # cut by --depth: the block as one framed box
            note = {"residual": "(residual)", "concat": "(concat)",
                    "dual_path": "(dual path)"}.get(row.kind, "")
            if row.type.lower() in row.name.lower():
                note = ""
            stream.add(Box(stream.scales, tuple(row.output), block_title(child), "block",
                           row.trainable, framed=True, note=note))
            continue
        block(child, stream, top, title)


def only_block(node: DrawNode) -> bool:
    """True when ``node`` holds one block and otherwise only shape-keeping layers."""
    kids = [c for c in node.children if c.row is not None]
    blocks = [c for c in kids if c.row.is_block]
    return len(blocks) == 1 and all(c.row.is_block or c.row.kind in ELEMENTWISE for c in kids)


def chain_of(nodes: list[DrawNode], scales: Scales) -> Chain:
    stream = Stream(scales)
    expand(DrawNode(None, nodes), stream, False)
    return Chain(stream.pieces)


def block(node: DrawNode, stream: Stream, top: bool, title: str) -> None:
    row = node.row
    assert row is not None
    parts = node.parts()
    name = title or row.name
    if row.kind in ("sequence", "transition"):
        inner = title or block_title(node)
        if only_block(node):
            expand(node, stream, top, inner)
            return
        start = len(stream.pieces)
        expand(node, stream, top)
        end = len(stream.pieces) - 1
        if top and end > start:  # the outermost group is named; groups inside it are not
            stream.groups[:] = [g for g in stream.groups if not (g.start >= start and
                                                                 g.end <= end)]
            stream.groups.append(Group(inner, start, end))
        return
    if row.kind == "residual":
        skip = parts.get("skip", [])
        text = " + ".join(c.row.name for c in skip if c.row and not c.row.is_block) or \
            ("projection" if skip else "identity")
        stream.add(Skip(chain_of(parts.get("body", []), stream.scales), "+", name, text))
    elif row.kind == "gate":  # x times its gate g(x): the input carried round to a product
        stream.add(Skip(chain_of(parts.get("body", []), stream.scales), "×", name,
                        "identity (multiplied)"))
    elif row.kind == "dual_path":
        skip = parts.get("skip", [])
        text = "projection " + ", ".join(c.row.name for c in skip if c.row and
                                         c.row.kind == "conv") if skip else "split"
        stream.add(Skip(chain_of(parts.get("body", []), stream.scales), "+C", name, text,
                        out_text=shape_label(row.output)))
    elif row.kind == "concat":
        branches = [chain_of(nodes, stream.scales) for key, nodes in parts.items()
                    if key.startswith("b")]
        identities = _identity_branches(node)
        if identities == 1 and len(branches) == 1:  # [x, H(x)]: a dense connection
            stream.add(Skip(branches[0], "C", name, "identity (concatenated)",
                            out_text=shape_label(row.output)))
        else:
            stream.add(Branches(branches + [Chain([]) for _ in range(identities)], name))
    elif row.kind == "aux":
        stream.add(AuxHead(chain_of(node.children, stream.scales), name))
    else:
        expand(node, stream, top)


def _identity_branches(node: DrawNode) -> int:
    """Branches with no rows: the merge row's ``C = a + b + ...`` has more terms than rows."""
    merge = next((c.row for c in node.children if c.row and c.row.kind == "concat_merge"), None)
    drawn = len([k for k in node.parts() if k.startswith("b")])
    terms = merge.hyper.count("+") + 1 if merge is not None and merge.hyper else drawn
    return max(0, terms - drawn)


@dataclass
class Row:
    """One line of the drawing: pieces from ``start`` in the stream."""

    start: int
    pieces: list[Piece]
    width: float = 0.0
    up: float = 0.0
    down: float = 0.0


def wrap(pieces: list[Piece], groups: list[Group]) -> list[Row]:
    """Pieces in rows no wider than :data:`ROW_WIDTH` (a wider piece gets a row to itself)."""
    rows: list[Row] = []
    current = Row(0, [])
    widths = [p.size()[0] + GAP for p in pieces]
    for i, piece in enumerate(pieces):
        w, up, down = piece.size()
        rest = sum(widths[i:])
        if current.pieces and current.width + GAP + w > ROW_WIDTH and (
                rest > 0.15 * ROW_WIDTH or current.width + rest > 1.2 * ROW_WIDTH):
            rows.append(current)
            current = Row(i, [])
        current.width += (GAP if current.pieces else 0) + w
        current.up, current.down = max(current.up, up), max(current.down, down)
        current.pieces.append(piece)
    rows.append(current)
    for row in rows:
        end = row.start + len(row.pieces) - 1
        if any(g.start <= end and g.end >= row.start for g in groups):
            row.down += 2 * LINE_H + 0.25
    return rows


def draw_rows(cv: Canvas, rows: list[Row], groups: list[Group], y: float) -> tuple[float, float]:
    """Draw ``rows`` from ``y`` downwards; returns (widest row, lowest y used)."""
    widest = 0.0
    for n, row in enumerate(rows):
        y -= row.up
        x = 0.6 if n else 0.0
        if n:
            cv.line([(0.05, y), (x, y)], arrow=True)
        spans: dict[int, tuple[float, float]] = {}
        previous = None
        for i, piece in enumerate(row.pieces, start=row.start):
            start, end = piece.draw(cv, x, y)
            spans[i] = (start, end)
            if previous is not None:
                cv.line([(previous, y), (start, y)], arrow=True)
            previous = end
            x += piece.size()[0] + GAP
        if n < len(rows) - 1 and previous is not None:
            cv.line([(previous, y), (previous + 0.45, y)], arrow=True)
        bar_y = y - row.down + 0.12 + LINE_H
        text_end = -1.0
        for g in groups:
            inside = [spans[i] for i in range(max(g.start, row.start),
                                               min(g.end, row.start + len(row.pieces) - 1) + 1)]
            if inside:
                x0, x1 = inside[0][0], inside[-1][1]
                cv.line([(x0, bar_y + 0.08), (x0, bar_y), (x1, bar_y), (x1, bar_y + 0.08)],
                        color="#2f6f3a", width=1.2)
                text = g.title + ("" if g.start >= row.start else " (cont.)")
                ty = bar_y - 0.04 - (LINE_H if x0 < text_end else 0.0)
                cv.text(x0, ty, text, ha="left", color="#2f6f3a", bold=True)
                text_end = x0 + text_width(text)
        widest = max(widest, x)
        y -= row.down + 0.35
    return widest, y


def input_box(report: Report, scales: Scales) -> Box:
    """The input volume."""
    return Box(scales, tuple(report.input), "input", "input")


def title_width(text: str) -> float:
    """Width of the drawing's title line."""
    return text_width(text, 9)
