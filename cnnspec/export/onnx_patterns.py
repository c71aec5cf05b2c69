"""Element-wise ONNX subgraphs that compute one of the table's activations, found by evaluation.

Room: consumers (export). Imports NumPy, the engine's element-wise functions (the
reference values) and the activation table.

ONNX has no operator for several activations, so exporters spell them out:
PyTorch's writes SiLU as ``Mul(x, Sigmoid(x))``, Mish as ``Mul(x, Tanh(Softplus(x)))``,
opset-13 Hardswish as ``Mul(x, HardSigmoid(x))``, GELU before opset 20 as
``Mul(Mul(x, Add(Erf(Div(x, 1.4142)), 1)), 0.5)`` and its tanh form in nine
operators. Other exporters order the same arithmetic differently. Rather than one
template per exporter and opset, :func:`find_activation` evaluates the element-wise
region that starts at a value ``x`` (the operators that read only ``x``, constants
and each other's outputs) on probe values, and compares each value the region
computes with every activation below; a value matches when it agrees to
``rtol 1e-4, atol 1e-5`` over ``x`` in [-8, 8]. The largest *closed* match wins: all
its operators' other outputs are used only inside it, so reading it as one layer
drops nothing another layer needs.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from cnnspec.engine.functional.elementwise import elementwise_forward, erf

PROBE = np.linspace(-8.0, 8.0, 161)
MAX_REGION = 12  # operators; GELU's tanh form, the longest, has 9

CANDIDATES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("silu", {}),
    ("gelu", {"approximate": "none"}),
    ("gelu", {"approximate": "tanh"}),
    ("mish", {}),
    ("hardswish", {}),
)
"""The multi-operator activations looked for, with their settings."""

def _hard_sigmoid(x: np.ndarray, attrs: dict[str, Any]) -> np.ndarray:
    return np.clip(float(attrs.get("alpha", 0.2)) * x + float(attrs.get("beta", 0.5)), 0.0, 1.0)


def _clip(x: np.ndarray, lo: Any = None, hi: Any = None) -> np.ndarray:
    return np.clip(x, -np.inf if lo is None else lo, np.inf if hi is None else hi)


# op -> f(inputs, attributes); every input already a NumPy value (or None when omitted)
OPS: dict[str, Callable[[list[Any], dict[str, Any]], np.ndarray]] = {
    "Add": lambda v, a: v[0] + v[1],
    "Sub": lambda v, a: v[0] - v[1],
    "Mul": lambda v, a: v[0] * v[1],
    "Div": lambda v, a: v[0] / v[1],
    "Pow": lambda v, a: np.power(v[0], v[1]),
    "Neg": lambda v, a: -v[0],
    "Abs": lambda v, a: np.abs(v[0]),
    "Sqrt": lambda v, a: np.sqrt(np.abs(v[0])),
    "Exp": lambda v, a: np.exp(np.minimum(v[0], 80.0)),
    "Log": lambda v, a: np.log(np.maximum(v[0], 1e-300)),
    "Reciprocal": lambda v, a: 1.0 / v[0],
    "Erf": lambda v, a: erf(v[0]),
    "Tanh": lambda v, a: np.tanh(v[0]),
    "Sigmoid": lambda v, a: 1.0 / (1.0 + np.exp(-v[0])),
    "Softplus": lambda v, a: np.logaddexp(0.0, v[0]),
    "HardSigmoid": lambda v, a: _hard_sigmoid(v[0], a),
    "Relu": lambda v, a: np.maximum(v[0], 0.0),
    "Clip": lambda v, a: _clip(v[0], *v[1:3]),
    "Min": lambda v, a: np.minimum(v[0], v[1]),
    "Max": lambda v, a: np.maximum(v[0], v[1]),
    "Identity": lambda v, a: v[0],
}
"""The element-wise operators a region may hold, evaluated in float64."""


class Match(NamedTuple):
    """An activation found: its kind and settings, the operators it covers, its output."""

    kind: str
    settings: dict[str, Any]
    nodes: list[Any]
    output: str


def find_activation(x: str, order: dict[int, int], consumers: dict[str, list[Any]],
                    consts: dict[str, Any], attrs: Callable[[Any], dict[str, Any]],
                    outputs: set[str]) -> Match | None:
    """The largest closed element-wise region from ``x`` that computes an activation.

    ``order`` maps ``id(node)`` to its place in the graph (topological) order;
    ``consumers`` value -> nodes reading it; ``consts`` value -> array of the model's
    constants; ``outputs`` the graph's outputs. Only regions of two operators or more
    are looked at (a single operator is read on its own), and at most ``MAX_REGION``;
    every candidate reads x twice (``x * g(x)``), so an x read once is passed over.
    """
    readers = [n for n in consumers.get(x, []) if n.op_type in OPS]
    if sum(list(n.input).count(x) for n in readers) < 2:
        return None  # every candidate is x * g(x): x is read at least twice
    values: dict[str, np.ndarray] = {x: PROBE}
    region: list[Any] = []
    pending: list[tuple[int, Any]] = []  # a heap in graph order; each node queued once
    queued: set[int] = set()

    def queue(users: list[Any]) -> None:
        for user in users:
            if id(user) not in queued:
                queued.add(id(user))
                heapq.heappush(pending, (order[id(user)], user))

    queue(consumers.get(x, []))
    while pending and len(region) < MAX_REGION:
        _, node = heapq.heappop(pending)
        inputs = list(node.input)
        if node.op_type not in OPS or not all(
                name == "" or name in values or name in consts for name in inputs):
            continue
        args = [None if name == "" else values.get(name, consts.get(name)) for name in inputs]
        if any(a is not None and np.size(a) != 1 and np.shape(a) != PROBE.shape for a in args):
            continue  # a per-channel constant: not a scalar activation
        args = [None if a is None else np.asarray(a, dtype=np.float64) for a in args]
        with np.errstate(all="ignore"):
            values[node.output[0]] = OPS[node.op_type](args, attrs(node))
        region.append(node)
        queue(consumers.get(node.output[0], []))
    best: Match | None = None
    for node in region:
        value = node.output[0]
        covered = _closure(value, region)
        if len(covered) < 2 or not _closed(covered, value, consumers, outputs):
            continue
        found = _which(values[value])
        if found is not None and (best is None or len(covered) > len(best.nodes)):
            best = Match(*found, covered, value)
    return best


def _closure(value: str, region: list[Any]) -> list[Any]:
    """The region's operators ``value`` depends on, in graph order."""
    producer = {node.output[0]: node for node in region}
    needed, stack = set(), [value]
    while stack:
        node = producer.get(stack.pop())
        if node is None or id(node) in needed:
            continue
        needed.add(id(node))
        stack.extend(node.input)
    return [node for node in region if id(node) in needed]


def _closed(covered: list[Any], value: str, consumers: dict[str, list[Any]],
            outputs: set[str]) -> bool:
    """Whether every value made inside ``covered`` but ``value`` is read only inside it."""
    inside = {id(node) for node in covered}
    for node in covered:
        made = node.output[0]
        if made == value:
            continue
        if made in outputs or any(id(user) not in inside for user in consumers.get(made, [])):
            return False
    return True


_expected: list[np.ndarray] = []


def _which(value: np.ndarray) -> tuple[str, dict[str, Any]] | None:
    """The candidate activation ``value`` equals on the probe, if any.

    The candidates' values on the probe are computed once, as one (candidates, probe)
    array, and compared with ``value`` in one step.
    """
    if value.shape != PROBE.shape:
        return None
    if not _expected:
        _expected.append(np.stack([elementwise_forward(kind, PROBE, **settings)[0]
                                   for kind, settings in CANDIDATES]))
    expected = _expected[0]
    with np.errstate(invalid="ignore"):
        close = np.abs(expected - value) <= 1e-5 + 1e-4 * np.abs(expected)
    hits = np.flatnonzero(close.all(axis=1))
    return CANDIDATES[hits[0]] if hits.size else None
