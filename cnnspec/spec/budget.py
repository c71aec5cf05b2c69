"""The limits of one spec, and the budget that enforces them while the tree is built.

Room: spec; imports ``cnnspec.errors`` and ``cnnspec.spec.source`` only.

Every way a short text can stand for many layers — a group's repeat count,
``[...]``, a block called many times, a YAML alias used again — charges the
same :class:`Budget` as its nodes are made, so a spec that would expand past
:data:`MAX_LAYERS` stops at the place that crossed the limit before any list
beyond the limit exists. Nesting (groups, containers, block calls) is bounded
the same way, so a deep text ends in a located error, never a ``RecursionError``.
"""

from __future__ import annotations

import gc
import math
import reprlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cnnspec.errors import Location, SpecError
from cnnspec.spec.source import ShiftedRef, Span, resolve

MAX_LAYERS = 100_000
"""Layers one spec may expand to, repeats counted: ``[[ReLU] x 1000] x 100`` is the most."""
MAX_DEPTH = 50
"""Groups, containers and block calls nested in one another (the zoo needs 5)."""
MAX_YAML_DEPTH = 100
"""Mappings and lists nested in a YAML document."""
MAX_CALLS = 20_000
"""Block calls one spec may expand (a guard against blocks that double at each level)."""
MAX_SIZE = 1_000_000_000
"""Largest size or count a layer, a repeat or the input may have (the widest real layers
have about a million units)."""
MAX_NUMBER = 10**18
"""Largest whole number written anywhere in a spec (claimed totals included)."""

EXPANDED_ROWS = {"transition": 4, "dual_path": 13}
"""Layers a fixed composition stands for (DenseNet's transition, DPN's dual-path block)."""

Place = Location | Span | ShiftedRef | None


def place(where: Place) -> Location | None:
    """A :class:`Location` from a lazily resolved place."""
    return None if where is None else resolve(where)


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 2, 4, 4, 60, 60
_SHORT.maxlong = 40


def shown(value: Any) -> str:
    """``repr(value)`` cut short: a value from a file may be huge (aliases share lists)."""
    return _SHORT.repr(value)


def too_large(text: str, where: Place) -> SpecError:
    """The error for a written whole number beyond :data:`MAX_NUMBER`."""
    digits = text.lstrip("+-")
    shown = digits if len(digits) <= 24 else f"{digits[:12]}...{digits[-4:]}"
    return SpecError(f"the number {shown} ({len(digits):,} digits) is too large: whole numbers "
                     f"in a spec are at most 10^18", place(where),
                     f"sizes and counts are at most {MAX_SIZE:,}; check for a typo")


def whole_number(text: str, where: Place) -> int:
    """``int(text)`` for a written number, refusing more digits than any network needs."""
    if len(text) < 19:
        return int(text)
    if len(text.lstrip("+-")) > 19 or abs(int(text)) > MAX_NUMBER:
        raise too_large(text, where)
    return int(text)


def as_count(value: Any, where: Place) -> int | None:
    """The whole number validation will make of ``value`` (``2.0``, ``"3"``), or ``None``.

    A repeat count is charged before validation, so it is read as leniently as
    the validation reads it: a count written ``1e9`` or ``"1000000000"`` is as large.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if text.lstrip("+-").isdigit():
            return whole_number(text, where)
    return None


@dataclass
class Budget:
    """What one load has expanded so far: layers (repeats counted), nesting, block calls.

    ``done`` remembers block expansions: a block called again with the same
    arguments copies its first expansion (and is charged the same layers again).
    """

    layers: int = 0
    depth: int = 0
    calls: int = 0
    done: dict[Any, tuple[dict[str, Any], int]] = field(default_factory=dict)

    def add(self, count: int, where: Place) -> None:
        """Charge ``count`` layers made at ``where``; refuse past :data:`MAX_LAYERS`."""
        self.layers += count
        if self.layers > MAX_LAYERS:
            raise SpecError(
                f"the network expands to at least {self.layers:,} layers, more than the limit "
                f"of {MAX_LAYERS:,}", place(where),
                "lower the repeat counts, or split the network into specs of its parts")

    def leaf(self, kind: str, where: Place) -> None:
        """Charge one layer node of ``kind`` (a fixed composition counts its layers)."""
        self.add(EXPANDED_ROWS.get(kind, 1), where)

    def repeated(self, size: int, count: Any, where: Place) -> None:
        """Charge the copies a repeat count makes of ``size`` layers already charged once."""
        count = as_count(count, where)
        if count is not None and count > 1:
            self.add(size * (count - 1), where)

    @contextmanager
    def nested(self, where: Place) -> Iterator[None]:
        """One more level of nesting inside the ``with`` block, refused past :data:`MAX_DEPTH`."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise SpecError(
                    f"groups and blocks are nested more than {MAX_DEPTH} deep here",
                    place(where),
                    "write the layers one after another, or repeat one group with [ ... ] x N")
            yield
        finally:
            self.depth -= 1

    def call(self, where: Place) -> None:
        """Count one block call; refuse past :data:`MAX_CALLS`."""
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise SpecError(f"the blocks expand to more than {MAX_CALLS:,} calls", place(where),
                            "repeat a block with [block(...)] x N rather than nesting calls")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the ``with`` block.

    Reading a long spec makes hundreds of thousands of small acyclic objects;
    each allocation burst triggers full collections that walk all of them again,
    which tripled the time of a 100,000-layer load. Reference counting still frees
    everything; the collector resumes (if it was on) when the block ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
