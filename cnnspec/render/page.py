"""The analysis as one self-contained HTML page (``analyze --format html``) and as the
notebook view of a report.

Room: consumers (render). Everything the page needs is inside it: the style, the
diagram as inline SVG, no script or font fetched from anywhere. Every text that
comes from a spec (names, hyper-parameters, notes) has its control characters shown as
escapes and then goes through ``html.escape``.

The layer table is a tree: a block is a ``<details>`` element whose summary is the
block's own row, so blocks open and close without a script; every row is a grid with
the same column widths, so the cells line up like a table. A cell with a formula in
the record shows it on hover (``title``).
"""

from __future__ import annotations

import html

from cnnspec.analysis.records import LayerRecord, Report, shape_text
from cnnspec.render.columns import (
    Column,
    body_notes,
    depth_for_rows,
    header_lines,
    shown_columns,
    total_lines,
)
from cnnspec.render.layout import natural_widths
from cnnspec.render.safe_text import printable
from cnnspec.units import BINARY


def escape(text: object, quote: bool = True) -> str:
    """Text from a spec for the page: control characters shown as escapes, then HTML-escaped."""
    return html.escape(printable(text), quote)

STYLE = """
.cnnspec{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f}
.cnnspec h1{font-size:20px;margin:0 0 4px} .cnnspec h2{font-size:16px;margin:20px 0 6px}
.conventions{color:#555;margin:0;padding-left:18px}
.layers{font:12px/1.6 ui-monospace,"DejaVu Sans Mono",Menlo,monospace;border:1px solid #bbb;
 display:inline-block;max-width:100%;overflow-x:auto;vertical-align:top}
.row{display:grid;grid-template-columns:var(--cols);column-gap:10px;padding:0 6px;
 border-top:1px solid #eee;white-space:pre}
.head{font-weight:bold;background:#f1f1f4;border-top:none}
.block>summary{list-style:none;cursor:pointer;font-weight:bold;background:#f7f7fa}
.block>summary::-webkit-details-marker{display:none}
.block>summary .c0::before{content:"\\25B8 ";color:#888}
.block[open]>summary .c0::before{content:"\\25BE ";color:#888}
.aux{color:#777}
.num{text-align:right}
[title]{text-decoration:underline dotted #999;cursor:help}
.diagram svg{max-width:100%;height:auto}
.missing{color:#8a5a00}
"""

CHECK = """
window.addEventListener("error",function(e){document.getElementById("errors").textContent+=
e.message+"\\n";});
document.body.dataset.rows=document.querySelectorAll(".layers .row.layer").length;
"""


def report_page(report: Report, *, depth: int | None = None, columns: list[Column] | None = None,
                units: str = BINARY, diagram: bool = True) -> str:
    """The whole page: header, diagram, layer table, totals and notes.

    ``depth``: blocks deeper than this start closed (default: as the terminal table,
    at most 60 rows open). Every row is in the page whatever the depth.
    """
    svg = diagram_svg(report) if diagram else ""
    body = report_fragment(report, depth=depth, columns=columns, units=units, svg=svg)
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(report.name)} — cnnspec</title></head>"
            f"<body style='margin:24px'>{body}"
            f"<pre id='errors' hidden></pre><script>{CHECK}</script></body></html>\n")


def report_fragment(report: Report, *, depth: int | None = None,
                    columns: list[Column] | None = None, units: str = BINARY,
                    svg: str = "") -> str:
    """The page's content as one ``<div>`` (the notebook shows this)."""
    columns = columns or shown_columns(report)
    open_depth = depth if depth is not None else depth_for_rows(report)
    parts = [f"<div class='cnnspec'><style>{STYLE}</style><h1>{escape(report.name)}</h1>",
             f"<p>input {escape(shape_text(report.input))}</p>",
             "<ul class='conventions'>"
             + "".join(f"<li>{escape(line)}</li>" for line in header_lines(report)) + "</ul>"]
    if svg:
        parts.append(f"<h2>Diagram</h2><div class='diagram'>{svg}</div>")
    parts.append("<h2>Layers</h2>")
    parts.append(layer_tree(report, columns, units, open_depth))
    parts.append("<h2>Totals</h2><ul>" + "".join(
        f"<li><b>{escape(k)}:</b> {escape(v)}</li>" for k, v in total_lines(report, units))
        + "</ul>")
    notes = body_notes(report)
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in notes)
                     + "</ul>")
    parts.append("</div>")
    return "".join(parts)


def layer_tree(report: Report, columns: list[Column], units: str,
               open_depth: int | None) -> str:
    """The layer rows, blocks as ``<details>`` (open down to ``open_depth``)."""
    cells = [[c.text(r, units).strip() if c.key != "layer" else r.name for c in columns]
             for r in report.layers]
    widths = natural_widths(columns, [[("  " * r.depth) + row[0], *row[1:]]
                                      for r, row in zip(report.layers, cells, strict=True)])
    template = " ".join(f"{w + (2 if i == 0 else 0)}ch" for i, w in enumerate(widths))
    out = [f"<div class='layers' style='--cols:{template}'>",
           _row([c.title for c in columns], columns, "row head", None)]
    first = {"layer": "input", "type": "Input", "output": shape_text(report.input),
             "nodes": f"{report.totals.input_nodes:,}"}
    out.append(_row([first.get(c.key, "") for c in columns], columns, "row", None))
    open_blocks: list[int] = []  # depths of the <details> still open
    for record, texts in zip(report.layers, cells, strict=True):
        while open_blocks and open_blocks[-1] >= record.depth:
            open_blocks.pop()
            out.append("</details>")
        texts = ["&nbsp;" * 2 * record.depth + escape(texts[0]), *map(escape, texts[1:])]
        kind = "row layer" + ("" if record.main else " aux")
        row = _row(texts, columns, kind, record, escaped=True)
        if record.is_block:
            shown = open_depth is None or record.depth < open_depth
            out.append(f"<details class='block'{' open' if shown else ''}>"
                       f"<summary>{row}</summary>")
            open_blocks.append(record.depth)
        else:
            out.append(row)
    out.extend("</details>" for _ in open_blocks)
    out.append("</div>")
    return "".join(out)


def _row(texts: list[str], columns: list[Column], kind: str, record: LayerRecord | None,
         escaped: bool = False) -> str:
    cells = []
    for i, (text, col) in enumerate(zip(texts, columns, strict=True)):
        formula = record.formulas.get(col.formula) if record and col.formula else None
        attrs = f" class='c{i}{' num' if col.numeric else ''}'"
        if formula:
            attrs += f" title='{escape(formula, quote=True)}'"
        cells.append(f"<span{attrs}>{text if escaped else escape(text)}</span>")
    return f"<div class='{kind}'>{''.join(cells)}</div>"


def diagram_svg(report: Report) -> str:
    """The drawing as inline SVG, or a line saying what it needs."""
    try:
        from cnnspec.render.draw import network_svg
    except ImportError:  # pragma: no cover - draw imports only cnnspec modules
        return ""
    try:
        return network_svg(report)
    except ImportError:
        return ("<p class='missing'>The diagram needs matplotlib: "
                "pip install 'cnnspec[train]'.</p>")
