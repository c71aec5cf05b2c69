"""The spec tree paired with its analysis rows: what every exporter walks.

Room: consumers (export). Reads the spec tree and the :class:`Report`; never
recomputes a shape or a count. The analysis lists its rows depth first, a
block's row before its children's, repeats unrolled; pairing the tree with
those rows in the same order gives every node its record (its unique
``name``, input and output shapes, parameter counts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cnnspec.analysis.records import LayerRecord, Report
from cnnspec.errors import ExportError
from cnnspec.spec.activation_table import BY_KIND as ACTIVATION_ENTRIES
from cnnspec.spec.tree import Network

LEAF_KINDS = ("conv", "pool", "global_pool", "adaptive_pool", "fc", "relu", "sigmoid", "tanh",
              "softmax", "flatten", "dropout", "lrn", "batchnorm", "subsample", "table_conv",
              "split", "shuffle", *ACTIVATION_ENTRIES)


@dataclass(frozen=True)
class Leaf:
    """One layer and its analysis row."""

    node: Any
    row: LayerRecord


@dataclass(frozen=True)
class Chain:
    """Steps run in order. ``row`` is the block row of a labelled or repeated group."""

    steps: list[Step]
    row: LayerRecord | None = None
    repeat: int = 1


@dataclass(frozen=True)
class ResidualStep:
    """``y = body(x) + shortcut(x)``; an empty shortcut is the identity."""

    row: LayerRecord
    body: Chain
    shortcut: Chain
    add_row: LayerRecord


@dataclass(frozen=True)
class ConcatStep:
    """Branches on one input, concatenated on channels; an empty branch is the identity."""

    row: LayerRecord
    branches: list[Chain]
    merge_row: LayerRecord


@dataclass(frozen=True)
class DualPathStep:
    """DPN's block: ``[x_res + y_res | x_dense | y_dense]`` with ``y = body(x)``.

    ``x`` is the input, or ``shortcut(x)`` when the block projects; the first ``out``
    channels of each are the residual path.
    """

    row: LayerRecord
    body: Chain
    shortcut: Chain
    merge_row: LayerRecord
    out: int


@dataclass(frozen=True)
class GateStep:
    """``y = x * body(x)``, the body's output broadcast onto x."""

    row: LayerRecord
    body: Chain
    merge_row: LayerRecord


@dataclass(frozen=True)
class AuxStep:
    """An auxiliary head: reads the tensor passing by, feeds nothing forward."""

    row: LayerRecord
    head: Chain


Step = Leaf | Chain | ResidualStep | ConcatStep | DualPathStep | GateStep | AuxStep


@dataclass
class _Rows:
    """The report's rows, handed out in order with a check of their kind."""

    rows: list[LayerRecord]
    at: int = 0

    def peek(self, ahead: int) -> LayerRecord | None:
        """The row ``ahead`` places after the next one, without taking it."""
        index = self.at + ahead
        return self.rows[index] if index < len(self.rows) else None

    def take(self, kind: str, node: Any) -> LayerRecord:
        row = self.peek(0)
        self.at += 1
        if row is None or row.kind != kind:
            got = "the end of the report" if row is None else f"row {row.name} ({row.kind})"
            raise ExportError(
                f"cannot pair the {getattr(node, 'kind', kind)} layer with the analysis: "
                f"expected a {kind} row, found {got}",
                hint="this is a cnnspec bug; please report it with the spec",
            )
        return row


def build_plan(network: Network, report: Report) -> Chain:
    """The whole network as a :class:`Chain` of steps, each with its analysis row."""
    rows = _Rows(list(report.layers))
    return Chain(_steps(network.layers, rows))


def _steps(nodes: list[Any], rows: _Rows) -> list[Step]:
    steps: list[Step] = []
    for node in nodes:
        step = _step(node, rows)
        if isinstance(step, Chain) and step.row is None:
            steps.extend(step.steps)  # an unlabelled group run once is just its layers
        elif step is not None:
            steps.append(step)
    return steps


def _step(node: Any, rows: _Rows) -> Step | None:
    kind = node.kind
    if kind == "expect":
        return None  # a checked shape; no row and no work
    if kind in LEAF_KINDS:
        return Leaf(node, rows.take(kind, node))
    if kind == "sequence":
        if node.repeat == 1 and not node.label:
            return Chain(_steps(node.layers, rows))
        row = rows.take("sequence", node)
        steps: list[Step] = []
        for _ in range(node.repeat):
            steps.extend(_steps(node.layers, rows))
        return Chain(steps, row, node.repeat)
    if kind == "residual":
        row = rows.take("residual", node)
        body = Chain(_steps(node.body, rows))
        shortcut = Chain(_steps(node.shortcut, rows))
        return ResidualStep(row, body, shortcut, rows.take("add", node))
    if kind == "concat":
        row = rows.take("concat", node)
        branches = [Chain(_steps(branch, rows)) for branch in node.branches]
        return ConcatStep(row, branches, rows.take("concat_merge", node))
    if kind == "gate":
        row = rows.take("gate", node)
        return GateStep(row, Chain(_steps(node.body, rows)), rows.take("gate_merge", node))
    if kind == "aux":
        row = rows.take("aux", node)
        return AuxStep(row, Chain(_steps(node.layers, rows)))
    if kind == "transition":
        row = rows.take("transition", node)
        conv = rows.peek(2)  # BN, ReLU, then the 1x1 conv whose filters the analysis chose
        assert conv is not None
        return Chain(_steps(node.expand(conv.output[-1]), rows), row)
    if kind == "dual_path":
        row = rows.take("dual_path", node)
        body = Chain(_steps(node.expand_body(), rows))
        shortcut = Chain(_steps(node.expand_projection(), rows))
        return DualPathStep(row, body, shortcut, rows.take("dual_path_merge", node), node.out)
    raise ExportError(f"cnnspec cannot export {node.type_name} layers ({kind!r}) yet",
                      hint="write the block out with residual/concat/conv layers")


def leaves(step: Step) -> Iterator[Leaf]:
    """Every layer under ``step``, in order (auxiliary heads included)."""
    if isinstance(step, Leaf):
        yield step
    elif isinstance(step, Chain):
        for child in step.steps:
            yield from leaves(child)
    elif isinstance(step, (ResidualStep, DualPathStep)):
        yield from leaves(step.body)
        yield from leaves(step.shortcut)
    elif isinstance(step, ConcatStep):
        for branch in step.branches:
            yield from leaves(branch)
    elif isinstance(step, GateStep):
        yield from leaves(step.body)
    elif isinstance(step, AuxStep):
        yield from leaves(step.head)
