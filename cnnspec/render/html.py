"""The analysis as an HTML table, for Jupyter's ``_repr_html_``.

Room: consumers (render).
"""

from __future__ import annotations

from html import escape

from cnnspec.analysis.records import Report, shape_text
from cnnspec.render.columns import COLUMNS, total_lines


def report_html(report: Report) -> str:
    """A self-contained ``<div>`` with the header, the table, totals and notes."""
    head = "".join(f"<th>{escape(c.title)}</th>" for c in COLUMNS)
    rows = []
    for row in report.layers:
        cells = "".join(
            f"<td style='text-align:{'right' if c.numeric else 'left'}'>"
            f"{'&nbsp;' * 2 * row.depth if c.key == 'name' else ''}"
            f"{escape(str(c.text(row)).strip())}</td>"
            for c in COLUMNS
        )
        weight = " style='font-weight:bold'" if row.is_block else ""
        rows.append(f"<tr{weight}>{cells}</tr>")
    totals = "".join(f"<li><b>{escape(k)}:</b> {escape(v)}</li>" for k, v in total_lines(report))
    notes = "".join(
        f"<li>{escape((n.layer + ': ') if n.layer else '')}{escape(n.message)}</li>"
        for n in report.notes)
    return (f"<div><b>{escape(report.name)}</b> — input {shape_text(report.input)}<br>"
            f"<small>{escape(report.conventions_text)}</small>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<ul>{totals}</ul>{'<b>Notes</b><ul>' + notes + '</ul>' if notes else ''}</div>")


def attach_report_html() -> None:
    """Give :class:`Report` a Jupyter ``_repr_html_`` (:func:`report_html`).

    The analysis room may not import rendering, so the method is attached from here;
    :mod:`cnnspec.api` calls this once, so every report shows as a table in a notebook.
    """
    if "_repr_html_" not in vars(Report):
        Report._repr_html_ = report_html  # type: ignore[attr-defined]
