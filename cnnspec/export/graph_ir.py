"""A model's data-flow graph, and how it becomes a cnnspec tree.

Room: consumers (export). The ONNX and PyTorch readers translate each
operation into an :class:`OpNode` holding the cnnspec layer it is (as the
YAML item that writes it) or the merge it performs (``add``, ``concat``).
:func:`structure` then turns the graph into the spec's tree: a run of
single-consumer nodes is a chain; a value used by several nodes opens a
fork, closed by the first node every branch reaches — an ``add`` makes a
``residual`` block (the longer branch is the body), a ``concat`` a
``concat`` block (an input used directly is an empty, identity branch), a
``mul`` of the input by a branch a ``gate`` (the branch is its body). A
branch that never reaches the model's output is an auxiliary head.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field
from typing import Any

from cnnspec.errors import ExportError
from cnnspec.spec.budget import MAX_LAYERS

INPUT = "input"


@dataclass
class OpNode:
    """One operation: a layer (``layer`` is its YAML item), a merge, or nothing (identity)."""

    name: str
    inputs: list[str]
    layer: Any = None
    merge: str | None = None  # "add" | "concat" | "mul"
    params: int = 0  # trainable values the source model holds for this operation
    buffers: int = 0  # running statistics


@dataclass
class OpGraph:
    """Operations in topological order, one graph input, a main output and aux outputs."""

    input_shape: tuple[int, ...]
    nodes: dict[str, OpNode] = field(default_factory=dict)
    output: str = INPUT
    aux_outputs: list[str] = field(default_factory=list)

    def add(self, node: OpNode) -> None:
        """Append ``node`` (its inputs must already be in the graph)."""
        for name in node.inputs:
            if name != INPUT and name not in self.nodes:
                raise ExportError(f"operation {node.name!r} reads {name!r}, which no earlier "
                                  "operation produces", hint="the model graph is not "
                                  "topologically sorted or reads an unknown value")
        self.nodes[node.name] = node

    @property
    def params(self) -> int:
        """Trainable values of the whole source model."""
        return sum(n.params for n in self.nodes.values())

    @property
    def buffers(self) -> int:
        """Running statistics of the whole source model."""
        return sum(n.buffers for n in self.nodes.values())


def structure(graph: OpGraph) -> list[Any]:
    """The YAML items of ``graph``'s tree (``architecture:`` of a spec).

    A graph of more operations than a spec may have layers (:data:`MAX_LAYERS`) is
    refused before its reachability sets (n*n/2 bits) are built.
    """
    if len(graph.nodes) > MAX_LAYERS:
        raise ExportError(f"the model has {len(graph.nodes):,} operations to read as layers, "
                          f"more than a spec's limit of {MAX_LAYERS:,}",
                          hint="import a smaller model, or the part of it you need")
    return _Structurer(graph).run()


class _Structurer:
    def __init__(self, graph: OpGraph):
        self.graph = graph
        names = [INPUT, *graph.nodes]
        self.names = names
        self.order = {name: i for i, name in enumerate(names)}
        self.users: dict[str, list[str]] = {name: [] for name in names}
        for node in graph.nodes.values():
            for source in dict.fromkeys(node.inputs):
                self.users[source].append(node.name)
        # below[v]: every node v reaches, itself included, as a bit set over graph order
        # (bit i = the node at order i): n*n/2 bits for n nodes, unions and meets in C.
        self.below: dict[str, int] = {}
        for name in reversed(names):
            reach = 1 << self.order[name]
            for user in self.users[name]:
                reach |= self.below[user]
            self.below[name] = reach

    def reaches(self, value: str, target: str) -> bool:
        """Whether ``target`` lies on a path from ``value`` (or is ``value``)."""
        return bool(self.below[value] >> self.order[target] & 1)

    def run(self) -> list[Any]:
        items, end = self.walk(INPUT, None)
        if end != self.graph.output:
            raise ExportError(f"the walk from the input ended at {end!r}, not at the output "
                              f"{self.graph.output!r}",
                              hint="the model graph is not a chain of layers and blocks")
        return items

    def item(self, name: str) -> list[Any]:
        layer = self.graph.nodes[name].layer
        return [] if layer is None else [layer]

    def walk(self, value: str, stop: str | None) -> tuple[list[Any], str]:
        """Items from ``value`` on until ``stop`` (or an output), and the last value reached."""
        items: list[Any] = []
        target = stop or self.graph.output
        while True:
            users = [u for u in self.users[value] if self.reaches(u, target)]
            aux = [u for u in self.users[value] if not self.reaches(u, target)]
            for user in aux:
                items.append({"aux": self.aux_items(user)})
            if not users or value == target:
                return items, value
            if len(users) == 1:
                user = users[0]
                node = self.graph.nodes[user]
                if user == stop or (node.merge and len(node.inputs) > 1):
                    return items, value  # the join of an enclosing fork
                items.extend(self.item(user))
                value = user
                continue
            common = functools.reduce(operator.and_, (self.below[u] for u in users))
            join = self.names[(common & -common).bit_length() - 1]  # the first node all reach
            items.append(self.block(value, users, join))
            value = join

    def aux_items(self, start: str) -> list[Any]:
        items = self.item(start)
        value = start
        while self.users[value]:
            if len(self.users[value]) > 1:
                raise ExportError(f"the auxiliary branch at {start!r} forks",
                                  hint="auxiliary heads must be a plain chain of layers")
            value = self.users[value][0]
            items.extend(self.item(value))
        if value not in self.graph.aux_outputs:
            raise ExportError(f"the branch at {start!r} ends at {value!r}, which is not an "
                              "output", hint="the model graph is not a chain of layers and "
                              "blocks")
        return items

    def block(self, fork: str, users: list[str], join: str) -> dict[str, Any]:
        node = self.graph.nodes[join]
        if node.merge is None:
            raise ExportError(f"branches from {fork!r} meet at {join!r}, which neither adds, "
                              "concatenates nor multiplies", hint="only residual (add), concat "
                              "(inception, dense) and gate (multiply) blocks can be read")
        ends: dict[str, list[Any]] = {}
        for user in users:
            if user == join:
                ends[fork] = []
                continue
            items, end = self.walk(user, join)
            ends[end] = self.item(user) + items
        if set(ends) != set(node.inputs) or len(node.inputs) != len(users):
            raise ExportError(f"{join!r} merges values from outside the fork at {fork!r}",
                              hint="only blocks whose branches start at one tensor and meet "
                              "at one add/concat can be read")
        branches = [ends[name] for name in node.inputs]
        if node.merge == "concat":
            return {"concat": {"branches": branches}}
        if node.merge == "mul":
            bodies = [b for b in branches if b]
            if len(branches) != 2 or len(bodies) != 1:
                raise ExportError(f"{join!r} multiplies two computed branches",
                                  hint="a gate multiplies its input by one branch: x * g(x)")
            return {"gate": {"body": bodies[0]}}
        if len(branches) != 2:
            raise ExportError(f"{join!r} adds {len(branches)} tensors",
                              hint="a residual block adds exactly two")
        body, shortcut = sorted(branches, key=len, reverse=True)
        block: dict[str, Any] = {"body": body}
        if shortcut:
            block["shortcut"] = shortcut
        return {"residual": block}
