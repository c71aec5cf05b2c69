"""Tokens of the string notation: names, numbers, sizes like ``5x5``, arrows, brackets.

Room: spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cnnspec.errors import SpecError
from cnnspec.spec.source import TextMap

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


@dataclass(frozen=True)
class Token:
    """One token: its kind, text and offsets in the string."""

    kind: str
    text: str
    start: int
    end: int


def tokenize(text: str, where: TextMap) -> list[Token]:
    """Split ``text`` into tokens, or raise :class:`SpecError` at the first bad character."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise SpecError(
                f"unexpected character {text[pos]!r} in the network string",
                where.loc(pos),
                "layers are names like Conv, Pool, FC joined by '-'",
            )
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(), match.start(), match.end()))
        pos = match.end()
    return tokens


_CLOSER = {"[": "]", "(": ")"}
_OPENER = {"]": "[", ")": "("}
_FIX = {"[": "add ']' after the group's last layer, e.g. [Conv-ReLU] x 2",
        "(": "add ')' after the last argument, e.g. Conv(3x3, 16, p=1)"}


def check_brackets(tokens: list[Token], where: TextMap) -> None:
    """Raise :class:`SpecError` at the bracket that is never closed, or the stray closer.

    Run before parsing, so that a missing ``]`` or ``)`` is named at its opening
    bracket rather than at whatever token the parser meets next.
    """
    stack: list[Token] = []
    owner: dict[int, str] = {}  # opening offset -> the layer name written before it
    previous: Token | None = None
    for token in tokens:
        if token.text == "(" and previous is not None and previous.kind == "name":
            owner[token.start] = previous.text
        if token.kind != "ws":
            previous = token
        if token.text in _CLOSER:
            stack.append(token)
        elif token.text in _OPENER:
            if stack and stack[-1].text == _OPENER[token.text]:
                stack.pop()
                continue
            if stack:
                raise _never_closed(stack[-1], where, token, owner)
            kind = "brackets" if token.text == "]" else "parentheses"
            raise SpecError(
                f"unbalanced {kind}: this {token.text!r} has no matching "
                f"{_OPENER[token.text]!r}",
                where.loc(token.start, token.end),
                f"add {_OPENER[token.text]!r} before it, or remove the {token.text!r}",
            )
    if stack:
        raise _never_closed(stack[-1], where, None, owner)


def _never_closed(opening: Token, where: TextMap, found: Token | None,
                  owner: dict[int, str]) -> SpecError:
    """The error for an ``opening`` bracket whose closer is missing."""
    kind = "brackets" if opening.text == "[" else "parentheses"
    of = f" of {owner[opening.start]}" if opening.start in owner else ""
    seen = ("" if found is None else
            f" before the {found.text!r} at column {where.loc(found.start).column}")
    return SpecError(
        f"unbalanced {kind}: this {opening.text!r}{of} is never closed{seen}",
        where.loc(opening.start, opening.end),
        _FIX[opening.text],
    )


def shape_of(text: str) -> tuple[int, ...]:
    """``"224 x 224 x 3"`` -> ``(224, 224, 3)``."""
    return tuple(int(p) for p in re.split(r"\s*[x×X]\s*", text.strip()))
