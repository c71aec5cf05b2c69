"""Names from untrusted files made safe for where they are shown: CSV cells, the
terminal, markdown and HTML.

Room: consumers (homework); imports nothing from the project.

A student's name, a file name or a note in an answer file is data. It must not
become a spreadsheet formula (the CSV-injection rule: a cell starting with
``= + - @``, TAB or CR gets a leading ``'``), must not move the cursor or retitle
the terminal (control characters are shown as ``\\x1b``-style escapes), and must
not be read as rich markup (renderers print it with ``markup=False`` or as
``rich.text.Text``).
"""

from __future__ import annotations

import html

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """``=1+2`` -> ``'=1+2``: text that a spreadsheet would run as a formula, made inert.

    Numbers pass unchanged (a negative count is still a number); text starting with
    ``= + - @``, TAB or CR gets a leading apostrophe, which spreadsheets show as text.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: list[object]) -> list[object]:
    """:func:`csv_cell` applied to every cell of a row."""
    return [csv_cell(v) for v in values]


def visible(text: str) -> str:
    """Control characters shown as escapes: ``ESC[2J`` -> ``\\x1b[2J``, a newline -> ``\\n``.

    Printable text (any script) is unchanged; C0, DEL and C1 controls become
    ``\\xNN`` (``\\n``, ``\\r``, ``\\t`` keep their short names).
    """
    out = []
    for ch in str(text):
        code = ord(ch)
        if ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif ch in "\u2028\u2029\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
            out.append(f"\\u{code:04x}")  # line separators and bidirectional overrides
        else:
            out.append(ch)
    return "".join(out)


def visible_lines(text: str) -> str:
    """:func:`visible` line by line: newlines stay, every other control character shows."""
    return "\n".join(visible(line) for line in str(text).split("\n"))


def markdown_cell(text: str) -> str:
    """Text for markdown (a table cell too): visible, pipes escaped, no raw HTML tag
    (``<`` and ``&`` escaped; ``->`` stays as written)."""
    return visible(text).replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")


def html_text(text: object) -> str:
    """Text for HTML: visible and escaped (``<`` ``>`` ``&`` and quotes)."""
    return html.escape(visible(str(text)), quote=True)


def safe_file_stem(text: str, fallback: str = "student") -> str:
    """A file name made of ``text``: no separator, no ``..``, no control character.

    ``../../x`` -> ``x``; ``Kim / A`` -> ``Kim_A``; an empty result is ``fallback``.
    """
    kept = []
    for ch in str(text):
        if ch.isalnum() or ch in "-_.":
            kept.append(ch)
        elif kept and kept[-1] != "_":
            kept.append("_")
    stem = "".join(kept).strip("._")
    while ".." in stem:
        stem = stem.replace("..", ".")
    return stem[:80] or fallback
