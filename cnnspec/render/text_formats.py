"""The analysis as JSON, CSV and markdown.

Room: consumers (render).
"""

from __future__ import annotations

import io
import json

from cnnspec.analysis.records import Report, shape_text
from cnnspec.render.columns import (
    Column,
    body_notes,
    header_lines,
    shown_columns,
    total_lines,
    visible_rows,
)
from cnnspec.render.safe_text import csv_writer
from cnnspec.units import BINARY

# The CSV holds the records' raw fields (no thousands separators, no units): params is
# trainable + non_trainable, as in the JSON.
CSV_FIELDS = ["name", "type", "hyper", "output", "nodes", "weights", "biases", "params",
              "trainable", "non_trainable", "macs", "receptive_field", "activation_bytes"]


def to_json(report: Report) -> str:
    """The JSON contract, indented two spaces, each layer on one line.

    The rows go through ``json``'s C encoder one by one: its indenting encoder is
    pure Python, and 100,000 layers took seconds. Each row's dictionary is made,
    encoded and dropped in turn, so only the rows' text is held at once.
    """
    parts = ["{\n"]  # joined once at the end: no copy of the whole text in between
    row_json = json.JSONEncoder(check_circular=False).encode  # rows hold no cycles
    for i, (key, value) in enumerate(report.to_dict(rows=False).items()):
        parts.append((",\n" if i else "") + f"  {json.dumps(key)}: ")
        if key == "layers" and report.layers:
            parts.append("[\n    ")
            for j, row in enumerate(report.layers):
                if j:
                    parts.append(",\n    ")
                parts.append(row_json(row.to_dict()))
            parts.append("\n  ]")
        else:
            parts.append(json.dumps(value, indent=2).replace("\n", "\n  "))
    parts.append("\n}")
    return "".join(parts)


def to_csv(report: Report, depth: int | None = None) -> str:
    """One row per layer, raw numbers (no thousands separators)."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["depth", "path", *CSV_FIELDS, "rf_jump", "is_block", "main"])
    for row in visible_rows(report, depth):
        values = [getattr(row, f) if hasattr(row, f) else None for f in CSV_FIELDS]
        values[CSV_FIELDS.index("output")] = shape_text(row.output)
        values[CSV_FIELDS.index("receptive_field")] = "x".join(map(str, row.rf_size))
        writer.writerow([row.depth, row.path, *values, "x".join(map(str, row.rf_jump)),
                         int(row.is_block), int(row.main)])
    return out.getvalue()


def to_markdown(report: Report, depth: int | None = None, columns: list[Column] | None = None,
                units: str = BINARY) -> str:
    """A markdown table with totals and notes, ready to paste into homework or a README."""
    columns = columns or shown_columns(report)
    lines = [f"### {report.name} — input {shape_text(report.input)}", ""]
    for line in header_lines(report):
        lines += [f"_{line}_", ""]
    lines.append("| " + " | ".join(c.title for c in columns) + " |")
    lines.append("|" + "|".join("---:" if c.numeric else "---" for c in columns) + "|")
    first = {"layer": "input", "type": "Input", "output": shape_text(report.input),
             "nodes": f"{report.totals.input_nodes:,}"}
    lines.append("| " + " | ".join(first.get(c.key, "") for c in columns) + " |")
    for row in visible_rows(report, depth):
        cells = [c.text(row, units).replace("|", "\\|") for c in columns]
        cells[0] = "&nbsp;&nbsp;" * row.depth + row.name
        if row.is_block:
            cells[0] = f"**{cells[0]}**"
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.extend(f"- **{label}:** {value}" for label, value in total_lines(report, units))
    notes = body_notes(report)
    if notes:
        lines.extend(["", "**Notes**", ""])
        lines.extend(f"- {n}" for n in notes)
    return "\n".join(lines) + "\n"
