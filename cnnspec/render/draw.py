"""``cnnspec draw``: the network as the lectures draw it, to a PNG or SVG file.

Room: consumers (render). matplotlib is imported inside :func:`draw_network`
(Agg backend: no display needed). The drawing reads the analysis records only:
one 3-D box per layer output (to scale, see :mod:`cnnspec.render.draw_scale`),
FC layers as bars, residual and dense connections as arcs over their body
into a ``+`` or ``C`` node, inception branches side by side into a ``C`` node,
auxiliary heads hanging below.
"""

from __future__ import annotations

from pathlib import Path

from cnnspec.analysis.records import Report, shape_text
from cnnspec.errors import CnnspecError, Location
from cnnspec.render.draw_atoms import Box, Chain
from cnnspec.render.draw_layout import Stream, draw_rows, expand, input_box, wrap
from cnnspec.render.draw_scale import FONT, INCH_PER_UNIT, LINE_H, scales_for, text_width
from cnnspec.render.draw_tree import build_tree, deepest
from cnnspec.render.safe_text import mathtext

MAX_BOXES = 170  # more boxes than this and --depth is lowered until it fits
FORMATS = ("png", "svg", "pdf")


class _MplCanvas:
    """The :class:`~cnnspec.render.draw_atoms.Canvas` on a matplotlib Axes."""

    def __init__(self, ax):
        self.ax = ax

    def cuboid(self, x, y, d, h, o, color, framed=False):
        from matplotlib.colors import to_rgb
        from matplotlib.patches import FancyBboxPatch, Polygon

        r, g, b = to_rgb(color)
        top_color = (min(1, r * 1.12), min(1, g * 1.12), min(1, b * 1.12))
        side_color = (r * 0.8, g * 0.8, b * 0.8)
        bottom, top = y - h / 2, y + h / 2
        faces = [
            ([(x, bottom), (x + d, bottom), (x + d, top), (x, top)], color),
            ([(x, top), (x + d, top), (x + d + o, top + o), (x + o, top + o)], top_color),
            ([(x + d, bottom), (x + d + o, bottom + o), (x + d + o, top + o), (x + d, top)],
             side_color),
        ]
        for points, face in faces:
            self.ax.add_patch(Polygon(points, closed=True, facecolor=face, edgecolor="#333333",
                                      linewidth=0.5, zorder=3))
        if framed:
            self.ax.add_patch(FancyBboxPatch((x - 0.08, bottom - 0.08), d + o + 0.16,
                                             h + o + 0.16, boxstyle="round,pad=0.02",
                                             fill=False, linestyle="--", edgecolor="#2f6f3a",
                                             linewidth=0.8, zorder=2))

    def text(self, x, y, s, *, size=FONT, color="black", ha="center", va="top", bold=False):
        self.ax.text(x, y, mathtext(s), fontsize=size, color=color, ha=ha, va=va,
                     fontweight="bold" if bold else "normal", zorder=5)

    def line(self, points, *, arrow=False, color="#555555", dashed=False, width=0.8):
        from matplotlib.patches import FancyArrowPatch
        from matplotlib.path import Path as MplPath

        if arrow:
            codes = [MplPath.MOVETO] + [MplPath.LINETO] * (len(points) - 1)
            self.ax.add_patch(FancyArrowPatch(path=MplPath(points, codes), arrowstyle="-|>",
                                              mutation_scale=6, color=color, linewidth=width,
                                              linestyle="--" if dashed else "-", zorder=4))
        else:
            xs, ys = zip(*points, strict=True)
            self.ax.plot(xs, ys, color=color, linewidth=width, zorder=4,
                         linestyle="--" if dashed else "-")

    def node(self, x, y, r, label):
        from matplotlib.patches import Circle

        self.ax.add_patch(Circle((x, y), r, facecolor="white", edgecolor="#2f6f3a",
                                 linewidth=1.0, zorder=5))
        self.ax.text(x, y, mathtext(label), fontsize=FONT * (0.75 if len(label) > 1 else 1.1),
                     ha="center", va="center", color="#2f6f3a", fontweight="bold", zorder=6)


def auto_depth(report: Report) -> int | None:
    """The deepest cut that draws at most :data:`MAX_BOXES` boxes (``None``: everything)."""
    full = deepest(report)
    for depth in range(full, -1, -1):
        if build_tree(report, depth).count_boxes() <= MAX_BOXES:
            return None if depth == full else depth
    return 0


def draw_network(report: Report, path: str | Path, *, depth: int | None = None,
                 auto: bool = True, title: str | None = None, dpi: int = 150) -> int | None:
    """Draw ``report`` to ``path`` (.png, .svg or .pdf); returns the depth used.

    ``depth`` cuts blocks deeper than it into single framed boxes (as ``analyze --depth``);
    without it, ``auto`` picks the deepest cut that stays readable.
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise CnnspecError(f"cannot draw to {target.name!r}", Location(str(target)),
                           "name the file .png, .svg or .pdf")
    fig, depth = network_figure(report, depth=depth, auto=auto, title=title)
    from cnnspec.atomic import write_with

    write_with(target, lambda handle: fig.savefig(handle, format=fmt, dpi=dpi,
                                                  facecolor="white"), suffix=f".{fmt}")
    return depth


def network_svg(report: Report, *, depth: int | None = None, auto: bool = True) -> str:
    """The drawing as an ``<svg>`` element (text drawn as paths: no font to fetch)."""
    import io

    fig, _ = network_figure(report, depth=depth, auto=auto)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", facecolor="white")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def network_figure(report: Report, *, depth: int | None = None, auto: bool = True,
                   title: str | None = None):
    """The matplotlib ``Figure`` of the drawing, and the depth it was cut at."""
    if depth is None and auto:
        depth = auto_depth(report)
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from cnnspec.units import human_count

    scales = scales_for(report)
    stream = Stream(scales)
    stream.add(input_box(report, scales))
    expand(build_tree(report, depth), stream, True)
    Chain(stream.pieces).align_labels()
    rows = wrap(stream.pieces, stream.groups)
    heading = title or (f"{report.name}: input {shape_text(report.input)}, "
                        f"{report.totals.trainable_params:,} trainable parameters, "
                        f"{human_count(report.totals.macs)} MACs")
    if depth is not None:
        heading += f" (blocks below depth {depth} collapsed)"

    legend = scales.legend()
    width = max(max(r.width for r in rows) + 1.2, text_width(heading, 9) + 0.6,
                max(text_width(line, FONT * 0.95) for line in legend) + 0.6)
    height = sum(r.up + r.down + 0.35 for r in rows) + (len(legend) + 1) * LINE_H + 0.9
    fig = Figure(figsize=(max(6.0, width * INCH_PER_UNIT), max(2.5, height * INCH_PER_UNIT)))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.3, max(6.0 / INCH_PER_UNIT, width) - 0.3)
    top = 0.0
    ax.set_ylim(top - max(2.5 / INCH_PER_UNIT, height), top + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    canvas = _MplCanvas(ax)
    canvas.text(0.0, top - 0.05, heading, size=9, ha="left", bold=True)
    _, bottom = draw_rows(canvas, rows, stream.groups, top - 0.5)
    for n, line in enumerate(legend):
        canvas.text(0.0, bottom - 0.05 - n * LINE_H, line, size=FONT * 0.95, ha="left",
                    color="#555555")
    return fig, depth


__all__ = ["Box", "draw_network"]
