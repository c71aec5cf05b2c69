"""A teacher's batch: grade a folder of answer files, one row each, and find the cells
most students got wrong.

Room: consumers (homework). A submission that cannot be read becomes a row
with its error; the rest of the batch goes on.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from cnnspec.errors import CnnspecError, DataError, Location
from cnnspec.homework.answers import AnswerSheet, read_answers
from cnnspec.homework.grading import Analysed, grade, resolve_network
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
    """The answer files in ``folder`` (YAML and CSV), sorted by name, and any FIFO, device or
    socket there (each is graded into an error row of its own; none is ever opened)."""
    from cnnspec.homework.answers import file_kind

    root = Path(folder)
    found = []
    for path in root.iterdir():
        if path.name.startswith("."):
            continue
        kind = file_kind(path)
        answer = kind == "file" and path.suffix.lower() in ANSWER_SUFFIXES
        if answer or kind not in ("file", "directory", None):
            found.append(path)
    if not found:
        raise DataError(f"{root} holds no answer files (.yaml, .yml, .csv)", Location(str(root)),
                        "put one answer file per student in the folder")
    return sorted(found)


class SpecCache:
    """The distinct specs of one batch, each loaded and analysed once.

    Keyed by what names the spec (the resolved file, or the zoo name or string), the
    conventions the answer file chose and the input shape; 200 students handing in
    25 versions of a homework cost 25 analyses, not 200.
    """

    def __init__(self, spec: str | None, conventions: str | None, input_shape: str | None):
        self.spec = spec
        self.conventions = conventions
        self.input_shape = input_shape
        self.base: Network | None = None
        if spec is not None:
            from cnnspec.api import load

            self.base = load(spec, input_shape=input_shape, conventions=conventions).network
        self._networks: dict[str, Network] = {}
        self._analysed: dict[int, Analysed] = {}

    def key(self, sheet: AnswerSheet) -> str:
        """What identifies the network ``sheet`` is graded against."""
        import json

        named = self.spec if self.spec is not None else sheet.spec
        if self.spec is None and sheet.spec_text is not None:
            named = "embedded:" + sheet.spec_text  # the spec written inside the answer file
        if self.spec is None and sheet.spec is not None:
            beside = Path(sheet.source).parent / sheet.spec
            if beside.is_file():
                named = str(beside.resolve())
        chosen = None if self.conventions is not None else sheet.conventions
        return json.dumps([named, chosen, self.input_shape], sort_keys=True, default=str)

    def network(self, sheet: AnswerSheet) -> Network:
        """The network for ``sheet`` (loaded on first use of its key)."""
        key = self.key(sheet)
        if key not in self._networks:
            self._networks[key] = resolve_network(sheet, self.spec, self.conventions,
                                                  self.base, self.input_shape)
        return self._networks[key]

    def analysed(self, network: Network) -> Analysed:
        """The analysis of ``network`` (made on first use)."""
        from cnnspec.analysis import analyze

        found = self._analysed.get(id(network))
        if found is None:
            found = self._analysed[id(network)] = Analysed(analyze(network))
        return found


def grade_files(paths: list[Path], spec: str | None, conventions: str | None,
                options: GradeOptions | None, on_done: Callable[[Path], None] | None = None,
                input_shape: str | None = None, keys: Any = None) -> list[Submission]:
    """Grade each file; ``spec`` (loaded once) overrides the files' own ``spec:``;
    ``keys`` (a :class:`~cnnspec.homework.keys.KeyBook`) grades each file by its key.
    Each distinct spec is loaded and analysed once for the whole batch."""
    cache = SpecCache(spec if keys is None else None, conventions, input_shape)
    out = []
    for path in paths:
        try:
            sheet = read_answers(path)
            if keys is not None:
                from cnnspec.homework.keys import grade_with_key

                key = keys.for_sheet(sheet)
                network = keys.network(key)
                result = grade_with_key(sheet, key, options, str(path), network,
                                        cache.analysed(network))
            else:
                network = cache.network(sheet)
                result = grade(sheet, network, options, str(path), cache.analysed(network))
            out.append(Submission(str(path), result))
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


GRADES_COLUMNS = ("submission", "student", "score", "points", "max_points", "cell", "verdict",
                  "given", "expected", "cell_points", "cell_max_points", "diagnosis", "error")


def grades_csv(submissions: list[Submission]) -> str:
    """Long format: one row per submission and cell, with the value given, the value
    expected, the points and the diagnosis; a submission that could not be graded is one
    row with its error. Text from answer files is escaped against CSV injection."""
    from cnnspec.render.safe_text import csv_row, csv_writer

    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(GRADES_COLUMNS)
    for sub in submissions:
        g = sub.grade
        if g is None:
            writer.writerow(csv_row([sub.name, "", "", "", "", "", "", "", "", "", "", "",
                                     sub.error or ""]))
            continue
        head = [sub.name, g.student, f"{g.score:.4f}", points_text(g.points),
                points_text(g.max_points)]
        for c in g.cells:
            diagnosis = "; ".join(f"{m.label}: {m.text}" for m in c.mistakes) or \
                "; ".join(n for n in c.notes if n.startswith("no usual mistake"))
            writer.writerow(csv_row([*head, c.cell_id, c.verdict.value, c.given, c.expected,
                                     points_text(c.earned), points_text(c.max_points),
                                     diagnosis, ""]))
    return buffer.getvalue()


def points_text(value: Fraction | float | int) -> str:
    """``2``, ``1.5``, ``0.333``: points without trailing zeros."""
    return f"{float(value):.3f}".rstrip("0").rstrip(".")


def summary_csv(summary: list[CellSummary]) -> str:
    """The per-cell summary as CSV."""
    from cnnspec.render.safe_text import csv_row

    buffer = io.StringIO()
    from cnnspec.render.safe_text import csv_writer

    writer = csv_writer(buffer)
    writer.writerow(["cell", "correct", "wrong", "missing", "most_common_mistake"])
    for row in summary:
        writer.writerow(csv_row([row.cell_id, row.correct, row.wrong, row.missing,
                                 row.common_mistake]))
    return buffer.getvalue()
