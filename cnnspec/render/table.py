"""The analysis as a terminal table (the default output), laid out to fit the terminal.

Room: consumers (render).

The table is drawn here rather than by ``rich.table``: every cell is known whole, the
layout (:mod:`cnnspec.render.layout`) has already chosen columns that fit, so drawing is
string padding, fast enough for 100,000 rows. rich styles and prints the lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cnnspec.analysis.records import LayerRecord, Report, shape_text
from cnnspec.render.columns import (
    COLUMN_KEYS,
    Column,
    body_notes,
    depth_for_rows,
    header_lines,
    max_depth,
    shown_columns,
    total_lines,
    visible_rows,
)
from cnnspec.render.layout import Heading, Layout, choose
from cnnspec.render.safe_text import one_line
from cnnspec.units import BINARY

if TYPE_CHECKING:
    from rich.console import Console

AUTO = "auto"
MAX_ROWS = 60  # the default view collapses blocks until the table has at most this many rows


@dataclass(frozen=True)
class TableOptions:
    """How to show the table.

    ``depth``: a block depth, ``None`` for every row, or ``"auto"`` (collapse blocks until
    at most 60 rows remain). ``columns``: the columns asked for (``None``: all, as space
    allows). ``width``: the terminal's width to fit, or ``None`` to print every column at
    its natural width (piped output, ``--wide``). ``units``: ``binary`` or ``si`` bytes.
    ``quiet``: the numbers only -- the title, the table and the totals, without the
    conventions header, the lines about hidden columns and collapsed blocks, and the notes.
    """

    depth: int | str | None = AUTO
    columns: list[Column] | None = None
    width: int | None = None
    units: str = BINARY
    quiet: bool = False


def resolve_depth(report: Report, depth: int | str | None) -> int | None:
    """The depth to show: ``"auto"`` becomes the deepest level with at most 60 rows."""
    if depth == AUTO:
        return depth_for_rows(report, MAX_ROWS)
    return depth  # type: ignore[return-value]


def row_cells(report: Report, rows: list[LayerRecord], columns: list[Column],
              units: str) -> list[list[str]]:
    """The text of every cell: the input row first, then one row per record."""
    first = {"layer": "input", "type": "Input", "output": shape_text(report.input),
             "nodes": f"{report.totals.input_nodes:,}"}
    texts = [[c.text(r, units) for r in rows] for c in columns]  # column by column
    for c, column in zip(columns, texts, strict=True):
        if c.user_text and not "".join(column).isprintable():
            column[:] = map(one_line, column)
    return [[first.get(c.key, "") for c in columns], *map(list, zip(*texts, strict=True))]


def _pad(text: str, width: int, right: bool) -> str:
    if text.isascii():
        gap = width - len(text)
    else:
        from rich.cells import cell_len

        gap = width - cell_len(text)
    return " " * gap + text if right else text + " " * gap


def draw(layout: Layout, cells: list[list[str]]) -> list[str]:
    """The table as lines: a heavy header box, then one line per row."""
    w, cols = layout.widths, layout.columns

    def line(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * (n + 2) for n in w) + right

    def cells_line(texts: list[str], rule: str) -> str:
        return rule + rule.join(f" {_pad(t, n, c.numeric)} "
                                for t, n, c in zip(texts, w, cols, strict=True)) + rule

    lines = [line("┏", "━", "┳", "┓"), cells_line([c.title for c in cols], "┃"),
             line("┡", "━", "╇", "┩")]
    lines.extend(cells_line(row, "│") for row in cells)
    lines.append(line("└", "─", "┴", "┘"))
    return lines


def print_fitted(console: Console, columns: list[Heading], cells: list[list[str]],
                 width: int | None, styles: list[str] | None = None) -> list[Heading]:
    """Print a table of given cells laid out by :func:`~cnnspec.render.layout.choose` (whole
    cells, columns dropped by priority to fit ``width``); returns the hidden columns.

    ``styles``: one rich style per row of ``cells`` (``""`` for none).
    """
    cells = [[c if c.isprintable() else one_line(c) for c in row] for row in cells]
    layout = choose(columns, cells, width)
    lines = draw(layout, layout.project(cells))
    row_styles = styles or [""] * len(cells)
    console.print(StyledLines(lines, ["", "bold", "", *row_styles, ""]), soft_wrap=True,
                  crop=False)
    return layout.hidden


def layout_for(report: Report, options: TableOptions) -> tuple[Layout, list[list[str]],
                                                              list[LayerRecord], int | None]:
    """The layout, the cells, the rows shown and the depth they were cut at."""
    depth = resolve_depth(report, options.depth)
    rows = visible_rows(report, depth)
    columns = options.columns or shown_columns(report)
    cells = row_cells(report, rows, columns, options.units)
    width = None if options.columns else options.width  # columns asked for are all shown
    return choose(columns, cells, width), cells, rows, depth


def fit_messages(report: Report, layout: Layout, rows: list[LayerRecord], depth: int | None,
                 options: TableOptions) -> list[str]:
    """The lines under the table: which columns and rows the view leaves out, and how to
    show them."""
    messages = []
    if layout.hidden:
        messages.append(
            f"Hidden to fit {options.width} columns: {', '.join(c.title for c in layout.hidden)}."
            f" Show every column with --wide, or pick them with --columns "
            f"{','.join(c.key for c in layout.columns[:2] + layout.hidden[:1])},... "
            f"(keys: {', '.join(COLUMN_KEYS)}).")
    deepest = max_depth(report)
    if depth is not None and depth < deepest:
        messages.append(f"Blocks collapsed below depth {depth} ({len(rows):,} of "
                        f"{len(report.layers):,} rows; totals are the same at every depth). "
                        "Expand with " + (f"--depth {deepest}." if depth + 1 == deepest else
                                          f"--depth {depth + 1} ... --depth {deepest}."))
    return messages


def print_report(report: Report, console: Console, options: TableOptions | None = None) -> None:
    """Print the header, the per-layer table, the totals and the notes."""
    from rich.text import Text

    options = options or TableOptions()
    layout, cells, rows, depth = layout_for(report, options)
    wrap = options.width is not None  # piped output stays one line per row and per note

    def say(text: Text) -> None:
        console.print(text, soft_wrap=not wrap, crop=False)

    say(Text(f"{report.name} — input {shape_text(report.input)}", style="bold"))
    for line in [] if options.quiet else header_lines(report):
        say(Text(line, style="dim"))
    lines = draw(layout, layout.project(cells))
    styles = ["", "bold", ""] + [""] + [_row_style(r) for r in rows] + [""]
    console.print(StyledLines(lines, styles), soft_wrap=True, crop=False)
    for message in [] if options.quiet else fit_messages(report, layout, rows, depth, options):
        say(Text(message, style="dim"))
    for label, value in total_lines(report, options.units):
        say(Text.assemble((f"{label}: ", "bold"), value))
    notes = body_notes(report)
    if notes:
        say(Text("Notes", style="bold"))
    for note in notes:
        if wrap:  # a terminal: wrapped lines hang under the note, not under its dash
            import textwrap

            note = textwrap.fill(note, width=console.width, initial_indent="  - ",
                                 subsequent_indent="    ", break_on_hyphens=False)
            say(Text(note))
        else:
            say(Text(f"  - {note}"))


class StyledLines:
    """Ready-made lines, one style each, printed as they are (no wrapping, no cropping).

    rich's ``Text`` would re-split and re-measure 100,000 lines; these are already laid
    out, so they go to the console as segments. Control characters a spec may carry in a
    name are shown escaped (``\\x1b``), never sent to the terminal.
    """

    def __init__(self, lines: list[str], styles: list[str]):
        self.lines = lines
        self.styles = styles

    def __rich_console__(self, console, options):
        from rich.segment import Segment
        from rich.style import Style

        parsed: dict[str, Style | None] = {}
        newline = Segment.line()
        for line, style in zip(self.lines, self.styles, strict=True):
            if style not in parsed:
                parsed[style] = Style.parse(style) if style else None
            yield Segment(line if line.isprintable() else one_line(line), parsed[style])
            yield newline


def _row_style(row: LayerRecord) -> str:
    return "bold" if row.is_block else ("dim" if not row.main else "")
