"""Writing graded answers out: plain text, markdown, CSV and JSON.

Room: consumers (homework); reads the verdict records only. The rich table of
the terminal lives in ``cnnspec/cli/check.py``.
"""

from __future__ import annotations

import io
import json

from cnnspec.homework.batch import CellSummary, Submission
from cnnspec.homework.verdicts import Grade, Verdict
from cnnspec.render.safe_text import csv_row, csv_writer, markdown_cell


def explanations(grade: Grade, show_all: bool = False) -> list[tuple[str, list[str]]]:
    """``(cell id, lines)`` for each cell worth explaining: not correct, or with notes."""
    out = []
    for cell in grade.cells:
        lines = cell.why()
        if lines and (cell.verdict is not Verdict.CORRECT or cell.notes or show_all):
            out.append((f"{cell.cell_id} ({cell.verdict.value})", lines))
    return out


def grade_markdown(grade: Grade, show_all: bool = True) -> str:
    """A markdown table of every cell, then the explanations."""
    lines = [f"# {markdown_cell(grade.student)}: {markdown_cell(grade.spec)}", "",
             f"*{grade.conventions}*", "",
             f"**{grade.score_text()}**", "",
             "| row | cell | given | expected | verdict |", "|---|---|---|---|---|"]
    for cell in grade.cells:
        if show_all or cell.verdict is not Verdict.CORRECT:
            given = markdown_cell(cell.given) or "—"
            lines.append(f"| {markdown_cell(cell.row)} | {cell.cell} | {given} | "
                         f"{cell.expected} | "
                         f"{cell.verdict.value} |")
    details = explanations(grade)
    if details:
        lines += ["", "## Why", ""]
        for title, why in details:
            lines.append(f"- **{markdown_cell(title)}**")
            lines += [f"  - {markdown_cell(line)}" for line in why]
    return "\n".join(lines) + "\n"


def grade_csv(grade: Grade) -> str:
    """One CSV row per cell: verdict, values, formula, matched mistakes, notes."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["row", "cell", "verdict", "given", "expected", "formula", "mistakes",
                     "notes"])
    for cell in grade.cells:
        writer.writerow(csv_row([cell.row, cell.cell, cell.verdict.value, cell.given,
                                 cell.expected, cell.formula,
                                 "; ".join(f"{m.label}: {m.text}" for m in cell.mistakes),
                                 "; ".join(cell.notes)]))
    return buffer.getvalue()


def grade_json(grade: Grade) -> str:
    """The grade as JSON."""
    return json.dumps(grade.to_dict(), indent=2) + "\n"


def batch_json(submissions: list[Submission], summary: list[CellSummary]) -> str:
    """A batch as JSON: each submission's score and the per-cell summary."""
    data = {
        "submissions": [
            {"file": s.name, "error": s.error, **({"student": s.grade.student,
                                                   "score": round(s.grade.score, 4),
                                                   "points": float(s.grade.points),
                                                   "max_points": float(s.grade.max_points),
                                                   "correct": s.grade.count(Verdict.CORRECT),
                                                   "wrong": s.grade.count(Verdict.WRONG),
                                                   "missing": s.grade.count(Verdict.MISSING)}
                                                  if s.grade else {})}
            for s in submissions
        ],
        "cells": [row.to_dict() for row in summary],
    }
    return json.dumps(data, indent=2) + "\n"


def batch_markdown(submissions: list[Submission], summary: list[CellSummary]) -> str:
    """A batch as markdown: the submissions, then the cells most often not correct."""
    lines = ["| submission | student | score | wrong | missing | error |",
             "|---|---|---|---|---|---|"]
    for s in submissions:
        if s.grade is None:
            lines.append(f"| {markdown_cell(s.name)} | | | | | {markdown_cell(s.error or '')} |")
        else:
            g = s.grade
            lines.append(f"| {markdown_cell(s.name)} | {markdown_cell(g.student)} | "
                         f"{100 * g.score:.1f}% | "
                         f"{g.count(Verdict.WRONG)} | {g.count(Verdict.MISSING)} | |")
    lines += ["", "| cell | wrong | missing | correct | most common mistake |",
              "|---|---|---|---|---|"]
    for row in summary:
        if row.not_correct:
            lines.append(f"| {row.cell_id} | {row.wrong} | {row.missing} | {row.correct} | "
                         f"{row.common_mistake} |")
    return "\n".join(lines) + "\n"
