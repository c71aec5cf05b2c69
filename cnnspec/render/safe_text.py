"""User text made safe for the places it is shown: terminal, rich markup, CSV, paths, plots.

Room: render; imports the standard library only (rich lazily, for its markup escape).

Names come from files (spec names, layer labels, class names of a data set, student
names and file names of a homework folder), so they may hold anything:

* :func:`printable` shows control characters (escape sequences, carriage returns,
  bidirectional overrides) as ``\\x1b``-style escapes, so printing a name cannot clear
  the screen, set the window title or reorder the line;
* :func:`styled` is user text as a rich ``Text`` (never parsed as markup), and
  :func:`markup` is :func:`printable` with rich's markup escaped, for text put inside
  a string rich will parse (``[/]Lee[group3]`` stays those characters);
* :func:`csv_cell` defuses spreadsheet formulas: a cell starting with ``= + - @``,
  TAB or CR gets a leading ``'`` (the usual CSV-injection rule);
* :func:`safe_filename` turns a name into one path component: no separator, no
  ``..``, no control characters;
* :func:`mathtext` escapes ``$`` so matplotlib draws a title as the characters given.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

# C0 controls except newline and tab, DEL, C1 controls, and the bidirectional
# embeddings/overrides/isolates that can make a line read differently than it is
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_ALL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FILENAME_MAX = 100
_UNSAFE_FILENAME = re.compile(r"[\\/:*?\"<>|\x00-\x1f\x7f-\x9f]+")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, keep_newlines: bool = True) -> str:
    """``str(text)`` with control characters shown as escapes: ``"a\\x1b[2Jb"`` -> ``a\\x1b[2Jb``.

    Newlines and tabs are kept unless ``keep_newlines`` is False (then a name stays on
    its line: ``"a\\nb"`` -> ``a\\x0ab``).
    """
    pattern = _CONTROL if keep_newlines else _CONTROL_ALL
    return pattern.sub(_escape, str(text))


def one_line(text: object) -> str:
    """:func:`printable` for a name that must stay on its line: ``"a\\nb"`` -> ``a\\x0ab``."""
    return printable(text, keep_newlines=False)


def markdown_cell(text: object) -> str:
    """Text for markdown (a table cell too): one line, pipes escaped, no raw HTML tag
    (``<`` and ``&`` escaped; ``->`` stays as written)."""
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")


def html_text(text: object) -> str:
    """Text for HTML: control characters shown, ``< > &`` and quotes escaped."""
    return html.escape(printable(text), quote=True)


def markup(text: object) -> str:
    """User text to put inside rich markup: printable, with its tags escaped (one line).

    ``[/]Lee[group3]`` and ``Lee [group 3]`` print as written. rich's escaping cannot
    keep a backslash that stands right before a bracket; where that matters, print a
    :func:`styled` Text instead (exact by construction).
    """
    from rich.markup import escape

    return escape(one_line(text))


def styled(text: object, style: str = "") -> Any:
    """User text as a rich ``Text`` (never parsed as markup), control characters escaped."""
    from rich.text import Text

    return Text(one_line(text), style=style)


def csv_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text: ``"=cmd|' /C calc'!A0"`` -> ``"'=cmd|..."``.

    Numbers are returned as they are (``-3`` stays a number); strings starting with
    ``= + - @``, TAB or CR get a leading ``'``.
    """
    if isinstance(value, str) and value.startswith(CSV_TRIGGERS):
        return "'" + value
    return value


def csv_row(values: Iterable[object]) -> list[object]:
    """Every cell of a CSV row through :func:`csv_cell` (for ``csv.writer.writerow``)."""
    return [csv_cell(value) for value in values]


class _CsvWriter:
    """``csv.writer`` whose every cell goes through :func:`csv_cell`."""

    def __init__(self, stream: Any, fields: list[str] | None):
        import csv

        self._writer = csv.writer(stream, lineterminator="\n")
        self._fields = fields

    def writerow(self, row: Iterable[object] | dict[str, object]) -> None:
        if isinstance(row, dict):
            row = [row.get(field, "") for field in self._fields or row]
        self._writer.writerow(csv_row(row))

    def writerows(self, rows: Iterable[Iterable[object] | dict[str, object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: Any, fields: list[str] | None = None) -> _CsvWriter:
    """The one CSV writer of cnnspec: rows (lists, or dicts in ``fields`` order) with every
    cell defused by :func:`csv_cell`, ``\\n`` line ends. Every CSV the project writes uses
    it, so a name from a file never reaches a spreadsheet as a formula."""
    return _CsvWriter(stream, fields)


def safe_filename(name: str, default: str = "network") -> str:
    """``name`` as one path component: ``"../../escaped"`` -> ``"escaped"``.

    Separators and characters Windows refuses become ``_``, control characters go,
    leading dots and spaces are stripped (no ``..``, no hidden file), and the result is
    at most :data:`FILENAME_MAX` characters; an empty result gives ``default``.
    """
    text = unicodedata.normalize("NFC", str(name))
    text = _UNSAFE_FILENAME.sub("_", text)
    text = text.strip(" ._")
    text = re.sub(r"\.{2,}", ".", text)  # no ".." anywhere
    return text[:FILENAME_MAX].rstrip(" .") or default


def mathtext(text: object) -> str:
    """Text for a matplotlib title or label: ``$x$`` drawn as dollars, not as math."""
    return one_line(text).replace("$", r"\$")


def safe_console(**options: object) -> object:
    """A rich ``Console`` that shows control characters in everything it prints as escapes.

    Strings are escaped before rich lays them out (so widths stay right); the segments
    of any other renderable (``Text`` built from user text) are escaped on the way out.
    rich's own styling is not text, so colours and bold still work. Markup is still
    parsed: put user text inside markup only through :func:`markup`.
    """
    from rich.console import Console
    from rich.segment import Segment

    class SafeConsole(Console):
        def render_str(self, text: str, **kwargs: object):  # type: ignore[override]
            return super().render_str(printable(text), **kwargs)

        def render(self, renderable, options=None):  # type: ignore[override]
            for segment in super().render(renderable, options):
                if segment.control or not _CONTROL.search(segment.text):
                    yield segment
                else:
                    yield Segment(printable(segment.text), segment.style, segment.control)

    return SafeConsole(**options)
