"""Layer texts read once: a long string repeats a few layers many times.

Room: spec; imports the spec's places and tokens only.

The parser reads the first copy of a plain layer text (``Conv(3x3,4,p=1)``) as
usual and keeps a :class:`Reading`; every later copy is that node again with a
:class:`ShiftedRef` (the first copy's places moved to the copy), so a 1 MB
string of 100,000 layers is tokenised and checked once per distinct layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cnnspec.spec.source import ShiftedRef, SourceRef, Span
from cnnspec.spec.tokens import Token

PLAIN_LAYER = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*(?:\([^()\[\]:@]*\))?(?!\s*\()(?=[\s\-\]→=]|$)")
"""A layer whose meaning is its text alone: a name, arguments without brackets, then a
separator or the end (not a label, not ``(SM)`` after a space, which the parser decides)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """How a plain layer's text was read once."""

    node: dict[str, Any]  # the node dict without its places
    first: SourceRef  # the places of the first copy, which the later ones are moved from
    tokens: int  # how many tokens the layer is
    last: Token  # its last token, in the first copy


def remember(node: dict[str, Any], start: int, end: int, tokens: int,
             last: Token) -> Reading | None:
    """How to rebuild ``node``, read from ``text[start:end]``, at another copy of the text.

    ``None`` when its places are not all spans of that text (then every copy is read).
    """
    ref = node.get("source")
    if (not isinstance(ref, SourceRef) or not isinstance(ref.place, Span)
            or ref.place.start != start or ref.place.end != end or last.end != end
            or not all(isinstance(p, Span) for p in ref.args.values())):
        return None
    plain = {key: value for key, value in node.items() if key != "source"}
    return Reading(plain, SourceRef(ref.place, dict(ref.args)), tokens, last)


def copy_at(reading: Reading, start: int) -> tuple[dict[str, Any], Token]:
    """The node of the copy of ``reading``'s text at offset ``start``, and its last token."""
    ref = ShiftedRef(reading.first, start - reading.first.place.start)  # type: ignore[union-attr]
    node = dict(reading.node)
    node["source"] = ref
    last = reading.last
    return node, Token(last.kind, last.text, last.start + ref.shift, last.end + ref.shift)
