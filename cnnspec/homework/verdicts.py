"""Verdicts: what ``cnnspec check`` says about each cell of an answer file.

Room: consumers (homework). Plain frozen records with ``to_dict()``, so the
CLI, the batch report and tests read the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from typing import Any

from cnnspec.errors import Location


class Verdict(str, Enum):
    """The verdict on one cell."""

    CORRECT = "correct"
    WRONG = "wrong"
    MISSING = "missing"


class Rounding(str, Enum):
    """How rounded figures (``3.2M``, ``~237``) are judged."""

    EXACT = "exact"  # only exact numbers count; a rounded figure is wrong
    NEAREST = "nearest"  # the true value must round to the figure (3.2M: 3.15M..3.25M)
    LOOSE = "loose"  # within one unit of the last digit (truncated figures pass too)


@dataclass(frozen=True)
class GradeOptions:
    """How strictly to grade.

    ``mb_base``: what "MB" means (1024: MB = 1024^2 bytes, the lecture's ~237 MB;
    1000: SI megabytes; ``None``: the answer file's ``mb_base``, else 1024).
    ``mb_tolerance``: how many MB a memory figure may be off.
    """

    mb_base: int | None = None
    mb_tolerance: Fraction = Fraction(1)
    rounding: Rounding = Rounding.NEAREST


@dataclass(frozen=True)
class Mistake:
    """A usual mistake the wrong value matches: a short label and the explanation."""

    label: str
    text: str
    consequential: bool = False  # the right method on the student's own wrong earlier value

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"label": self.label, "text": self.text, "consequential": self.consequential}


@dataclass(frozen=True)
class CellResult:
    """One cell: what was written, what is expected, the verdict and why."""

    row: str
    cell: str
    verdict: Verdict
    given: str
    expected: str
    formula: str
    mistakes: list[Mistake] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    loc: Location | None = None
    points: Fraction | None = None  # None: 1 when correct, else 0
    max_points: Fraction = Fraction(1)

    @property
    def earned(self) -> Fraction:
        """The points this cell earned (its full points when correct, unless a key said)."""
        if self.points is not None:
            return self.points
        return self.max_points if self.verdict is Verdict.CORRECT else Fraction(0)

    @property
    def consequential(self) -> bool:
        """True when the value follows, by the right method, from the student's own wrong
        earlier answer (a key may give partial credit for it)."""
        return any(m.consequential for m in self.mistakes)

    @property
    def cell_id(self) -> str:
        """``Conv:1.output``, ``total.weights``."""
        return f"{self.row}.{self.cell}"

    def why(self) -> list[str]:
        """The explanation lines: the derivation, then each matched mistake, then notes."""
        lines = []
        if self.verdict is Verdict.WRONG:
            lines.append(f"you wrote {self.given}; expected {self.expected}: {self.formula}")
        elif self.verdict is Verdict.MISSING:
            lines.append(f"no answer; expected {self.expected}: {self.formula}")
        lines += [f"{m.label}: {m.text}" for m in self.mistakes]
        lines += self.notes
        return lines

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "row": self.row, "cell": self.cell, "verdict": self.verdict.value,
            "given": self.given, "expected": self.expected, "formula": self.formula,
            "mistakes": [m.to_dict() for m in self.mistakes], "notes": list(self.notes),
            "where": str(self.loc) if self.loc is not None else None,
            "points": float(self.earned), "max_points": float(self.max_points),
        }


@dataclass(frozen=True)
class Grade:
    """A whole answer file, graded."""

    submission: str
    student: str
    spec: str
    conventions: str
    cells: list[CellResult]

    def count(self, verdict: Verdict) -> int:
        """How many cells got ``verdict``."""
        return sum(1 for c in self.cells if c.verdict is verdict)

    @property
    def points(self) -> Fraction:
        """The points earned over every cell."""
        return sum((c.earned for c in self.cells), Fraction(0))

    @property
    def max_points(self) -> Fraction:
        """The points there are to earn."""
        return sum((c.max_points for c in self.cells), Fraction(0))

    @property
    def score(self) -> float:
        """Points earned / points there are (1.0 when nothing was asked); with one point
        per cell and no partial credit, correct cells / asked cells."""
        return float(self.points / self.max_points) if self.max_points else 1.0

    @property
    def all_correct(self) -> bool:
        """True when every asked cell is correct."""
        return all(c.verdict is Verdict.CORRECT for c in self.cells)

    def score_text(self) -> str:
        """``score 29/31 (93.5%): 2 wrong, 0 missing``."""
        right = self.count(Verdict.CORRECT)
        if self.points != right or self.max_points != len(self.cells):
            return (f"score {float(self.points):g}/{float(self.max_points):g} points "
                    f"({100 * self.score:.1f}%): {right}/{len(self.cells)} correct, "
                    f"{self.count(Verdict.WRONG)} wrong, {self.count(Verdict.MISSING)} missing")
        return (f"score {right}/{len(self.cells)} ({100 * self.score:.1f}%): "
                f"{self.count(Verdict.WRONG)} wrong, {self.count(Verdict.MISSING)} missing")

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "submission": self.submission, "student": self.student, "spec": self.spec,
            "conventions": self.conventions, "score": round(self.score, 4),
            "points": float(self.points), "max_points": float(self.max_points),
            "correct": self.count(Verdict.CORRECT), "wrong": self.count(Verdict.WRONG),
            "missing": self.count(Verdict.MISSING), "cells": [c.to_dict() for c in self.cells],
        }
