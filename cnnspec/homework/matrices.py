"""Reading small matrices for convolution and pooling by hand.

Room: consumers (homework); imports ``cnnspec.errors`` only (no NumPy: the
values stay as Python floats so the steps can be written out).

Three ways to give a matrix:

* a text file, numbers separated by spaces and/or commas, one row per line;
* a CSV file (the same, with commas);
* inline: ``"1 1 1 0 0; 0 1 1 1 0; 0 0 1 1 1"`` (``;`` ends a row).

A colour image (or a kernel for one) is one matrix per channel: in a file the
channels are separated by a blank line, inline by ``|``. Lines starting with
``#`` are comments (``# R``, ``# G`` may name the channels).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from cnnspec.errors import DataError, Location

MAX_SIDE = 64
_INLINE = re.compile(r"^[\s\d.eE+\-,;|]+$")
_SPLIT = re.compile(r"[\s,]+")

Matrix = list[list[float]]


@dataclass(frozen=True)
class Channels:
    """A stack of equally sized matrices, one per channel (C x H x W).

    ``names`` are the channel names from ``# R`` comments (or ``1, 2, ...``);
    ``row_locs[c][i]`` is where row ``i`` of channel ``c`` was written.
    """

    source: str
    data: list[Matrix]
    names: list[str]
    row_locs: list[list[Location]]

    @property
    def depth(self) -> int:
        """C, the number of channels."""
        return len(self.data)

    @property
    def height(self) -> int:
        """H."""
        return len(self.data[0])

    @property
    def width(self) -> int:
        """W."""
        return len(self.data[0][0])

    def cell_loc(self, channel: int, row: int, column: int) -> Location:
        """Where the value at ``(channel, row, column)`` (0-based) was written."""
        loc = self.row_locs[channel][row]
        if loc.text is None or loc.column is None:
            return loc
        start = loc.column - 1
        segment = loc.text[start:start + loc.length]
        position = 0
        for j, token in enumerate(t for t in _SPLIT.split(segment) if t):
            position = segment.index(token, position)
            if j == column:
                return Location(loc.source, loc.line, loc.column + position, len(token), loc.text)
            position += len(token)
        return loc

    def find_negative(self) -> tuple[int, int, int] | None:
        """``(channel, row, column)`` of the first negative value (0-based), or ``None``."""
        for c, matrix in enumerate(self.data):
            for i, row in enumerate(matrix):
                for j, value in enumerate(row):
                    if value < 0:
                        return c, i, j
        return None


def looks_inline(text: str) -> bool:
    """True when ``text`` is written-out numbers rather than a file name."""
    return bool(_INLINE.match(text)) and any(ch.isdigit() for ch in text)


def read_matrix(text: str, what: str = "matrix") -> Channels:
    """The matrices named by ``text``: a path to a text/CSV file, or inline numbers."""
    if looks_inline(text) or any(mark in text for mark in ";|"):
        return parse_inline(text, what)
    path = Path(text).expanduser()
    try:
        is_file = path.is_file()
    except OSError:  # a name too long for the file system: numbers typed inline
        is_file = False
    if is_file:
        return parse_file(path, what)
    if " " in text.strip() and not path.suffix:
        return parse_inline(text, what)
    if path.is_dir():
        raise DataError(f"{text} is a directory, not a {what} file", Location(text),
                        "give a text or CSV file with one matrix row per line")
    raise DataError(
        f"no such file: {text}", Location(text),
        f"give a text/CSV file, or write the {what} inline, e.g. \"1 0 1; 0 1 0; 1 0 1\"",
    )


def parse_file(path: Path, what: str = "matrix") -> Channels:
    """Read a text or CSV file: one row per line, a blank line between channels."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a text file", Location(source),
                        "save the matrix as plain text or CSV (UTF-8)") from None
    blocks: list[list[tuple[str, Location]]] = [[]]
    names: list[str | None] = [None]
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            label = stripped.lstrip("#").strip()
            if blocks[-1]:
                blocks.append([])
                names.append(None)
            if label and names[-1] is None:
                names[-1] = label
            continue
        if not stripped:
            if blocks[-1]:
                blocks.append([])
                names.append(None)
            continue
        blocks[-1].append((stripped, Location(source, number, 1, len(line), line)))
    pairs = [(b, n) for b, n in zip(blocks, names, strict=True) if b]
    if not pairs:
        raise DataError(f"{path} holds no numbers", Location(source),
                        f"write the {what} one row per line, e.g. `1 0 1`")
    return _build(source, [b for b, _ in pairs], [n for _, n in pairs], what)


def parse_inline(text: str, what: str = "matrix") -> Channels:
    """Read ``"1 0 1; 0 1 0 | 1 1 1; 0 0 0"``: ``;`` ends a row, ``|`` a channel."""
    source = "<inline>"
    blocks: list[list[tuple[str, Location]]] = []
    offset = 0
    for chunk in text.split("|"):
        rows: list[tuple[str, Location]] = []
        row_offset = offset
        for row in chunk.split(";"):
            if row.strip():
                start = row_offset + len(row) - len(row.lstrip())
                rows.append((row.strip(), Location(source, 1, start + 1, len(row.strip()),
                                                   text)))
            row_offset += len(row) + 1
        if rows:
            blocks.append(rows)
        offset += len(chunk) + 1
    if not blocks:
        raise DataError(f"the {what} {text!r} holds no numbers", Location(source),
                        "write rows separated by ';', e.g. \"1 0 1; 0 1 0; 1 0 1\"")
    return _build(source, blocks, [None] * len(blocks), what)


def _build(source: str, blocks: list[list[tuple[str, Location]]], names: list[str | None],
           what: str) -> Channels:
    data: list[Matrix] = []
    locs: list[list[Location]] = []
    for c, block in enumerate(blocks):
        matrix: Matrix = []
        for row_text, loc in block:
            matrix.append(_row(row_text, loc, what))
            width = len(matrix[0])
            if len(matrix[-1]) != width:
                channel = f" in channel {c + 1}" if len(blocks) > 1 else ""
                raise DataError(
                    f"row {len(matrix)}{channel} of the {what} has {len(matrix[-1])} numbers, "
                    f"but row 1 has {width}",
                    loc, "every row of a matrix needs the same number of values",
                )
        data.append(matrix)
        locs.append([loc for _, loc in block])
    first = (len(data[0]), len(data[0][0]))
    for c, matrix in enumerate(data[1:], start=2):
        if (len(matrix), len(matrix[0])) != first:
            raise DataError(
                f"channel {c} of the {what} is {len(matrix)}x{len(matrix[0])}, but channel 1 is "
                f"{first[0]}x{first[1]}",
                locs[c - 1][0], "every channel of an image has the same height and width",
            )
    if max(first) > MAX_SIDE:
        raise DataError(
            f"the {what} is {first[0]}x{first[1]}; working by hand is for matrices up to "
            f"{MAX_SIDE}x{MAX_SIDE}",
            Location(source), "use `cnnspec train` or the Python API for real images",
        )
    shown = [n or (str(i + 1) if len(data) > 1 else "") for i, n in enumerate(names)]
    return Channels(source, data, shown, locs)


def _row(text: str, loc: Location, what: str) -> list[float]:
    values: list[float] = []
    column = 1 + (loc.column - 1 if loc.source == "<inline>" and loc.column else 0)
    if loc.text is not None and loc.source != "<inline>":
        column = 1 + len(loc.text) - len(loc.text.lstrip())
    position = 0
    for token in _SPLIT.split(text):
        if not token:
            continue
        position = text.index(token, position)
        try:
            value = float(token)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            where = Location(loc.source, loc.line, column + position, len(token), loc.text)
            raise DataError(
                f"{token!r} in the {what} is not a number", where,
                "write numbers separated by spaces or commas",
            )
        values.append(value)
        position += len(token)
    return values
