"""Tokens of the string notation: names, numbers, sizes like ``5x5``, arrows, brackets.

Room: spec.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cnnspec.errors import Location, SpecError
from cnnspec.spec.budget import whole_number
from cnnspec.spec.source import Span, TextMap

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<arrow>->|=>|→)
  | (?P<ellipsis>\.\.\.|…)
  | (?P<shape>\d+(?:\s*[x×X]\s*\d+)+(?![\w.]))
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[\[\](),:@=*×\-+/])
    """,
    re.VERBOSE,
)


class Token(NamedTuple):
    """One token: its kind, text and offsets in the string (a tuple: long strings make many)."""

    kind: str
    text: str
    start: int
    end: int


def tokenize(text: str, where: TextMap) -> list[Token]:
    """Split ``text`` into tokens, or raise :class:`SpecError` at the first bad character."""
    tokens: list[Token] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() != pos:  # finditer skipped a character no token matches
            break
        pos = match.end()
        tokens.append(Token(match.lastgroup or "", match.group(), match.start(), pos))
    if pos < len(text):
        raise SpecError(
            f"unexpected character {text[pos]!r} in the network string",
            where.loc(pos),
            "layers are names like Conv, Pool, FC joined by '-'",
        )
    return tokens


def shape_of(text: str, where: Location | Span | None = None) -> tuple[int, ...]:
    """``"224 x 224 x 3"`` -> ``(224, 224, 3)``; a number too long to be a size is refused."""
    return tuple(whole_number(p, where) for p in re.split(r"\s*[x×X]\s*", text.strip()))
