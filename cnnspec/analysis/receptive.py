"""Receptive fields: how much of the input one output value sees.

Room: analysis; pure integers.
"""

from __future__ import annotations

from typing import NamedTuple


class Field(NamedTuple):
    """Receptive field along one axis: ``size`` input pixels, ``jump`` between neighbours."""

    size: int
    jump: int


def next_field(prev: Field, f: int, s: int, d: int = 1) -> Field:
    """The field after a window of size F, stride S, dilation D.

    ``r_out = r_in + (D(F-1)) * j_in`` and ``j_out = j_in * S`` (padding moves the
    field's start, never its size).
    """
    return Field(prev.size + d * (f - 1) * prev.jump, prev.jump * s)


def whole_input_field(prev: Field, n: int) -> Field:
    """A layer that sees its whole ``n``-wide input (global pooling, FC): ``F = n``."""
    return next_field(prev, n, 1)
