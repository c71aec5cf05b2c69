"""Where things came from: positions in the user's text.

Room: spec.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from cnnspec.errors import Location

EXCERPT = 60  # characters shown on each side of a problem in a long line


@dataclass(frozen=True)
class TextMap:
    """Turns offsets in a piece of text into :class:`Location` values.

    ``base_line``/``base_column`` place the text inside a larger file (a string
    inside a YAML document); for a string typed on the command line they are 1.
    """

    text: str
    source: str = "<string>"
    base_line: int = 1
    base_column: int = 1

    @cached_property
    def line_starts(self) -> list[int]:
        """Offsets where each line of ``text`` begins (computed once)."""
        return [0] + [i + 1 for i, ch in enumerate(self.text) if ch == "\n"]

    def loc(self, start: int, end: int | None = None) -> Location:
        """The location of ``text[start:end]``."""
        start = max(0, min(start, len(self.text)))
        end = start + 1 if end is None else max(end, start + 1)
        line_index = bisect_right(self.line_starts, start) - 1
        line_start = self.line_starts[line_index]
        line_end = (self.line_starts[line_index + 1] - 1
                    if line_index + 1 < len(self.line_starts) else len(self.text))
        column = start - line_start + 1 + (self.base_column - 1 if line_index == 0 else 0)
        length = max(1, min(end, line_end) - start)
        text: str | None = None
        caret_column: int | None = None
        if self.source == "<string>":
            # long lines are shown as an excerpt around the problem, caret placed within it
            first = max(line_start, start - EXCERPT)
            last = min(line_end, max(end, start + 1) + EXCERPT)
            prefix = "..." if first > line_start else ""
            text = prefix + self.text[first:last] + ("..." if last < line_end else "")
            caret_column = start - first + 1 + len(prefix)
            length = min(length, EXCERPT)
        return Location(
            source=self.source,
            line=self.base_line + line_index,
            column=column,
            length=length,
            text=text,
            caret_column=caret_column,
        )


class Span(NamedTuple):
    """A stretch of a :class:`TextMap`, turned into a :class:`Location` only when needed.

    A tuple: a long string makes several per layer, and most are never shown.
    """

    where: TextMap
    start: int
    end: int

    def location(self) -> Location:
        """The :class:`Location` of this span."""
        return self.where.loc(self.start, self.end)


def resolve(place: Location | Span | ShiftedRef) -> Location:
    """A :class:`Location` from any kind of place."""
    return place.location() if isinstance(place, (Span, ShiftedRef)) else place


@dataclass(eq=False, slots=True)
class SourceRef:
    """A node's place and the places of its arguments (by field name)."""

    place: Location | Span
    args: dict[str, Location | Span] = field(default_factory=dict)

    @property
    def loc(self) -> Location:
        """Where the node was written."""
        return resolve(self.place)

    def arg(self, name: str) -> Location:
        """The location of argument ``name``, or the node's own when it was not written."""
        return resolve(self.args.get(name, self.place))


class ShiftedRef:
    """The places of another copy of a text already read: ``first``'s places moved by
    ``shift`` characters.

    A long string repeats a few layers many times; one of these (two fields) per copy
    instead of a :class:`SourceRef` with a dictionary of spans keeps such a spec small.
    """

    __slots__ = ("first", "shift")

    def __init__(self, first: SourceRef, shift: int):
        self.first = first
        self.shift = shift

    def _moved(self, place: Location | Span) -> Location | Span:
        if isinstance(place, Span):
            return Span(place.where, place.start + self.shift, place.end + self.shift)
        return place

    @property
    def place(self) -> Location | Span:
        """Where the copy was written (unresolved)."""
        return self._moved(self.first.place)

    @property
    def args(self) -> dict[str, Location | Span]:
        """The places of the copy's arguments, by field name (unresolved)."""
        return {name: self._moved(place) for name, place in self.first.args.items()}

    @property
    def loc(self) -> Location:
        """Where the copy was written."""
        return resolve(self.place)

    def location(self) -> Location:
        """Where the copy was written (as :meth:`Span.location`)."""
        return self.loc

    def arg(self, name: str) -> Location:
        """The location of argument ``name``, or the copy's own when it was not written."""
        return resolve(self._moved(self.first.args.get(name, self.first.place)))


AnyRef = (SourceRef, ShiftedRef)
"""The node place types, for ``isinstance``."""


def owned(node: dict) -> SourceRef:
    """``node``'s :class:`SourceRef`, made its own first when it is a moved copy (to add to)."""
    ref = node["source"]
    if isinstance(ref, ShiftedRef):
        ref = node["source"] = SourceRef(ref.place, ref.args)
    return ref
