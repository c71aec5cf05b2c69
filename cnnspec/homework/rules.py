"""What a teacher's answer key decides: points per cell, partial credit for consequential
errors, accepted alternatives with a note, and tolerance for rounded figures.

Room: consumers (homework). Read from the key file (:mod:`.keys`); applied by
the grader cell by cell (:mod:`.grading`).

In a key::

    points: {default: 1, total.weights: 2, Conv:1: 2, Q3: 3}   # a cell, a whole row, a question
    partial_credit: 0.5        # share of a cell's points for the right method on a wrong
                               # earlier value of the student's own
    tolerance: {total.memory_mb: 0.5, total.weights: 1%}       # absolute, or % of the answer
    accept:
      total.weights:
        - {value: 58621952, note: "the lecture's printed total (FC biases left out)"}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cnnspec.errors import DataError, Location
from cnnspec.homework.values import Given, parse_number, parse_shape


@dataclass(frozen=True)
class Accepted:
    """A value the teacher accepts besides the analysis' own, and the note shown with it."""

    value: Given
    note: str


@dataclass(frozen=True)
class KeyRules:
    """Points, partial credit, tolerance and accepted alternatives, per cell id or row."""

    points: dict[str, Fraction] = field(default_factory=dict)
    default_points: Fraction = Fraction(1)
    partial_credit: Fraction = Fraction(0)
    tolerance: dict[str, tuple[Fraction, Fraction]] = field(default_factory=dict)
    accept: dict[str, list[Accepted]] = field(default_factory=dict)

    def _lookup(self, table: dict[str, Any], row: str, cell: str) -> Any:
        for name in (f"{row}.{cell}", row):
            if name in table:
                return table[name]
        return None

    def max_points(self, row: str, cell: str) -> Fraction:
        """The points of ``row.cell`` (the cell's own, else its row's, else the default)."""
        found = self._lookup(self.points, row, cell)
        return self.default_points if found is None else found

    def slack(self, row: str, cell: str, expected: Any) -> Fraction:
        """How far a written number may be from ``expected``: absolute, or a share of it."""
        found = self._lookup(self.tolerance, row, cell)
        if found is None or isinstance(expected, tuple):
            return Fraction(0)
        absolute, relative = found
        return max(absolute, abs(Fraction(expected)) * relative)

    def accepted(self, row: str, cell: str, given: Given) -> Accepted | None:
        """The accepted alternative ``given`` stands for, if any."""
        from cnnspec.homework.values import squeeze

        for alt in self._lookup(self.accept, row, cell) or []:
            if alt.value.shape is not None or given.shape is not None:
                if alt.value.shape is not None and given.shape is not None and \
                        squeeze(alt.value.shape) == squeeze(given.shape):
                    return alt
            elif alt.value.number is not None and given.matches(alt.value.number):
                return alt
        return None

    def earned(self, row: str, cell: str, correct: bool, consequential: bool) -> Fraction:
        """Points for one cell: all when correct, ``partial_credit`` of them for a
        consequential error, else none."""
        full = self.max_points(row, cell)
        if correct:
            return full
        return full * self.partial_credit if consequential else Fraction(0)


def _fraction(raw: Any, loc: Location | None, what: str) -> Fraction:
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = Fraction(str(raw).strip())
    except (ValueError, ZeroDivisionError):
        raise DataError(f"{what} must be a number, not {raw!r}", loc,
                        "write e.g. 2, 0.5 or 1/3") from None
    if value < 0:
        raise DataError(f"{what} cannot be negative ({raw!r})", loc, "write 0 or more")
    return value


def read_rules(doc: Any) -> KeyRules:
    """The rules of a key document (a :class:`~cnnspec.spec.yaml_io.LocDict`)."""
    from cnnspec.spec.yaml_io import LocDict

    def mapping(name: str) -> Any:
        value = doc.get(name)
        if value is not None and not isinstance(value, LocDict):
            raise DataError(f"`{name}` must be a mapping of cell ids", doc.value_locs[name],
                            "cell ids look like Conv:1.weights, total.weights, Conv:1 or Q3")
        return value or {}

    points_doc = mapping("points")
    points = {str(k): _fraction(v, points_doc.value_locs[k], f"points of {k}")
              for k, v in points_doc.items() if k != "default"}
    default = _fraction(points_doc["default"], points_doc.value_locs["default"],
                        "default points") if "default" in points_doc else Fraction(1)
    partial = Fraction(0)
    if doc.get("partial_credit") is not None:
        partial = _fraction(doc["partial_credit"], doc.value_locs["partial_credit"],
                            "partial_credit")
        if partial > 1:
            raise DataError("partial_credit is a share of the cell's points, at most 1",
                            doc.value_locs["partial_credit"], "write e.g. 0.5")
    tolerance: dict[str, tuple[Fraction, Fraction]] = {}
    tol_doc = mapping("tolerance")
    for k, v in tol_doc.items():
        text = str(v).strip()
        if text.endswith("%"):
            tolerance[str(k)] = (Fraction(0), _fraction(text[:-1], tol_doc.value_locs[k],
                                                        f"tolerance of {k}") / 100)
        else:
            tolerance[str(k)] = (_fraction(text, tol_doc.value_locs[k], f"tolerance of {k}"),
                                 Fraction(0))
    accept: dict[str, list[Accepted]] = {}
    acc_doc = mapping("accept")
    for k, items in acc_doc.items():
        loc = acc_doc.value_locs[k]
        if isinstance(items, LocDict):
            items = [items]
        if not isinstance(items, list):
            raise DataError(f"accept.{k} must list {{value: ..., note: ...}} entries", loc,
                            "write `- {value: 58621952, note: the lecture's total}`")
        parsed = []
        for item in items:
            if not isinstance(item, LocDict) or "value" not in item:
                raise DataError(f"accept.{k}: each entry needs a value", loc,
                                "write `- {value: 58621952, note: the lecture's total}`")
            where = item.value_locs["value"]
            value = parse_shape(item["value"], where) if str(k).endswith(".output") \
                else parse_number(item["value"], where)
            parsed.append(Accepted(value, str(item.get("note") or "an accepted alternative")))
        accept[str(k)] = parsed
    return KeyRules(points, default, partial, tolerance, accept)
