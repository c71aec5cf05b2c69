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


class TokenStream:
    """The tokens of a string, read as the parser asks for them.

    Only a window around the parser's position is kept (``at(i)`` for the
    tokens from ``pos - KEEP`` on): a 1 MB string is 750,000 tokens, which as a
    list took more memory than everything else a load makes. Each token is one
    anchored match at the offset where the previous one ended, so the parser can
    also :meth:`jump` over text it has already read once. A character no token
    matches is refused when the reading reaches it.
    """

    KEEP = 64
    """Tokens kept behind the position (the parser looks back one, backtracks a few)."""
    BATCH = 64
    """The most tokens read at once."""

    def __init__(self, text: str, where: TextMap):
        self.text = text
        self.where = where
        self.window: list[Token] = []
        self.base = 0  # index of window[0]
        self.offset = 0  # where in the text the next token starts
        self.match = _TOKEN.match
        self.batch = 1

    def at(self, i: int) -> Token | None:
        """Token ``i`` (0-based), or ``None`` past the end."""
        j = i - self.base
        window = self.window
        while j >= len(window):
            if not self._read():
                return None
        return window[j]

    def _read(self) -> bool:
        """Append the next tokens to the window; ``False`` at the end of the text.

        Reads :attr:`batch` tokens at once, doubling up to :attr:`BATCH` while the parser
        reads on (a :meth:`jump` starts small again: the tokens after it are often not
        needed). A character no token matches ends the batch; it is refused only when
        it is the next token asked for.
        """
        text, match, offset = self.text, self.match, self.offset
        # tuple.__new__ makes the Token directly: its own __new__ is one more Python
        # call per token, and a 1 MB string has hundreds of thousands of them
        append, new = self.window.append, tuple.__new__
        for _ in range(self.batch):
            found = match(text, offset)
            if found is None:
                break
            end = found.end()
            append(new(Token, (found.lastgroup or "", found.group(), offset, end)))
            offset = end
        if offset == self.offset:
            if offset < len(text):  # a character no token matches
                raise SpecError(
                    f"unexpected character {text[offset]!r} in the network string",
                    self.where.loc(offset),
                    "layers are names like Conv, Pool, FC joined by '-'",
                )
            return False
        self.offset = offset
        self.batch = min(2 * self.batch, self.BATCH)
        return True

    def jump(self, index: int, last: Token) -> None:
        """Continue at token ``index``, the one after ``last`` (read before, at another place)."""
        self.window = [last]
        self.base = index - 1
        self.offset = last.end
        self.batch = 2  # a separator and the next layer's name

    def release(self, pos: int) -> None:
        """Forget the tokens more than :attr:`KEEP` before ``pos``."""
        drop = pos - self.KEEP - self.base
        if drop > 4 * self.KEEP:
            del self.window[:drop]
            self.base += drop


_CLOSER = {"[": "]", "(": ")"}
_OPENER = {"]": "[", ")": "("}
_FIX = {"[": "add ']' after the group's last layer, e.g. [Conv-ReLU] x 2",
        "(": "add ')' after the last argument, e.g. Conv(3x3, 16, p=1)"}


_BRACKET = re.compile(r"[\[\]()]")


def check_brackets(text: str, where: TextMap) -> None:
    """Raise :class:`SpecError` at the bracket that is never closed, or the stray closer.

    Run before parsing, so that a missing ``]`` or ``)`` is named at its opening
    bracket rather than at whatever token the parser meets next. Brackets are
    tokens of their own, so the balance is checked on the bracket characters
    alone; only an unbalanced string is read token by token, to word the error.
    """
    stack: list[str] = []
    push, pop = stack.append, stack.pop
    for bracket in _BRACKET.findall(text):
        if bracket in _CLOSER:
            push(bracket)
        elif not stack or pop() != _OPENER[bracket]:
            break
    else:
        if not stack:
            return
    _locate_unbalanced(text, where)


def _locate_unbalanced(text: str, where: TextMap) -> None:
    """The located error for a string whose brackets do not balance (one pass over tokens)."""
    stack: list[Token] = []
    owner: dict[int, str] = {}  # opening offset -> the layer name written before it
    previous: Token | None = None
    for match in _TOKEN.finditer(text):
        token = Token(match.lastgroup or "", match.group(), match.start(), match.end())
        if token.text == "(" and previous is not None and previous.kind == "name":
            owner[token.start] = previous.text
        if token.kind != "ws":
            previous = token
        if token.text in _CLOSER:
            stack.append(token)
        elif token.text in _OPENER:
            if stack and stack[-1].text == _OPENER[token.text]:
                owner.pop(stack.pop().start, None)  # only open brackets keep their name
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


def shape_of(text: str, where: Location | Span | None = None) -> tuple[int, ...]:
    """``"224 x 224 x 3"`` -> ``(224, 224, 3)``; a number too long to be a size is refused."""
    return tuple(whole_number(p, where) for p in re.split(r"\s*[x×X]\s*", text.strip()))
