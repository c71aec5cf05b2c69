"""Exercises per student: one variant of a lecture-sized network for each student id,
the same every time for the same id, with its answer key and its blank answer file.

Room: consumers (homework). The variant is drawn from the id (SHA-256 of the id
and the exercise name seeds a ``numpy.random.Generator``) within what the lecture
teaches: input size and channels, kernel, stride, padding, filters, pooling and
conventions. A draw is kept only when every output size is whole under strict
rounding (the analysis refuses it otherwise), so every variant is valid under its
conventions. Every number in a key comes from the analysis report or the
homework functions (:mod:`.exercise_questions`); nothing is recomputed here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cnnspec.analysis.records import Report, shape_text
from cnnspec.errors import CnnspecError, DataError, Location
from cnnspec.homework.answers import INPUT_ROW, asked_rows
from cnnspec.homework.questions import Question
from cnnspec.homework.templates import conventions_value

MAX_DRAWS = 200
TOTAL_CELLS_ASKED = ("weights", "nodes", "memory_bytes", "memory_mb", "memory_mib")
CONVENTIONS = ("lecture", "pytorch", "default")


@dataclass(frozen=True)
class Variant:
    """One student's exercise: the network string, its conventions and its analysis, and
    the questions with their answers."""

    student: str
    exercise: str
    spec: str
    conventions: str
    report: Report
    questions: list[Question]


def seed_for(student: str, exercise: str) -> int:
    """The seed of ``student``'s variant: the same id and exercise always give the same."""
    digest = hashlib.sha256(f"{exercise}\x00{student}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _choice(rng: Any, options: tuple | list) -> Any:
    return options[int(rng.integers(len(options)))]


def draw_spec(rng: Any) -> str:
    """A network string in the lecture's shape: conv, pool, conv, pool, FC, FC."""
    side = _choice(rng, (28, 32, 36, 48, 64, 96, 128))
    channels = _choice(rng, (1, 3, 3))
    k1 = _choice(rng, (3, 5, 7, 11))
    s1 = _choice(rng, (1, 1, 2, 4) if k1 >= 7 else (1, 1, 2))
    p1 = int(rng.integers(0, k1 // 2 + 1))
    f1 = _choice(rng, (6, 8, 16, 24, 32, 48, 64, 96))
    pool1 = _choice(rng, ("MPool(2)", "MPool(3,s=2)", "APool(2)"))
    k2 = _choice(rng, (3, 5))
    p2 = _choice(rng, (0, k2 // 2))
    f2 = _choice(rng, (16, 32, 48, 64, 128, 256))
    pool2 = _choice(rng, ("MPool(2)", "MPool(3,s=2)", "APool(2)"))
    hidden = _choice(rng, (64, 84, 120, 128, 256, 512))
    classes = _choice(rng, (10, 10, 100))
    return (f"{side}x{side}x{channels} -> Conv({k1}x{k1},{f1},s={s1},p={p1})-ReLU-{pool1}-"
            f"Conv({k2}x{k2},{f2},p={p2})-ReLU-{pool2}-FC({hidden})-ReLU-FC({classes})")


def valid_report(spec: str, conventions: str) -> Report | None:
    """The analysis of ``spec`` under ``conventions`` when every size is whole under strict
    rounding and the last feature map is at least 2x2; else ``None``."""
    from cnnspec.api import load

    try:
        load(spec, conventions="default").report()  # strict: a stride that does not fit fails
        report = load(spec, conventions=conventions).report()
    except CnnspecError:
        return None
    pools = [r for r in report.layers if r.kind == "pool"]
    if not pools or pools[-1].output[0] < 2:
        return None
    return report


def make_variant(student: str, exercise: str = "cnn-sizes", spec: str | None = None,
                 conventions: str | None = None) -> Variant:
    """``student``'s variant. ``spec`` fixes the network (a zoo name, a path or a string)
    and only the questions vary; otherwise the network is drawn too."""
    import numpy as np

    from cnnspec.homework.exercise_questions import questions_for

    rng = np.random.default_rng(seed_for(student, exercise))
    chosen = conventions or _choice(rng, CONVENTIONS)
    if spec is not None:
        from cnnspec.api import load

        report = load(spec, conventions=conventions).report()
        chosen = conventions_value(report)
        text = spec
    else:
        for _ in range(MAX_DRAWS):
            text = draw_spec(rng)
            found = valid_report(text, chosen)
            if found is not None:
                report = found
                break
        else:  # pragma: no cover - the draws above are valid about one time in three
            raise DataError(f"no valid variant in {MAX_DRAWS} draws for {student!r}",
                            Location("--students"), "try another exercise name")
    return Variant(student, exercise, text, chosen, report, questions_for(rng, report))


# -- the table's right values, as a key holds them -------------------------------------------
def table_answers(report: Report) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """``(layers, totals)``: the right value of every asked cell, from the report."""
    layers: dict[str, dict[str, Any]] = {
        INPUT_ROW: {"output": shape_text(report.input), "nodes": report.totals.input_nodes}}
    for row in asked_rows(report):
        cells: dict[str, Any] = {"output": shape_text(row.output), "nodes": row.nodes}
        if row.params:
            cells["weights"] = row.params
        layers[row.name] = cells
    t = report.totals
    totals = {"weights": t.params, "nodes": t.nodes, "memory_bytes": t.param_bytes,
              "memory_mb": f"{t.param_bytes / 10**6:.2f}",
              "memory_mib": f"{t.param_bytes / 2**20:.2f}"}
    return layers, totals


def _dump(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def key_yaml(variant: Variant, points: dict[str, Any] | None = None,
             partial_credit: float = 0.5) -> str:
    """The answer key of ``variant``: an answer file with every value filled in, the
    questions with their answers and working, and the grading rules."""
    layers, totals = table_answers(variant.report)
    data: dict[str, Any] = {
        "key": 1,
        "title": f"{variant.exercise} for {variant.student}",
        "student": variant.student,
        "exercise": variant.exercise,
        "spec": variant.spec,
        "conventions": variant.conventions,
        "mb_base": 1000,
        "points": points or {"default": 1, "total": 2},
        "partial_credit": partial_credit,
        "tolerance": {"total.memory_mb": 0.01, "total.memory_mib": 0.01},
        "layers": layers,
        "totals": totals,
        "questions": {q.qid: q.to_key() for q in variant.questions},
    }
    head = (f"# Answer key: {variant.exercise}, variant of {variant.student} "
            f"(`cnnspec check ANSWERS --key THIS_FILE` grades against it)\n")
    return head + _dump(data)


def answers_yaml(variant: Variant) -> str:
    """The blank answer file the student fills in and hands back."""
    layers, _ = table_answers(variant.report)
    lines = [f"# {variant.exercise}: answers of {variant.student}. Fill in every blank; values",
             "# may be numbers (34944), expressions ((5x5x3+1)x6) or working = answer.",
             _dump({"student": variant.student, "exercise": variant.exercise,
                    "spec": variant.spec, "conventions": variant.conventions,
                    "mb_base": 1000}).rstrip("\n"),
             "layers:"]
    for name, cells in layers.items():
        lines.append(f"  {name}:")
        lines += [f"    {cell}:" for cell in cells]
    lines.append("totals:")
    lines += [f"  {cell}:" for cell in TOTAL_CELLS_ASKED]
    lines.append("questions:")
    lines += [f"  {q.qid}:" for q in variant.questions]
    return "\n".join(lines) + "\n"


def read_roster(text: str, source: str) -> list[str]:
    """Student ids from a roster: one per line, or the first column of a CSV (a header
    named id, student or student_id is skipped); ``#`` lines are comments."""
    import csv
    import io

    ids: list[str] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        value = row[0].strip()
        if number == 1 and value.lower() in ("id", "student", "student_id", "sid"):
            continue
        if value in ids:
            raise DataError(f"student id {value!r} appears twice", Location(source, number),
                            "each student gets one variant: keep one line per id")
        ids.append(value)
    if not ids:
        raise DataError(f"{source} lists no student ids", Location(source),
                        "write one id per line (or a CSV with the id first)")
    return ids
