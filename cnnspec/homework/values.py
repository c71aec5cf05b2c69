"""A student's written value: a number, an expression, a rounded figure or a shape.

Room: consumers (homework); imports only ``cnnspec.errors``.

Answers are written the way people write them on paper, and each form is kept
so a verdict can quote it back:

* ``34944``, ``34,944``, ``34_944``               exact numbers
* ``(11x11x3+1)x96``, ``(3*3*3)*64``               expressions (``x``, ``×`` and ``*`` multiply)
* ``(11x11x3+1)x96 (=34,944)``, ``224*224*64=3.2M`` working, then the answer after ``=``
* ``3.2M``, ``~24M``, ``138 M``, ``15.2k``         rounded figures (k = 10^3, M = 10^6, G = 10^9)
* ``55x55x96``, ``[224x224x64]``, ``4096``         shapes (output cells only)

A rounded figure is right when the true value rounds to it: ``3.2M`` stands
for anything in ``[3.15M, 3.25M]``, i.e. a tolerance of half a unit of the last
digit written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from cnnspec.errors import DataError, Location

SUFFIXES = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9}
UNIT_WORDS = ("/image", "/ image", "per image", "bytes", "byte", "MiB", "MB", "mb", "B")
APPROX_MARKS = ("~", "≈", "about", "approx.", "approx", "ca.")
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:_\d+)*(?:\.\d*)?|\.\d+)\s*(?P<suffix>[kKMG](?![a-zA-Z]))?"
    r"|(?P<op>[-+*/×xX()]))"
)
_TRAILING_WORDS = re.compile(r"\s+[A-Za-z]{2,}(?:\s+[A-Za-z]+)*$")
_WORKING_PAREN = re.compile(r"\(\s*=\s*([^()]*)\)")


@dataclass(frozen=True)
class Given:
    """One value as the student wrote it.

    ``number`` is the value (``None`` for shapes); ``tolerance`` is how far the
    true value may be from it (0 for an exact number); ``working`` is an
    expression written before ``=`` and ``working_value`` what it evaluates to.
    """

    text: str
    number: Fraction | None = None
    shape: tuple[int, ...] | None = None
    tolerance: Fraction = Fraction(0)
    expression: str | None = None
    working: str | None = None
    working_value: Fraction | None = None
    loc: Location | None = None

    @property
    def exact(self) -> bool:
        """True for an exact number or a shape."""
        return self.tolerance == 0

    @property
    def integer(self) -> int | None:
        """The value as an ``int`` when it is an exact whole number."""
        if self.number is None or not self.exact or self.number.denominator != 1:
            return None
        return int(self.number)

    def matches(self, value: Fraction | int, slack: Fraction = Fraction(0)) -> bool:
        """True when ``value`` lies within this figure's tolerance (plus ``slack``)."""
        if self.number is None:
            return False
        return abs(Fraction(value) - self.number) <= self.tolerance + slack


def _fail(text: str, loc: Location | None, what: str) -> DataError:
    return DataError(
        f"cannot read {text!r} as {what}", loc,
        "write a whole number (34944 or 34,944), an expression such as (5x5x3+1)x6, "
        "or a rounded figure such as 3.2M",
    )


class _Parser:
    """Recursive descent over ``expr := term (+|- term)*; term := factor (*|x|/ factor)*``."""

    def __init__(self, text: str, loc: Location | None):
        self.text = text
        self.loc = loc
        self.tokens: list[tuple[str, str, str | None]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise _fail(text, loc, "a number")
            if match.group("num") is not None:
                self.tokens.append(("num", match.group("num"), match.group("suffix")))
            else:
                self.tokens.append(("op", match.group("op"), None))
            pos = match.end()
        self.pos = 0
        self.rounded: list[Fraction] = []

    def peek(self) -> tuple[str, str, str | None] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str, str | None]:
        token = self.peek()
        if token is None:
            raise _fail(self.text, self.loc, "a number")
        self.pos += 1
        return token

    def parse(self) -> Fraction:
        if not self.tokens:
            raise _fail(self.text, self.loc, "a number")
        value = self.expr()
        if self.peek() is not None:
            raise _fail(self.text, self.loc, "a number")
        return value

    def expr(self) -> Fraction:
        value = self.term()
        while (token := self.peek()) is not None and token[1] in "+-":
            self.take()
            value = value + self.term() if token[1] == "+" else value - self.term()
        return value

    def term(self) -> Fraction:
        value = self.factor()
        while (token := self.peek()) is not None and token[1] in "*/×xX":
            self.take()
            right = self.factor()
            if token[1] == "/":
                if right == 0:
                    raise DataError(f"{self.text!r} divides by zero", self.loc,
                                    "check the expression")
                value = value / right
            else:
                value = value * right
        return value

    def factor(self) -> Fraction:
        kind, text, suffix = self.take()
        if kind == "op" and text == "(":
            value = self.expr()
            if self.take()[1] != ")":
                raise _fail(self.text, self.loc, "a number")
            return value
        if kind == "op" and text == "-":
            return -self.factor()
        if kind != "num":
            raise _fail(self.text, self.loc, "a number")
        digits = text.replace(",", "").replace("_", "")
        value = Fraction(digits)
        scale = SUFFIXES[suffix] if suffix else 1
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        if suffix or decimals:
            self.rounded.append(Fraction(scale, 2 * 10**decimals))
        return value * scale


def _strip_marks(text: str) -> tuple[str, bool]:
    """Remove an approximation mark, unit words and trailing words; report the mark.

    ``~93MB / image`` -> ``93``; ``24M activations`` -> ``24M``; ``15.2 M`` stays.
    """
    marked = False
    stripped = text.strip()
    for mark in APPROX_MARKS:
        if stripped.lower().startswith(mark):
            stripped = stripped[len(mark):].strip()
            marked = True
    while True:
        before = stripped
        for unit in UNIT_WORDS:
            if stripped.endswith(unit) and stripped[: -len(unit)].strip():
                stripped = stripped[: -len(unit)].strip()
        stripped = _TRAILING_WORDS.sub("", stripped).rstrip("/ ")
        if stripped == before:
            return stripped, marked


def evaluate(text: str, loc: Location | None = None) -> tuple[Fraction, Fraction]:
    """``(value, tolerance)`` of an expression or rounded figure (tolerance 0 when exact).

    A lone rounded figure has the tolerance of its last digit (``3.2M`` -> 0.05M);
    an expression built from rounded figures is allowed 1% either way.
    """
    stripped, marked = _strip_marks(text)
    parser = _Parser(stripped, loc)
    value = parser.parse()
    numbers = sum(1 for kind, _, _ in parser.tokens if kind == "num")
    if parser.rounded and numbers == 1:
        return value, parser.rounded[0]
    if parser.rounded:
        return value, abs(value) / 100
    if marked and value.denominator == 1 and value != 0:
        # "~237": the last written digit is the unit
        return value, Fraction(1, 2)
    return value, Fraction(0)


def parse_number(raw: object, loc: Location | None = None) -> Given:
    """A count or size as written: number, expression, working ``= answer``, or rounded figure."""
    if isinstance(raw, bool):
        raise _fail(str(raw), loc, "a number")
    if isinstance(raw, int):
        return Given(text=f"{raw:,}", number=Fraction(raw), loc=loc)
    if isinstance(raw, float):
        text = repr(raw)
        decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 0
        tolerance = Fraction(1, 2 * 10**decimals) if decimals else Fraction(0)
        return Given(text=text, number=Fraction(text), tolerance=tolerance, loc=loc)
    if not isinstance(raw, str):
        raise _fail(str(raw), loc, "a number")
    text = raw.strip()
    flat = _WORKING_PAREN.sub(r"= \1", text)
    parts = [p.strip() for p in flat.split("=")]
    if any(not p for p in parts):
        raise _fail(text, loc, "a number")
    value, tolerance = evaluate(parts[-1], loc)
    working = working_value = None
    if len(parts) > 1:
        working = parts[0]
        working_value, _ = evaluate(working, loc)
    expression = parts[-1] if _is_expression(parts[-1]) else None
    if working_value is not None and tolerance and _consistent(working, working_value, value,
                                                               tolerance):
        # "224*224*64=3.2M": the exact working is the answer, the figure only abbreviates it
        value, tolerance = working_value, Fraction(0)
    return Given(text=text, number=value, tolerance=tolerance, expression=expression,
                 working=working, working_value=working_value, loc=loc)


def _consistent(working: str, exact: Fraction, rounded: Fraction, tolerance: Fraction) -> bool:
    """True when ``rounded`` abbreviates the exact ``working`` (within a unit or 1%)."""
    _, working_tolerance = evaluate(working)
    return working_tolerance == 0 and abs(exact - rounded) <= max(2 * tolerance, abs(exact) / 100)


def _is_expression(text: str) -> bool:
    return bool(re.search(r"\d\s*[-+*/×xX(]|\)", text.strip()))


def parse_shape(raw: object, loc: Location | None = None) -> Given:
    """An output size: ``55x55x96``, ``[224x224x64]``, ``4096``, ``[55, 55, 96]``.

    A trailing ``(=290,400)`` or ``= 290,400`` (the node count) is allowed and kept
    as ``working`` text.
    """
    hint = "write the output as H x W x C (55x55x96), or a single number for an FC layer"
    if isinstance(raw, bool):
        raise DataError(f"cannot read {raw!r} as a shape", loc, hint)
    if isinstance(raw, int):
        return Given(text=str(raw), shape=(raw,), loc=loc)
    if isinstance(raw, list) and raw and all(isinstance(d, int) and not isinstance(d, bool)
                                             for d in raw):
        return Given(text="x".join(map(str, raw)), shape=tuple(raw), loc=loc)
    if not isinstance(raw, str):
        raise DataError(f"cannot read {raw!r} as a shape", loc, hint)
    text = raw.strip()
    flat = _WORKING_PAREN.sub(r"= \1", text)
    head, _, tail = flat.partition("=")
    body = head.strip().strip("[]() ")
    dims = re.split(r"\s*[x×X*,]\s*", body)
    if not body or not all(d.isdigit() for d in dims):
        raise DataError(f"cannot read {text!r} as a shape", loc, hint)
    shape = tuple(int(d) for d in dims)
    if any(d == 0 for d in shape):
        raise DataError(f"shape {text!r} has a zero size", loc, hint)
    working_value = None
    if tail.strip():
        working_value, _ = evaluate(tail, loc)
    return Given(text=text, shape=shape, working=tail.strip() or None,
                 working_value=working_value, loc=loc)


def squeeze(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Drop leading 1s, so ``1x1x4096`` (cs231n's way to write an FC output) equals ``4096``."""
    dims = list(shape)
    while len(dims) > 1 and dims[0] == 1:
        dims.pop(0)
    return tuple(dims)


def figure(value: Fraction | int, digits: int = 2) -> str:
    """``1234567`` -> ``1,234,567``; a fraction -> ``237.92``."""
    value = Fraction(value)
    if value.denominator == 1:
        return f"{int(value):,}"
    return f"{float(value):,.{digits}f}"


def about(value: int) -> str:
    """``15237608`` -> ``15.2 M``; ``138357544`` -> ``138.4 M``; ``9216`` -> ``9.2 k``."""
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if abs(value) >= size:
            return f"{value / size:.1f} {unit}"
    return str(value)
