"""The analysis as JSON, CSV and markdown.

Room: consumers (render).
"""

from __future__ import annotations

import csv
import io
import json

from cnnspec.analysis.records import Report, shape_text
from cnnspec.render.columns import COLUMNS, HEADER_MACS, total_lines, visible_rows


def to_json(report: Report) -> str:
    """The JSON contract, indented two spaces, each layer on one line.

    The rows go through ``json``'s C encoder one by one: its indenting encoder is
    pure Python, and 100,000 layers took seconds.
    """
    pieces = []
    row_json = json.JSONEncoder(check_circular=False).encode  # rows hold no cycles
    for key, value in report.to_dict().items():
        if key == "layers" and value:
            text = "[\n    " + ",\n    ".join(map(row_json, value)) + "\n  ]"
        else:
            text = json.dumps(value, indent=2).replace("\n", "\n  ")
        pieces.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(pieces) + "\n}"


def to_csv(report: Report, depth: int | None = None) -> str:
    """One row per layer, raw numbers (no thousands separators)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["depth", "path", *[c.key for c in COLUMNS], "rf_jump", "is_block", "main"])
    for row in visible_rows(report, depth):
        values = [c.value(row) for c in COLUMNS]
        rf_index = [c.key for c in COLUMNS].index("receptive_field")
        values[rf_index] = "x".join(map(str, row.rf_size))
        writer.writerow([row.depth, row.path, *values, "x".join(map(str, row.rf_jump)),
                         int(row.is_block), int(row.main)])
    return out.getvalue()


def to_markdown(report: Report, depth: int | None = None) -> str:
    """A markdown table with totals and notes, ready to paste into homework or a README."""
    lines = [f"### {report.name} — input {shape_text(report.input)}", "",
             f"_{report.conventions_text}_", "", f"_{HEADER_MACS}_", ""]
    lines.append("| " + " | ".join(c.title for c in COLUMNS) + " |")
    lines.append("|" + "|".join("---:" if c.numeric else "---" for c in COLUMNS) + "|")
    lines.append(f"| input | Input |  | {shape_text(report.input)} | "
                 f"{report.totals.input_nodes:,} |" + " |" * (len(COLUMNS) - 5))
    for row in visible_rows(report, depth):
        cells = [c.text(row).replace("|", "\\|") for c in COLUMNS]
        cells[0] = "&nbsp;&nbsp;" * row.depth + row.name
        if row.is_block:
            cells[0] = f"**{cells[0]}**"
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.extend(f"- **{label}:** {value}" for label, value in total_lines(report))
    if report.notes:
        lines.extend(["", "**Notes**", ""])
        lines.extend(f"- {n.layer + ': ' if n.layer else ''}{n.message}" for n in report.notes)
    return "\n".join(lines) + "\n"
