"""Questions beyond the table: an output size, a weight count, a receptive field, a number
or a small matrix worked by hand; how each is written in a key and judged.

Room: consumers (homework). A question's answer is stored in the key, worked
out when the exercise was made from the analysis functions and the by-hand
engine (:mod:`.exercise_questions`); judging only compares. A size or weight
question also keeps the inputs of its formula (``model:``), so a wrong answer is
diagnosed by the same catalogue of mistake models as the table
(:mod:`.mistakes`).

In a key::

    questions:
      Q1:
        ask: Output side of a 5x5 conv, stride 2, padding 1, on a 32x32x3 input?
        kind: size            # size | count | number | matrix
        answer: 15            # or: not a whole number
        working: (32 + 2*1 - 5)/2 + 1 = 15.5
        model: {kind: conv, h: 32, w: 32, c: 3, k: 1, fh: 5, fw: 5, sh: 2, sw: 2, ph: 1, pw: 1}
        cell: side
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

from cnnspec.conventions import Rounding
from cnnspec.errors import CnnspecError, DataError, Location
from cnnspec.homework.mistakes import CATALOGUE, Inputs, describe, one_digit_slip
from cnnspec.homework.values import Given, parse_number
from cnnspec.homework.verdicts import CellResult, GradeOptions, Mistake, Verdict

NOT_WHOLE = "not a whole number"
NOT_WHOLE_WORDS = ("not a whole number", "not whole", "not an integer", "no integer",
                   "does not fit", "doesn't fit", "invalid", "impossible", "none", "no")
KINDS = ("size", "count", "number", "matrix")
ANSWER_CELL = "answer"
MATRIX_SLACK = Fraction(1, 200)  # entries written to two decimals are right


@dataclass(frozen=True)
class Question:
    """One question: what is asked, its answer, how it is derived, its formula's inputs."""

    qid: str
    kind: str
    ask: str
    answer: Any  # int, NOT_WHOLE, a number, or a list of rows
    working: str
    model: dict[str, Any] | None = None
    cell: str = ""

    def display(self) -> str:
        """The answer as the feedback shows it."""
        if self.kind == "matrix":
            return "; ".join(" ".join(_num(v) for v in row) for row in self.answer)
        if isinstance(self.answer, int):
            return f"{self.answer:,}" if self.kind == "count" else str(self.answer)
        return str(self.answer) if not isinstance(self.answer, float) else _num(self.answer)

    def to_key(self) -> dict[str, Any]:
        """The mapping written under ``questions:`` in a key."""
        out: dict[str, Any] = {"ask": self.ask, "kind": self.kind, "answer": self.answer,
                               "working": self.working}
        if self.model is not None:
            out["model"] = self.model
            out["cell"] = self.cell
        return out


def _num(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


def question_from_key(qid: str, raw: Any, loc: Location | None) -> Question:
    """A :class:`Question` from its mapping in a key."""
    if not isinstance(raw, dict) or "answer" not in raw:
        raise DataError(f"question {qid} in the key needs an answer", loc,
                        "write `Q1: {ask: ..., kind: size, answer: 15}`")
    kind = str(raw.get("kind", "number"))
    if kind not in KINDS:
        raise DataError(f"question {qid}: unknown kind {kind!r}", loc,
                        "kinds: " + ", ".join(KINDS))
    model = raw.get("model")
    if model is not None:
        known = {f.name for f in fields(Inputs)}
        if not isinstance(model, dict) or not set(model) <= known or "kind" not in model:
            raise DataError(f"question {qid}: a model lists the formula's inputs", loc,
                            "fields: " + ", ".join(sorted(known)))
        model = {str(k): v for k, v in model.items()}
    answer = raw["answer"]
    if kind == "matrix":
        answer = [list(map(float, row)) for row in answer]
    return Question(qid, kind, str(raw.get("ask", "")), answer, str(raw.get("working", "")),
                    model, str(raw.get("cell", "")))


def _inputs(model: dict[str, Any]) -> Inputs:
    values = dict(model)
    if "rounding" in values:
        values["rounding"] = Rounding(values["rounding"])
    return Inputs(**values)


def _written(raw: Any) -> Any:
    """What the student wrote (a key graded as answers holds ``{answer: ...}``)."""
    if isinstance(raw, dict) and "answer" in raw:
        return raw["answer"]
    return raw


def _matrix(raw: Any, loc: Location | None) -> list[list[Fraction]]:
    if isinstance(raw, str):
        rows = [r.split() for r in re.split(r"[;\n]", raw.replace(",", " ")) if r.strip()]
    elif isinstance(raw, list):
        rows = [r if isinstance(r, list) else [r] for r in raw]
    else:
        rows = [[raw]]
    try:
        return [[Fraction(str(v)) for v in row] for row in rows]
    except (ValueError, ZeroDivisionError):
        raise DataError(f"cannot read {raw!r} as a matrix", loc,
                        "write rows separated by ';': 4 3 4; 2 4 3; 2 3 4") from None


def judge_question(q: Question, raw: Any, loc: Location | None,
                   options: GradeOptions) -> CellResult:
    """The verdict on one question, with a diagnosis from the catalogue when wrong."""
    raw = _written(raw)

    def result(verdict: Verdict, given: str, mistakes: list[Mistake] | None = None,
               notes: list[str] | None = None) -> CellResult:
        return CellResult(q.qid, ANSWER_CELL, verdict, given, q.display(), q.working,
                          mistakes or [], notes or [], loc)

    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return result(Verdict.MISSING, "")
    if q.kind == "matrix":
        given = _matrix(raw, loc)
        shown = "; ".join(" ".join(_num(float(v)) for v in row) for row in given)
        expected = [[Fraction(str(v)) for v in row] for row in q.answer]
        if [len(r) for r in given] != [len(r) for r in expected]:
            return result(Verdict.WRONG, shown, [Mistake(
                "wrong size", f"the result is {len(expected)}x{len(expected[0])}; yours is "
                              f"{len(given)}x{len(given[0]) if given else 0}")])
        off = [(i, j) for i, row in enumerate(expected) for j, v in enumerate(row)
               if abs(given[i][j] - v) > MATRIX_SLACK]
        if not off:
            return result(Verdict.CORRECT, shown)
        listed = ", ".join(f"y_{i + 1}{j + 1} = {_num(float(given[i][j]))} "
                           f"(expected {_num(float(expected[i][j]))})" for i, j in off[:4])
        return result(Verdict.WRONG, shown, [Mistake(
            "wrong entries", f"{len(off)} of {sum(map(len, expected))} entries differ: "
                             f"{listed}")])
    text = str(raw).strip()
    if q.kind == "size" and text.lower().rstrip(".") in NOT_WHOLE_WORDS:
        if q.answer == NOT_WHOLE:
            return result(Verdict.CORRECT, text)
        return result(Verdict.WRONG, text, [Mistake(
            "it fits", f"{q.working}: the stride fits, the size is whole")])
    try:
        given = parse_number(raw, loc)
    except CnnspecError as exc:
        return result(Verdict.WRONG, text, [Mistake("not a number", exc.message)])
    if q.answer == NOT_WHOLE:
        found = _diagnose(q, given, options)
        return result(Verdict.WRONG, given.text, found or [Mistake(
            "not whole", f"{q.working}: a stride that does not fit gives no whole size")])
    if given.matches(Fraction(str(q.answer))):
        return result(Verdict.CORRECT, given.text)
    found = _diagnose(q, given, options)
    notes = [] if found else [f"no usual mistake gives {given.text}"]
    return result(Verdict.WRONG, given.text, found, notes)


def _diagnose(q: Question, given: Given, options: GradeOptions) -> list[Mistake]:
    """The catalogue's models on the question's own numbers."""
    found: list[Mistake] = []
    if q.model is None or not q.cell:
        return found
    right = _inputs(q.model)
    own = right.value(q.cell)
    for model in CATALOGUE:
        if q.cell not in model.cells:
            continue
        changed = model.change(right)
        value = changed.value(q.cell) if changed is not None else None
        if value is None or value == own or not given.matches(Fraction(value)):
            continue
        found.append(Mistake(model.label, describe(model, right, changed, q.cell, value)))
    if not found and isinstance(own, int) and given.integer is not None and \
            one_digit_slip(given.integer, own):
        found.append(Mistake("one-digit slip", f"{given.text} is {own:,} with one digit "
                                               f"changed: the method is right, check the "
                                               f"copying"))
    return found
