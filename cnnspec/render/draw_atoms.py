"""The pieces of a network drawing: boxes, chains, skips, branches, auxiliary heads.

Room: consumers (render). Each piece measures itself (``size()``: width, extent
above and below its baseline, in drawing units) and draws itself on a
:class:`Canvas` at ``(x, y)`` = its left edge on the baseline, returning where
data enters and leaves it. No drawing library is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from cnnspec.analysis.records import shape_text
from cnnspec.render.draw_scale import BAR_W, FONT, LINE_H, OBLIQUE, Scales, text_width

GAP = 0.32  # between pieces of a chain (room for an arrow)
PAD = 0.25
RADIUS = 0.13
COLORS = {"conv": "#7fa7d9", "pool": "#f2b36b", "fc": "#b79ad6", "input": "#c8c8c8",
          "block": "#9fd3a3", "norm": "#e6e6a0", "other": "#d9d9d9", "aux": "#e3e3e3"}


class Canvas(Protocol):
    """What the pieces draw with (see :mod:`cnnspec.render.draw`)."""

    def cuboid(self, x: float, y: float, d: float, h: float, o: float, color: str,
               framed: bool = False) -> None: ...
    def text(self, x: float, y: float, s: str, *, size: float = FONT, color: str = "black",
             ha: str = "center", va: str = "top", bold: bool = False) -> None: ...
    def line(self, points: list[tuple[float, float]], *, arrow: bool = False,
             color: str = "#555555", dashed: bool = False, width: float = 0.8) -> None: ...
    def node(self, x: float, y: float, r: float, label: str) -> None: ...


class Piece(Protocol):
    """Anything a chain holds."""

    def size(self) -> tuple[float, float, float]: ...
    def draw(self, cv: Canvas, x: float, y: float) -> tuple[float, float]: ...


@dataclass
class Box:
    """One volume (H x W x C) or vector: a layer's output, or a collapsed block's."""

    scales: Scales
    shape: tuple[int, ...]
    title: str
    style: str = "other"
    params: int = 0
    tags: list[str] = field(default_factory=list)  # shape-keeping layers after this one
    pre: list[str] = field(default_factory=list)  # ... and before it (pre-activation)
    note: str = ""  # e.g. "x3" or "residual" for a collapsed block
    framed: bool = False
    label_top: float = 0.0  # distance below the baseline where the label starts

    def body(self) -> tuple[float, float, float]:
        """Drawn (thickness, height, oblique offset)."""
        if len(self.shape) == 3:
            h, w, c = self.shape
            return self.scales.thickness(c), self.scales.side(h), OBLIQUE * self.scales.side(w)
        return BAR_W, self.scales.bar(self.shape[0]), 0.05

    def lines(self) -> list[tuple[str, str]]:
        """Label lines as (text, kind): the title, tags, shape, parameters."""
        out = [(self.title + (f" {self.note}" if self.note else ""), "title")]
        if self.pre:
            out.append((", ".join(self.pre) + " →", "tag"))
        if self.tags:
            out.append(("+" + ", ".join(self.tags), "tag"))
        out.append((shape_text(self.shape).replace("x", "×"), "shape"))
        if self.params:
            out.append((f"{self.params:,} p", "params"))
        return out

    def size(self) -> tuple[float, float, float]:
        d, h, o = self.body()
        label_w = max(text_width(t) for t, _ in self.lines())
        down = max(self.label_top, h / 2 + 0.08) + LINE_H * len(self.lines())
        return max(d + o, label_w), h / 2 + o, down

    def draw(self, cv: Canvas, x: float, y: float) -> tuple[float, float]:
        d, h, o = self.body()
        width = self.size()[0]
        left = x + (width - d - o) / 2
        cv.cuboid(left, y, d, h, o, COLORS.get(self.style, COLORS["other"]), self.framed)
        ty = y - max(self.label_top, h / 2 + 0.08)
        cx = x + width / 2
        for text, kind in self.lines():
            cv.text(cx, ty, text, bold=kind == "title",
                    color={"tag": "#777777", "params": "#3b5f8a"}.get(kind, "black"))
            ty -= LINE_H
        return left, left + d + o


@dataclass
class Chain:
    """Pieces in a row joined by arrows. An empty chain is a straight line."""

    pieces: list[Piece]

    def align_labels(self) -> None:
        """Start every box's label at the same depth below the baseline."""
        boxes = [p for p in self.pieces if isinstance(p, Box)]
        drop = max((b.body()[1] / 2 for b in boxes), default=0.0) + 0.08
        for b in boxes:
            b.label_top = drop

    def size(self) -> tuple[float, float, float]:
        if not self.pieces:
            return 0.4, 0.0, 0.0
        self.align_labels()
        sizes = [p.size() for p in self.pieces]
        width = sum(s[0] for s in sizes) + GAP * (len(sizes) - 1)
        return width, max(s[1] for s in sizes), max(s[2] for s in sizes)

    def draw(self, cv: Canvas, x: float, y: float) -> tuple[float, float]:
        if not self.pieces:
            cv.line([(x, y), (x + 0.4, y)])
            return x, x + 0.4
        self.align_labels()
        entry = previous = None
        for piece in self.pieces:
            start, end = piece.draw(cv, x, y)
            if previous is not None:
                cv.line([(previous, y), (start, y)], arrow=True)
            entry = start if entry is None else entry
            previous = end
            x += piece.size()[0] + GAP
        assert entry is not None and previous is not None
        return entry, previous


@dataclass
class Skip:
    """A body with the input carried round it: residual ``+``, dense concat ``C``, dual path."""

    body: Chain
    join: str  # "+" or "C" or "+|C"
    title: str = ""
    skip_text: str = ""
    after: list[str] = field(default_factory=list)  # layers applied after the join
    out_text: str = ""  # the joined shape, when it differs from the body's

    def under_join(self) -> list[str]:
        return ["+" + ", ".join(self.after)] if self.after else []

    def arc_height(self) -> float:
        return self.body.size()[1] + 0.3

    def size(self) -> tuple[float, float, float]:
        w, _, down = self.body.size()
        texts = [t for t in (self.title, self.skip_text) if t]
        width = max(PAD + w + GAP + 2 * RADIUS + PAD,
                    max((text_width(t) for t in texts), default=0) + 0.2)

        under = self.under_join()
        width += max((text_width(t) for t in under), default=0) / 2
        after_down = RADIUS + 0.1 + LINE_H * len(under)
        return width, self.arc_height() + LINE_H * len(texts) + 0.05, max(down, after_down)

    def draw(self, cv: Canvas, x: float, y: float) -> tuple[float, float]:
        width = self.size()[0]
        w = self.body.size()[0]
        x0 = x + (width - (PAD + w + GAP + 2 * RADIUS + PAD)) / 2
        fork = x0 + 0.08
        entry, end = self.body.draw(cv, x0 + PAD, y)
        cv.line([(fork, y), (entry, y)], arrow=True)
        xj = end + GAP + RADIUS
        cv.line([(end, y), (xj - RADIUS, y)], arrow=True)
        top = y + self.arc_height()
        cv.line([(fork, y), (fork, top), (xj, top), (xj, y + RADIUS)], arrow=True,
                color="#2f6f3a", width=1.0)
        cv.node(xj, y, RADIUS, self.join)
        ty = top + 0.05 + LINE_H * (2 if self.title and self.skip_text else 1)
        if self.title:
            cv.text((fork + xj) / 2, ty, self.title, bold=True, va="top")
            ty -= LINE_H
        if self.skip_text:
            cv.text((fork + xj) / 2, ty, self.skip_text, color="#2f6f3a", va="top")
        for n, text in enumerate(self.under_join()):
            cv.text(xj, y - RADIUS - 0.08 - n * LINE_H, text, color="#777777")
        if self.out_text:  # inside the arc, by its corner
            cv.text(xj - 0.08, top - 0.04, self.out_text, ha="right")
        return x0, xj + RADIUS


@dataclass
class Branches:
    """Branches side by side on one input, joined by a concatenation (inception)."""

    branches: list[Chain]
    title: str = ""
    after: list[str] = field(default_factory=list)

    def size(self) -> tuple[float, float, float]:
        sizes = [b.size() for b in self.branches]
        tall = sum(s[1] + s[2] for s in sizes) + 0.25 * (len(sizes) - 1)
        width = 0.5 + max(s[0] for s in sizes) + 0.5 + 2 * RADIUS
        width = max(width, text_width(self.title) + 0.2)
        return width, tall / 2 + (LINE_H + 0.05 if self.title else 0), tall / 2

    def draw(self, cv: Canvas, x: float, y: float) -> tuple[float, float]:
        sizes = [b.size() for b in self.branches]
        tall = sum(s[1] + s[2] for s in sizes) + 0.25 * (len(sizes) - 1)
        longest = max(s[0] for s in sizes)
        fork, xj = x + 0.08, x + 0.5 + longest + 0.5 + RADIUS
        top = y + tall / 2
        for branch, (w, up, down) in zip(self.branches, sizes, strict=True):
            by = top - up
            start, end = branch.draw(cv, x + 0.5 + (longest - w) / 2, by)
            cv.line([(fork, y), (fork, by), (start, by)], arrow=True)
            cv.line([(end, by), (xj - 0.25, by), (xj - 0.25, y), (xj - RADIUS, y)],
                    arrow=True)
            top -= up + down + 0.25
        cv.node(xj, y, RADIUS, "C")
        if self.title:
            cv.text((fork + xj) / 2, y + tall / 2 + LINE_H + 0.05, self.title, bold=True)
        if self.after:
            cv.text(xj, y - RADIUS - 0.08, "+" + ", ".join(self.after), color="#777777")
        return fork, xj + RADIUS


@dataclass
class AuxHead:
    """An auxiliary classifier hanging below the main line (used in training only)."""

    head: Chain
    title: str

    def size(self) -> tuple[float, float, float]:
        w, up, down = self.head.size()
        width = max(0.4 + w, text_width(self.title) + 0.4)
        return width, 0.0, 0.45 + LINE_H + up + down

    def draw(self, cv: Canvas, x: float, y: float) -> tuple[float, float]:
        up = self.head.size()[1]
        width = self.size()[0]
        cv.line([(x, y), (x + width, y)])
        hy = y - 0.45 - LINE_H - up
        cv.text(x + 0.2, y - 0.1, self.title + " (training only)", ha="left", color="#777777")
        start, _ = self.head.draw(cv, x + 0.35, hy)
        cv.line([(x + 0.15, y), (x + 0.15, hy), (start, hy)], arrow=True, dashed=True)
        return x, x + width
