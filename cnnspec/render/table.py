"""The analysis as a rich table (the default output).

Room: consumers (render).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnnspec.analysis.records import Report, shape_text
from cnnspec.render.columns import COLUMNS, HEADER_MACS, total_lines, visible_rows

if TYPE_CHECKING:
    from rich.console import Console


def print_report(report: Report, console: Console, depth: int | None = None) -> None:
    """Print the header, the per-layer table, the totals and the notes."""
    from rich.table import Table
    from rich.text import Text

    console.print(Text(f"{report.name} — input {shape_text(report.input)}", style="bold"))
    console.print(Text(report.conventions_text, style="dim"))
    console.print(Text(HEADER_MACS, style="dim"))
    table = Table(show_lines=False, header_style="bold", pad_edge=False)
    for col in COLUMNS:
        table.add_column(col.title, justify="right" if col.numeric else "left",
                         no_wrap=col.key in ("name", "output"))
    table.add_row("input", "Input", "", shape_text(report.input),
                  f"{report.totals.input_nodes:,}", *[""] * (len(COLUMNS) - 5))
    for row in visible_rows(report, depth):
        style = "bold" if row.is_block else ("dim" if not row.main else None)
        table.add_row(*[Text(col.text(row)) for col in COLUMNS], style=style)  # not markup
    console.print(table)
    for label, value in total_lines(report):
        console.print(Text.assemble((f"{label}: ", "bold"), value))
    if report.notes:
        console.print(Text("Notes", style="bold"))
        for note in report.notes:
            where = f"{note.layer}: " if note.layer else ""
            console.print(Text(f"  - {where}{note.message}"))
