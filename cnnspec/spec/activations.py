"""Spec models of the element-wise activations, made from the table.

Room: spec; imports pydantic and the spec's layer base.

Each entry of :data:`cnnspec.spec.activation_table.ACTIVATIONS` becomes a
frozen pydantic model tagged ``kind`` (``LeakyReLU`` has ``kind: leaky_relu``
and a ``slope`` field) that joins the node union like any hand-written layer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from cnnspec.spec.activation_table import ACTIVATIONS, ActivationEntry
from cnnspec.spec.layers import Node


def _model(entry: ActivationEntry) -> type[Node]:
    annotations: dict[str, Any] = {"kind": Literal[entry.kind]}  # type: ignore[valid-type]
    namespace: dict[str, Any] = {"__module__": __name__, "__qualname__": entry.display,
                                 "__doc__": f"``{entry.formula}``.", "kind": entry.kind,
                                 "display": entry.display}
    for knob in entry.knobs:
        if knob.choices:
            annotations[knob.name] = Literal[knob.choices]  # type: ignore[valid-type]
        else:
            annotations[knob.name] = knob.kind
        bounds = {k: v for k, v in (("gt", knob.gt), ("ge", knob.ge)) if v is not None}
        namespace[knob.name] = Field(knob.default, description=knob.description, **bounds)
    namespace["__annotations__"] = annotations
    return type(entry.display, (Node,), namespace)


ACTIVATION_MODELS: tuple[type[Node], ...] = tuple(_model(entry) for entry in ACTIVATIONS)
"""One model per table entry, in table order."""

ACTIVATION_KINDS: frozenset[str] = frozenset(entry.kind for entry in ACTIVATIONS)
