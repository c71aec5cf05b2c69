"""Student sheets and feedback files: one list of blocks, written as markdown or as a
self-contained HTML page.

Room: consumers (homework). Every piece of text goes through
:mod:`.safe_cells` (HTML-escaped, control characters shown), so a student id or a
spec name cannot inject markup. The sheet shows the network and blanks for every
number; the numbers themselves live only in the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cnnspec.homework.answers import INPUT_ROW, asked_rows
from cnnspec.render.safe_text import html_text, markdown_cell, one_line

BLANK = "____"


@dataclass(frozen=True)
class Block:
    """One piece of a page: ``h1``/``h2``/``p``/``code`` with ``text``; ``table`` with
    ``header`` and ``rows``; ``ol`` with ``rows`` (one item each)."""

    kind: str
    text: str = ""
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def sheet_blocks(variant) -> list[Block]:
    """The student sheet of an exercise variant (numbers blanked)."""
    report = variant.report
    rows: list[tuple[str, ...]] = [(INPUT_ROW, "Input", "", BLANK, BLANK, "")]
    for row in asked_rows(report):
        rows.append((row.name, row.type, row.hyper, BLANK, BLANK, BLANK if row.params else "-"))
    totals = [("weights (parameters)", BLANK), ("nodes (activations, input not counted)", BLANK),
              ("parameter memory in bytes", BLANK), ("parameter memory in MB (10^6 B)", BLANK),
              ("parameter memory in MiB (2^20 B)", BLANK)]
    return [
        Block("h1", f"{variant.exercise}: exercise of {variant.student}"),
        Block("p", "Fill in the answer file you were given (answers.yaml) and hand it in. "
                   "Values may be numbers (34944), expressions ((5x5x3+1)x6) or working = "
                   "answer."),
        Block("h2", "The network"),
        Block("code", variant.spec),
        Block("p", report.conventions_text),
        Block("h2", "Part 1: the per-layer table"),
        Block("table", header=("Layer", "Type", "Hyper-parameters", "Output (HxWxC)", "Nodes",
                               "Weights"), rows=tuple(rows)),
        Block("table", header=("Total", "Value"), rows=tuple(totals)),
        Block("h2", "Part 2: questions"),
        Block("ol", rows=tuple((f"{q.qid}. {q.ask}",) for q in variant.questions)),
    ]


def key_blocks(variant) -> list[Block]:
    """The teacher's view of a variant: every answer with its working."""
    from cnnspec.homework.exercise import table_answers

    layers, totals = table_answers(variant.report)
    rows = tuple((name, str(c.get("output", "")), str(c.get("nodes", "")),
                  str(c.get("weights", "-"))) for name, c in layers.items())
    return [
        Block("h1", f"{variant.exercise}: key of {variant.student}"),
        Block("code", variant.spec),
        Block("table", header=("Layer", "Output", "Nodes", "Weights"), rows=rows),
        Block("table", header=("Total", "Value"),
              rows=tuple((k, str(v)) for k, v in totals.items())),
        Block("ol", rows=tuple((f"{q.qid}. {q.display()} — {q.working}",)
                               for q in variant.questions)),
    ]


def feedback_blocks(grade) -> list[Block]:
    """A graded submission as feedback to hand back: score, every cell, and why."""
    from cnnspec.homework.batch import points_text
    from cnnspec.homework.report import explanations

    rows = tuple((c.cell_id, c.given or "—", c.expected, c.verdict.value,
                  f"{points_text(c.earned)}/{points_text(c.max_points)}") for c in grade.cells)
    blocks = [
        Block("h1", f"Feedback for {grade.student}: {grade.spec}"),
        Block("p", grade.score_text()),
        Block("p", grade.conventions),
        Block("table", header=("Cell", "Your answer", "Expected", "Verdict", "Points"),
              rows=rows),
    ]
    details = explanations(grade)
    if details:
        blocks.append(Block("h2", "Why"))
        blocks.append(Block("ol", rows=tuple(
            (f"{title}: " + " / ".join(lines),) for title, lines in details)))
    return blocks


# -- renderers -----------------------------------------------------------------------------
def to_markdown(blocks: list[Block]) -> str:
    """The blocks as markdown (text escaped for table cells; code kept as written)."""
    out: list[str] = []
    for b in blocks:
        if b.kind == "h1":
            out += [f"# {markdown_cell(b.text)}", ""]
        elif b.kind == "h2":
            out += [f"## {markdown_cell(b.text)}", ""]
        elif b.kind == "p":
            out += [markdown_cell(b.text), ""]
        elif b.kind == "code":
            out += ["```", one_line(b.text).replace("```", "'''"), "```", ""]
        elif b.kind == "table":
            out.append("| " + " | ".join(markdown_cell(h) for h in b.header) + " |")
            out.append("|" + "---|" * len(b.header))
            out += ["| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in b.rows]
            out.append("")
        elif b.kind == "ol":
            out += [f"- {markdown_cell(row[0])}" for row in b.rows]
            out.append("")
    return "\n".join(out)


_CODE = re.compile(r"`([^`]*)`")

STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
         "padding:0 1rem;line-height:1.5}table{border-collapse:collapse;margin:1rem 0}"
         "td,th{border:1px solid #bbb;padding:.25rem .6rem;text-align:left}"
         "th{background:#f0f0f0}pre{background:#f6f6f6;padding:.6rem;overflow-x:auto}"
         "li{margin:.4rem 0}")


def _inline(text: str) -> str:
    """Escaped text with `code` spans (escaping first, so no markup gets through)."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html_text(text))


def to_html(blocks: list[Block], title: str) -> str:
    """The blocks as one self-contained HTML page (inline CSS, no scripts, all text
    escaped)."""
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           f"<title>{html_text(title)}</title><style>{STYLE}</style></head><body>"]
    for b in blocks:
        if b.kind in ("h1", "h2", "p"):
            out.append(f"<{b.kind}>{_inline(b.text)}</{b.kind}>")
        elif b.kind == "code":
            out.append(f"<pre><code>{html_text(b.text)}</code></pre>")
        elif b.kind == "table":
            out.append("<table><thead><tr>" + "".join(f"<th>{html_text(h)}</th>"
                                                      for h in b.header) + "</tr></thead>")
            out.append("<tbody>" + "".join(
                "<tr>" + "".join(f"<td>{html_text(c)}</td>" for c in row) + "</tr>"
                for row in b.rows) + "</tbody></table>")
        elif b.kind == "ol":
            out.append("<ul>" + "".join(f"<li>{_inline(row[0])}</li>" for row in b.rows)
                       + "</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
