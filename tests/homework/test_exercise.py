"""Exercise variants: valid, reproducible, graded all correct against their own keys, and
each seeded one-cell mistake flagged on exactly that cell with the mistake that made it."""

from __future__ import annotations

import random
from dataclasses import replace
from fractions import Fraction
from typing import Any

import pytest

from cnnspec.analysis.records import shape_text
from cnnspec.homework.diagnose import right_inputs
from cnnspec.homework.exercise import make_variant, seed_for, table_answers, valid_report
from cnnspec.homework.keys import Key, grade_with_key, parse_key
from cnnspec.homework.mistakes import CATALOGUE
from cnnspec.homework.questions import NOT_WHOLE, _inputs
from cnnspec.homework.values import parse_number, parse_shape
from cnnspec.homework.verdicts import Verdict

STUDENTS = [f"2026{n:04d}" for n in range(30)]


def key_of(student: str) -> tuple[Any, Key]:
    from cnnspec.homework.exercise import key_yaml

    variant = make_variant(student, "hw-test")
    return variant, parse_key(key_yaml(variant), f"keys/{student}.yaml")


def _shown(value: Any) -> str:
    return shape_text(value) if isinstance(value, tuple) else str(value)


def seeded_mistakes(variant: Any, key: Key) -> list[tuple[str, str, str, str]]:
    """``(row, cell, wrong value, label)``: every catalogue model that changes a cell of the
    table or a question, plus totals mistakes and one-digit slips."""
    from cnnspec.homework.diagnose import Context
    from cnnspec.homework.verdicts import GradeOptions

    report = variant.report
    network = __import__("cnnspec").load(variant.spec, conventions=variant.conventions).network
    ctx = Context(network, report, key.sheet, GradeOptions())
    out = []
    layers, _ = table_answers(report)
    for name, cells in layers.items():
        if name == "input":
            continue
        right = right_inputs(ctx, report.row(name))
        for cell in cells:
            own = right.value(cell) if right is not None else None
            for model in CATALOGUE if right is not None else []:
                if cell not in model.cells:
                    continue
                changed = model.change(right)
                value = changed.value(cell) if changed is not None else None
                if value is not None and value != own:
                    out.append((name, cell, _shown(value), model.label))
        if "weights" in cells:
            digits = str(cells["weights"])
            slip = digits[:-1] + str((int(digits[-1]) + 5) % 10)
            out.append((name, "weights", slip, "one-digit slip"))
    for q in variant.questions:
        if q.model is None or not q.cell:
            continue
        right = _inputs(q.model)
        own = right.value(q.cell)
        for model in CATALOGUE:
            if q.cell in model.cells and (changed := model.change(right)) is not None:
                value = changed.value(q.cell)
                if value is not None and value != own:
                    out.append((q.qid, "answer", str(value), model.label))
    t = report.totals
    out.append(("total", "memory_mb", f"{t.param_bytes / 2**20:.2f}", "1000 vs 1024"))
    out.append(("total", "nodes", str(t.nodes + t.input_nodes), "input nodes counted"))
    out.append(("total", "memory_bytes", str(t.params * 8), "bytes per value"))
    return out


def with_cell(key: Key, row: str, cell: str, text: str) -> Any:
    sheet = key.sheet
    if row.startswith("Q"):
        return replace(sheet, questions={**sheet.questions, row: text})
    parse = parse_shape if cell == "output" else parse_number
    if row == "total":
        return replace(sheet, totals={**sheet.totals, cell: parse(text)})
    rows = {**sheet.rows, row: {**sheet.rows[row], cell: parse(text)}}
    return replace(sheet, rows=rows)


def test_variants_are_reproducible_and_differ() -> None:
    a, b = make_variant("kim", "hw1"), make_variant("kim", "hw1")
    assert (a.spec, a.conventions, [q.answer for q in a.questions]) == \
        (b.spec, b.conventions, [q.answer for q in b.questions])
    assert seed_for("kim", "hw1") != seed_for("kim", "hw2")
    specs = {make_variant(s, "hw1").spec for s in STUDENTS[:10]}
    assert len(specs) == 10


@pytest.mark.parametrize("student", STUDENTS)
def test_every_variant_is_valid_and_its_key_grades_all_correct(student: str) -> None:
    variant, key = key_of(student)
    assert valid_report(variant.spec, "default") is not None  # whole sizes, strict rounding
    kinds = {q.kind for q in variant.questions}
    assert kinds == {"size", "count", "matrix"} and len(variant.questions) == 14
    assert variant.questions[1].answer == NOT_WHOLE
    result = grade_with_key(key.sheet, key)
    assert result.all_correct, [c.why() for c in result.cells if c.verdict is not Verdict.CORRECT]
    assert len(result.cells) == 14 + sum(len(c) for c in key.sheet.rows.values()) + 5


@pytest.mark.parametrize("student", STUDENTS)
def test_ten_seeded_one_cell_mistakes_are_each_found_and_explained(student: str) -> None:
    variant, key = key_of(student)
    candidates = seeded_mistakes(variant, key)
    rng = random.Random(student)
    by_label: dict[str, list] = {}
    for item in candidates:
        by_label.setdefault(item[3], []).append(item)
    labels = sorted(by_label)
    rng.shuffle(labels)
    chosen = [rng.choice(by_label[label]) for label in labels[:10]]
    assert len(chosen) == 10
    for row, cell, text, label in chosen:
        result = grade_with_key(with_cell(key, row, cell, text), key)
        wrong = [c for c in result.cells if c.verdict is not Verdict.CORRECT]
        assert [c.cell_id for c in wrong] == [f"{row}.{cell}"], (row, cell, text, label)
        found = [m.label for m in wrong[0].mistakes]
        assert label in found, (row, cell, text, label, wrong[0].why())
        if label != "one-digit slip":
            assert text.replace(",", "") in wrong[0].given.replace(",", "")


def test_points_and_partial_credit_follow_the_key() -> None:
    variant, key = key_of(STUDENTS[0])
    rows = [r for r in variant.report.layers if r.kind == "pool"]
    pool, conv = rows[0], next(r for r in variant.report.layers
                               if r.kind == "conv" and r.index > rows[0].index)
    wrong_depth = (*pool.output[:2], pool.output[2] + 1)
    sheet = with_cell(key, pool.name, "output", shape_text(wrong_depth))
    fh, fw = conv.hyper.split(",")[0].split("x")[:2]
    theirs = (int(fh) * int(fw) * wrong_depth[2] + (1 if conv.biases else 0)) * conv.output[-1]
    sheet = replace(sheet, rows={**sheet.rows, conv.name: {**sheet.rows[conv.name],
                                                           "weights": parse_number(theirs)}})
    result = grade_with_key(sheet, key)
    cells = {c.cell_id: c for c in result.cells}
    consequential = cells[f"{conv.name}.weights"]
    assert consequential.verdict is Verdict.WRONG and consequential.consequential
    assert consequential.earned == Fraction(1, 2) and consequential.max_points == 1
    assert cells[f"{pool.name}.output"].earned == 0
    assert cells["total.weights"].max_points == 2
    assert result.points == result.max_points - Fraction(3, 2)
