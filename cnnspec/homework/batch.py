"""A teacher's batch: grade a folder of answer files, one row each, and find the cells
most students got wrong.

Room: consumers (homework). A submission that cannot be read becomes a row
with its error; the rest of the batch goes on.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnspec.errors import CnnspecError, DataError, Location
from cnnspec.homework.answers import read_answers
from cnnspec.homework.grading import grade, resolve_network
from cnnspec.homework.verdicts import Grade, GradeOptions, Verdict
from cnnspec.spec.tree import Network

ANSWER_SUFFIXES = (".yaml", ".yml", ".csv")


@dataclass(frozen=True)
class Submission:
    """One file of the batch: its grade, or the error that stopped it."""

    path: str
    grade: Grade | None
    error: str | None = None

    @property
    def name(self) -> str:
        """The file name."""
        return Path(self.path).name


@dataclass(frozen=True)
class CellSummary:
    """How one cell went across the batch."""

    cell_id: str
    correct: int
    wrong: int
    missing: int
    common_mistake: str

    @property
    def not_correct(self) -> int:
        """Wrong plus missing."""
        return self.wrong + self.missing

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"cell": self.cell_id, "correct": self.correct, "wrong": self.wrong,
                "missing": self.missing, "most_common_mistake": self.common_mistake}


def find_submissions(folder: str | Path) -> list[Path]:
    """The answer files in ``folder`` (YAML and CSV), sorted by name."""
    root = Path(folder)
    files = sorted(p for p in root.iterdir() if p.is_file() and
                   p.suffix.lower() in ANSWER_SUFFIXES and not p.name.startswith("."))
    if not files:
        raise DataError(f"{root} holds no answer files (.yaml, .yml, .csv)", Location(str(root)),
                        "put one answer file per student in the folder")
    return files


def grade_files(paths: list[Path], spec: str | None, conventions: str | None,
                options: GradeOptions | None, on_done: Callable[[Path], None] | None = None,
                input_shape: str | None = None) -> list[Submission]:
    """Grade each file; ``spec`` (loaded once) overrides the files' own ``spec:``."""
    base: Network | None = None
    if spec is not None:
        from cnnspec.api import load

        base = load(spec, input_shape=input_shape, conventions=conventions).network
    out = []
    for path in paths:
        try:
            sheet = read_answers(path)
            network = resolve_network(sheet, spec, conventions, base, input_shape)
            out.append(Submission(str(path), grade(sheet, network, options, str(path))))
        except CnnspecError as exc:
            out.append(Submission(str(path), None, exc.one_line()))
        if on_done is not None:
            on_done(path)
    return out


def cell_order(submissions: list[Submission]) -> list[str]:
    """Every cell id that any submission was graded on, in first-seen order."""
    seen: dict[str, None] = {}
    for sub in submissions:
        if sub.grade is not None:
            for cell in sub.grade.cells:
                seen.setdefault(cell.cell_id, None)
    return list(seen)


def summarize(submissions: list[Submission]) -> list[CellSummary]:
    """Per cell: how many got it right, wrong, missing, and the most common mistake;
    the cells most often not correct first."""
    rows = []
    for cell_id in cell_order(submissions):
        tally: Counter[Verdict] = Counter()
        mistakes: Counter[str] = Counter()
        for sub in submissions:
            if sub.grade is None:
                continue
            for cell in sub.grade.cells:
                if cell.cell_id == cell_id:
                    tally[cell.verdict] += 1
                    if cell.mistakes:
                        mistakes[cell.mistakes[0].label] += 1
        common = mistakes.most_common(1)[0][0] if mistakes else ""
        rows.append(CellSummary(cell_id, tally[Verdict.CORRECT], tally[Verdict.WRONG],
                                tally[Verdict.MISSING], common))
    return sorted(rows, key=lambda r: -r.not_correct)


def grades_csv(submissions: list[Submission]) -> str:
    """One row per submission: score, counts, error, then the verdict on every cell."""
    cells = cell_order(submissions)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", "student", "score", "correct", "wrong", "missing", "error",
                     *cells])
    for sub in submissions:
        g = sub.grade
        if g is None:
            writer.writerow([sub.name, "", "", "", "", "", sub.error, *([""] * len(cells))])
            continue
        verdicts = {c.cell_id: c.verdict.value for c in g.cells}
        writer.writerow([sub.name, g.student, f"{g.score:.4f}", g.count(Verdict.CORRECT),
                         g.count(Verdict.WRONG), g.count(Verdict.MISSING), "",
                         *[verdicts.get(c, "") for c in cells]])
    return buffer.getvalue()


def summary_csv(summary: list[CellSummary]) -> str:
    """The per-cell summary as CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["cell", "correct", "wrong", "missing", "most_common_mistake"])
    for row in summary:
        writer.writerow([row.cell_id, row.correct, row.wrong, row.missing, row.common_mistake])
    return buffer.getvalue()
