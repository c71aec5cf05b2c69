"""Plain records of an analysis: one per row, the totals, the notes.

Room: analysis. These are the contract: renderers, the homework tools, the
engine and export read them; none of them recomputes a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from cnnspec.spec.budget import collector_paused

Shape = tuple[int, ...]  # (H, W, C) for a volume, (N,) for a vector

OPTIMIZER_SLOTS: dict[str, int] = {
    "sgd": 0,
    "momentum": 1,
    "nesterov": 1,
    "adagrad": 1,
    "rmsprop": 1,
    "adadelta": 2,
    "adam": 2,
}


def shape_text(shape: Shape | None) -> str:
    """``(55, 55, 96)`` -> ``55x55x96``; ``(4096,)`` -> ``4096``."""
    if not shape:
        return ""
    return "x".join(str(d) for d in shape)


def pair_text(pair: tuple[int, int]) -> str:
    """``(3, 3)`` -> ``3``; ``(5, 3)`` -> ``5x3``: a height and width written once when equal."""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def listed(names: list[str], shown: int = 6) -> str:
    """``a, b, c``; past ``shown`` names, the first ``shown`` and how many more."""
    more = f" and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


@dataclass(frozen=True)
class Note:
    """Something the reader should know about a row (``layer``), or the whole network (None)."""

    layer: str | None
    message: str
    kind: str = "info"  # rounding | convention | claim | shape | design | info

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"layer": self.layer, "message": self.message, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class LayerRecord:
    """One row of the analysis: a layer, or a block summing its children.

    Slotted: a 100,000-layer report keeps one per row, and a per-instance
    dictionary of 22 fields took five times the memory of the slots.
    """

    index: int
    path: str
    depth: int
    name: str
    kind: str
    type: str
    hyper: str
    input: Shape
    output: Shape
    nodes: int
    weights: int
    biases: int
    params: int
    trainable: int
    non_trainable: int
    macs: int
    rf_size: tuple[int, int]
    rf_jump: tuple[int, int]
    activation_bytes: int
    is_block: bool = False
    main: bool = True
    formulas: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the contract of ``--format json``), field by field.

        Written out rather than ``dataclasses.asdict``, which deep-copies every
        value and took most of the time of a 10,000-layer analysis.
        """
        return {
            "index": self.index, "path": self.path, "depth": self.depth, "name": self.name,
            "kind": self.kind, "type": self.type, "hyper": self.hyper,
            "input": list(self.input), "output": list(self.output), "nodes": self.nodes,
            "weights": self.weights, "biases": self.biases, "params": self.params,
            "trainable": self.trainable, "non_trainable": self.non_trainable,
            "macs": self.macs, "activation_bytes": self.activation_bytes,
            "is_block": self.is_block, "main": self.main, "formulas": dict(self.formulas),
            "receptive_field": {"size": list(self.rf_size), "jump": list(self.rf_jump)},
        }


@dataclass(frozen=True)
class Totals:
    """Sums over the leaf rows of the main network (auxiliary heads apart)."""

    params: int
    trainable_params: int
    non_trainable_params: int
    weights: int
    biases: int
    nodes: int
    input_nodes: int
    param_bytes: int
    activation_bytes: int
    batch: int
    activation_bytes_batch: int
    macs: int
    flops: int
    layers: int
    optimizer: str
    training_bytes: int
    training_breakdown: dict[str, int]
    aux_params: int = 0
    aux_macs: int = 0
    aux_included: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON form: every field, the breakdown copied."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["training_breakdown"] = dict(self.training_breakdown)
        return data


@dataclass(frozen=True)
class Report:
    """The whole analysis of one network."""

    name: str
    input: Shape
    conventions: dict[str, Any]
    conventions_text: str
    layers: list[LayerRecord]
    totals: Totals
    notes: list[Note]
    bytes_per_value: int

    def to_dict(self, rows: bool = True) -> dict[str, Any]:
        """The JSON contract: ``{name, input, conventions, layers, totals, notes}``.

        ``rows=False`` leaves ``layers`` empty, for a writer that turns the rows
        into text one at a time (a dictionary per row of a long network is large).
        """
        with collector_paused():  # one dict per row: no full collections in between
            return {
                "name": self.name,
                "input": list(self.input),
                "conventions": self.conventions,
                "layers": [r.to_dict() for r in self.layers] if rows else [],
                "totals": self.totals.to_dict(),
                "notes": [n.to_dict() for n in self.notes],
            }

    def leaves(self, main_only: bool = True) -> list[LayerRecord]:
        """Rows that are layers, not blocks (the rows totals are summed over)."""
        return [r for r in self.layers if not r.is_block and (r.main or not main_only)]

    def row(self, name: str) -> LayerRecord:
        """The row called ``name`` (raises ``KeyError``)."""
        for record in self.layers:
            if record.name == name:
                return record
        raise KeyError(name)
