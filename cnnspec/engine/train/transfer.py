"""Transfer learning (SEEDS.md 5.2.6): reuse trained layers, freeze them, train a new head.

Room: engine (``cnnspec/engine/train``); imports NumPy, the engine and :mod:`cnnspec.errors`.

Layers are matched **by name** (the analysis row name, e.g. ``Conv:1``, or the label the
spec gives). A layer of the new model is *loaded* when the checkpoint holds every one of
its arrays with the same shapes; otherwise it is *new* and keeps its fresh initialisation
(the report says why: absent from the checkpoint, or a shape that differs).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnspec.errors import TrainingError


@dataclass(frozen=True)
class TransferReport:
    """Which layers were loaded from ``source``, which are frozen, which are new."""

    source: str | None = None
    loaded: tuple[str, ...] = ()
    frozen: tuple[str, ...] = ()
    new: tuple[str, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)  # new layer -> why it is new

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {"source": self.source, "loaded": list(self.loaded), "frozen": list(self.frozen),
                "new": list(self.new), "reasons": dict(self.reasons)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransferReport:
        """The inverse of :meth:`to_dict`."""
        return cls(data.get("source"), tuple(data.get("loaded", ())),
                   tuple(data.get("frozen", ())), tuple(data.get("new", ())),
                   dict(data.get("reasons", {})))


def weighted_layers(model: Any) -> list[Any]:
    """The model's leaf layers that hold parameters, in forward order."""
    return [layer for layer in model.layers if layer.params]


def _layer_arrays(layer: Any) -> dict[str, np.ndarray]:
    return {f"{layer.name}.{k}": v for k, v in {**layer.params, **layer.buffers}.items()}


def init_from(model: Any, state: dict[str, np.ndarray]) -> tuple[list[str], dict[str, str]]:
    """Copy every layer of ``state`` whose name and shapes match into ``model``.

    Returns ``(loaded layer names, {new layer: reason})``.
    """
    loaded: list[str] = []
    reasons: dict[str, str] = {}
    for layer in weighted_layers(model):
        own = _layer_arrays(layer)
        absent = [key for key in own if key not in state]
        if len(absent) == len(own):
            reasons[layer.name] = "not in the checkpoint"
            continue
        if absent:
            reasons[layer.name] = f"the checkpoint lacks {absent[0]}"
            continue
        differ = [key for key, value in own.items() if state[key].shape != value.shape]
        if differ:
            key = differ[0]
            reasons[layer.name] = (f"{key.rsplit('.', 1)[1]} is {_shape(own[key].shape)} here, "
                                   f"{_shape(state[key].shape)} in the checkpoint")
            continue
        for key, value in own.items():
            value[...] = state[key]
        loaded.append(layer.name)
    return loaded, reasons


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def select_layers(model: Any, selectors: Iterable[str]) -> list[str]:
    """Names of the weighted layers picked by ``selectors``, in forward order.

    A selector is a layer kind (``conv``, ``fc``, ``batchnorm``, ``subsample``: every
    weighted layer of that kind) or a layer name (``Conv:1``, case-insensitive).
    Anything else is a TrainingError suggesting the closest name.
    """
    layers = weighted_layers(model)
    by_name = {layer.name.lower(): layer.name for layer in layers}
    all_names = {layer.name.lower(): layer.name for layer in model.layers}
    kinds = {layer.record.kind for layer in layers}
    chosen: set[str] = set()
    for raw in selectors:
        text = raw.strip()
        key = text.lower()
        if not key:
            continue
        if key in kinds:
            chosen.update(layer.name for layer in layers if layer.record.kind == key)
        elif key in by_name:
            chosen.add(by_name[key])
        elif key in all_names:
            raise TrainingError(f"--freeze {text}: layer {all_names[key]} has no weights to "
                                "freeze", hint=f"weighted layers: {_listing(layers)}")
        else:
            options = [layer.name for layer in layers] + sorted(kinds)
            close = difflib.get_close_matches(text, options, n=1, cutoff=0.5) or \
                difflib.get_close_matches(key, [o.lower() for o in options], n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise TrainingError(f"--freeze {text}: no such layer in {model.network.name}",
                                hint=f"{hint}use a layer kind ({', '.join(sorted(kinds))}) or "
                                     f"names: {_listing(layers)}")
    return [layer.name for layer in layers if layer.name in chosen]


def _listing(layers: list[Any]) -> str:
    return ", ".join(layer.name for layer in layers)


def frozen_parameters(model: Any, layer_names: Iterable[str]) -> set[str]:
    """Global parameter names (``Conv:1.weight``) of the named layers."""
    names = set(layer_names)
    return {f"{layer.name}.{k}" for layer in weighted_layers(model) if layer.name in names
            for k in layer.params}


def frozen_buffers(model: Any, layer_names: Iterable[str]) -> dict[str, np.ndarray]:
    """The named layers' buffers (batch-norm statistics) themselves, by global name."""
    names = set(layer_names)
    return {f"{layer.name}.{k}": v for layer in model.layers if layer.name in names
            for k, v in layer.buffers.items()}
