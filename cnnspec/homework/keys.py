"""Answer keys: the teacher's file that says what is asked, what counts as right and what
each cell is worth; grading an answer sheet against one.

Room: consumers (homework). A key is an answer file (``spec:``, ``layers:``,
``totals:``, ``questions:`` filled in with the right values, so ``cnnspec
check KEY`` grades it all correct) plus the rules of :mod:`.rules`
(``points:``, ``partial_credit:``, ``tolerance:``, ``accept:``) and, for
questions, their text, answer and working (:mod:`.questions`). The table's
expected values always come from the analysis of the key's spec; the key lists
which cells are asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cnnspec.errors import DataError, Location
from cnnspec.homework.answers import (
    KEY_FIELDS,
    AnswerSheet,
    load_document,
    read_checked_text,
    sheet_from_doc,
)
from cnnspec.homework.questions import Question, judge_question, question_from_key
from cnnspec.homework.rules import KeyRules, read_rules
from cnnspec.homework.verdicts import Grade, GradeOptions


@dataclass(frozen=True)
class Key:
    """A parsed answer key: its own sheet (spec, conventions, the asked cells), its rules
    and its questions."""

    source: str
    sheet: AnswerSheet
    rules: KeyRules
    questions: dict[str, Question] = field(default_factory=dict)
    title: str = ""

    @property
    def student(self) -> str | None:
        """Whose variant this key is (``None``: everyone's)."""
        return self.sheet.student


def parse_key(text: str, source: str) -> Key:
    """A :class:`Key` from YAML text."""
    doc = load_document(text, source, "answer key")
    if "key" not in doc:
        raise DataError(f"{source} is not an answer key (no `key:` line)", Location(source, 1),
                        "an answer key starts with `key: 1`; `cnnspec exercise` writes keys")
    sheet = sheet_from_doc(doc, source, KEY_FIELDS, "the answer key")
    questions = {}
    raw = doc.get("questions") or {}
    for qid in raw:
        questions[str(qid)] = question_from_key(str(qid), raw[qid], raw.value_locs[qid])
    return Key(source, sheet, read_rules(doc), questions, str(doc.get("title") or ""))


def read_key(path: str | Path) -> Key:
    """Read an answer key file."""
    return parse_key(read_checked_text(path, "answer key"), str(path))


def is_key(path: str | Path) -> bool:
    """True when the YAML file at ``path`` is an answer key (it has a ``key:`` line)."""
    try:
        head = Path(path).read_text(encoding="utf-8-sig")[:4096]
    except (OSError, UnicodeDecodeError):
        return False
    return any(line.startswith("key:") for line in head.splitlines())


def key_network(key: Key, conventions: str | None = None):
    """The network the key is about (its spec resolved beside the key file)."""
    from cnnspec.homework.grading import resolve_network

    return resolve_network(key.sheet, conventions=conventions)


def asked_sheet(sheet: AnswerSheet, key: Key) -> AnswerSheet:
    """``sheet`` with every cell the key asks present (blank when the student left it out),
    so it is graded as missing rather than skipped."""
    rows = {name: dict(cells) for name, cells in sheet.rows.items()}
    for name, cells in key.sheet.rows.items():
        mine = rows.setdefault(name, {})
        for cell in cells:
            mine.setdefault(cell, None)
    totals = {**{c: None for c in key.sheet.totals}, **sheet.totals}
    return replace(sheet, rows=rows, totals=totals)


def grade_with_key(sheet: AnswerSheet, key: Key, options: GradeOptions | None = None,
                   submission: str | None = None, network: Any = None,
                   analysed: Any = None) -> Grade:
    """Grade ``sheet`` against ``key``: the table by the analysis of the key's spec, the
    questions by the key's answers; points, partial credit, tolerance and accepted
    alternatives as the key says."""
    from fractions import Fraction

    from cnnspec.homework.grading import grade, score_cell

    # a key judges memory figures by its own tolerance (else the digits written)
    options = replace(options or GradeOptions(), mb_tolerance=Fraction(0))
    if key.sheet.mb_base is not None and options.mb_base is None:
        options = replace(options, mb_base=key.sheet.mb_base)
    network = network if network is not None else key_network(key)
    merged = replace(asked_sheet(sheet, key), conventions=None, spec=None, spec_text=None)
    result = grade(merged, network, options, submission or sheet.source, analysed, key.rules)
    asked = {(row, cell) for row, cells in key.sheet.rows.items() for cell in cells}
    asked |= {("total", cell) for cell in key.sheet.totals}
    cells = [c for c in result.cells if (c.row, c.cell) in asked]  # the key says what counts
    for qid, question in key.questions.items():
        judged = judge_question(question, sheet.questions.get(qid),
                                sheet.question_locs.get(qid) or sheet.row_locs.get(qid),
                                options)
        cells.append(score_cell(judged, key.rules))
    return replace(result, student=sheet.name, cells=cells,
                   spec=key.sheet.exercise or key.title or result.spec)


def check(answers: Any, key: Any, options: GradeOptions | None = None) -> Grade:
    """Grade ``answers`` against ``key``; the verdicts as data (for notebooks and nbgrader).

    ``answers``: a path to an answer file, or a mapping as an answer file holds it
    (``{"layers": {...}, "totals": {...}, "questions": {"Q1": 15}}``). ``key``: a path
    to an answer key, a :class:`Key`, or a spec (a zoo name, a path, a network string)
    to grade the table against without a key. ``grade.to_dict()`` is plain JSON.
    """
    from cnnspec.homework.answers import read_answers
    from cnnspec.homework.grading import grade, resolve_network

    if isinstance(answers, AnswerSheet):
        sheet = answers
    elif isinstance(answers, dict):
        import yaml

        from cnnspec.homework.answers import parse_yaml

        sheet = parse_yaml(yaml.safe_dump(answers, sort_keys=False), "<answers>")
    else:
        sheet = read_answers(answers)
    if isinstance(key, Key):
        return grade_with_key(sheet, key, options)
    text = str(key)
    if text.endswith((".yaml", ".yml")) and Path(text).is_file() and is_key(text):
        return grade_with_key(sheet, read_key(text), options)
    network = resolve_network(sheet, text)
    return grade(sheet, network, options)


class KeyBook:
    """The keys of a batch: one key for everyone, or a folder of per-student keys matched by
    the answer file's ``student:`` (else its file name)."""

    def __init__(self, path: str | Path):
        root = Path(path)
        if root.is_dir():
            files = sorted(p for p in root.iterdir()
                           if p.suffix.lower() in (".yaml", ".yml") and p.is_file())
            if not files:
                raise DataError(f"{root} holds no answer keys", Location(str(root)),
                                "`cnnspec exercise make` writes keys/<id>.yaml")
        else:
            files = [root]
        self.keys = [read_key(p) for p in files]
        self.by_student = {k.student: k for k in self.keys if k.student}
        self.by_stem = {Path(k.source).stem: k for k in self.keys}
        self._networks: dict[str, Any] = {}

    def for_sheet(self, sheet: AnswerSheet) -> Key:
        """The key that grades ``sheet``."""
        if len(self.keys) == 1:
            return self.keys[0]
        found = self.by_student.get(sheet.student or "") or \
            self.by_stem.get(Path(sheet.source).stem)
        if found is None:
            raise DataError(f"no key for student {sheet.name!r}", Location(sheet.source),
                            "write `student: ID` in the answer file as the exercise gave it")
        return found

    def network(self, key: Key) -> Any:
        """The key's network, loaded once."""
        if key.source not in self._networks:
            self._networks[key.source] = key_network(key)
        return self._networks[key.source]
