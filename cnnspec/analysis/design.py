"""Design notes: layer pairs that are legal but almost always a slip.

Room: analysis. Each rule looks at neighbouring layers of one sequence (the
network, a group, a block's body, shortcut or branch) and says what the pair does
and what to write instead; a rule that fires several times gives one note naming
every place. Notes change no number of the analysis.

The rules:

* **bias before batch norm**: ``BN(x + b) = BN(x)``, because batch norm subtracts each
  channel's mean, bias included; the bias is parameters that learn nothing.
* **an activation twice**: ``ReLU(ReLU(x)) = ReLU(x)`` (ReLU6 likewise).
* **softmax twice**, or **softmax feeding a weighted layer**: softmax turns scores
  into probabilities and belongs after the last layer.
* **ReLU right before the final softmax**: every negative score becomes 0, and the
  classes it belonged to tie.
* **two FC layers with no activation between them** (dropout aside): ``W2 (W1 x) =
  (W2 W1) x``, one linear map of rank at most the narrower layer's width. A spec
  that writes no activation at all is a table of the weighted layers (as the
  lecture's AlexNet table is), and this rule stays quiet for it.
* **a stride larger than the window** (window > 1, no dilation): of every ``s``
  rows and columns, ``s - k`` are never read.
* **padding at least as wide as the kernel**: the outermost outputs see only padding.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from itertools import pairwise
from typing import Any

from cnnspec.analysis.missing import iter_nodes
from cnnspec.analysis.records import LayerRecord, Note, listed, pair_text
from cnnspec.spec.activation_table import BY_KIND as ACTIVATION_ENTRIES
from cnnspec.spec.tree import Network

IDEMPOTENT = frozenset({"relu", "relu6"})  # f(f(x)) = f(x)
CLIPPING = frozenset({"relu", "relu6"})  # every negative input becomes 0
WEIGHTED = frozenset({"conv", "fc", "table_conv", "subsample"})
ACTIVATIONS = frozenset({"relu", "sigmoid", "tanh", *ACTIVATION_ENTRIES})
# the kinds each pair rule looks for after a given kind
FOLLOWERS = {"conv": frozenset({"batchnorm"}), "fc": frozenset({"batchnorm"}),
             "softmax": frozenset({"softmax", *WEIGHTED}),
             **{kind: frozenset({kind}) for kind in IDEMPOTENT}}
WINDOWED = frozenset({"conv", "pool"})
# `validate` walks the sizes for these notes only up to this many layers, so that checking
# the structure of a very large spec stays as quick as reading it
DESIGN_CHECK_LAYERS = 10_000

__all__ = ["DESIGN_CHECK_LAYERS", "design_notes", "layer_count", "sequences"]

Rows = dict[int, list[LayerRecord]]


@cache
def _nested(node_type: type) -> tuple[str, ...]:
    """The fields of a node class that hold lists of nodes (none for a plain layer)."""
    fields = getattr(node_type, "model_fields", {})
    return tuple(key for key in ("layers", "body", "shortcut", "branches") if key in fields)


def sequences(items: list[Any]) -> Iterator[list[Any]]:
    """``items`` and every list of nodes nested in it: groups, bodies, shortcuts, branches."""
    yield items
    for node in items:
        for key in _nested(type(node)):
            value = node.__dict__[key] or []
            for inner in (value if key == "branches" else [value]):
                yield from sequences(inner)


def layer_count(items: list[Any]) -> int:
    """The layers ``items`` expand to, repeats counted (each block one more, for its row)."""
    total = 0
    for node in items:
        keys = _nested(type(node))
        if not keys:
            total += 1
            continue
        inner = 0
        for key in keys:
            value = node.__dict__[key] or []
            inner += sum(map(layer_count, value)) if key == "branches" else layer_count(value)
        total += 1 + inner * (node.__dict__.get("repeat") or 1)
    return total


class Findings:
    """The places each rule fired, kept in order, turned into one note per rule."""

    def __init__(self) -> None:
        self.places: dict[str, list[LayerRecord]] = {}
        self.texts: dict[str, list[str]] = {}

    def add(self, rule: str, row: LayerRecord, text: str) -> None:
        self.places.setdefault(rule, []).append(row)
        self.texts.setdefault(rule, []).append(text)

    def note(self, rule: str, message: str) -> Note | None:
        """``message`` after the places of ``rule``; on the row itself when there is one."""
        rows = self.places.get(rule)
        if not rows:
            return None
        texts = self.texts[rule]
        if len(rows) == 1:
            return Note(rows[0].name, f"({texts[0]}) {message}", "design")
        places = listed([f"{r.name} ({t})" for r, t in zip(rows, texts, strict=True)])
        return Note(None, f"{places}: {message}", "design")


def design_notes(network: Network, node_rows: Rows) -> list[Note]:
    """The design notes of ``network`` (the module docstring gives the rules).

    ``node_rows`` maps ``id(node)`` to the rows the node made in the walk, one per
    repeat; a node the walk did not reach is passed over.
    """
    found = Findings()
    writes_activations = any(node.kind in ACTIVATIONS for node in iter_nodes(network.layers))
    for items in sequences(network.layers):
        for a, b in pairwise(items):
            if b.kind in FOLLOWERS.get(a.kind, ()):  # most pairs match no rule
                for row_a, row_b in zip(node_rows.get(id(a), ()), node_rows.get(id(b), ()),
                                        strict=False):
                    _pair_rules(found, a, b, row_a, row_b)
        if writes_activations:
            _linear_fc_runs(found, items, node_rows)
        for node in items:
            if node.kind in WINDOWED:
                for rule, text in _window_rules(node):
                    for row in node_rows.get(id(node), ()):
                        found.add(rule, row, text)
    top = [node for node in network.layers if node_rows.get(id(node))]
    if len(top) >= 2 and top[-1].kind == "softmax" and top[-2].kind in CLIPPING:
        last = node_rows[id(top[-1])][0]
        found.add("clip", node_rows[id(top[-2])][0], f"before {last.name}")
    saved = sum(r.biases for r in found.places.get("bias", []))
    messages = {
        "bias": "a bias right before batch norm learns nothing, since BN subtracts each "
                f"channel's mean, bias included; bias=false saves {saved:,} parameters",
        "twice": "the same activation twice in a row; f(f(x)) = f(x) for ReLU and "
                 "ReLU6, so one of the two can go",
        "softmax": "a layer after a softmax reads probabilities, not scores; softmax "
                   "belongs after the last layer only",
        "clip": "a ReLU before the final softmax clips the class scores: every negative "
                "score becomes 0 and those classes tie; end on the last FC layer, then "
                "softmax",
        "linear": "two FC layers with no activation between them are one linear map, "
                  "W2 (W1 x) = (W2 W1) x; put an activation between them or drop one",
        "stride": "a stride longer than the window never reads the rows and columns "
                  "between windows; a stride of at most the window reads every one",
        "padding": "padding as wide as the kernel gives outermost outputs that see only "
                   "padding, nothing of the input",
    }
    notes = [found.note(rule, message) for rule, message in messages.items()]
    return [n for n in notes if n is not None]


def _pair_rules(found: Findings, a: Any, b: Any, row_a: LayerRecord,
                row_b: LayerRecord) -> None:
    """The rules on two neighbours: bias before BN, an activation twice, softmax misplaced."""
    if b.kind == "batchnorm" and a.kind in ("conv", "fc") and row_a.biases:
        found.add("bias", row_a, f"before {row_b.name}")
    elif a.kind == b.kind and a.kind in IDEMPOTENT:
        found.add("twice", row_b, f"after {row_a.name}")
    elif a.kind == "softmax" and (b.kind == "softmax" or b.kind in WEIGHTED):
        found.add("softmax", row_b, f"after {row_a.name}")


def _linear_fc_runs(found: Findings, items: list[Any], node_rows: Rows) -> None:
    """FC layers with only dropout between them: one linear map written as two."""
    previous = None  # the last FC, while only dropout has followed it
    for node in items:
        if node.kind == "fc":
            if previous is not None:
                for before, row in zip(node_rows.get(id(previous), ()),
                                       node_rows.get(id(node), ()), strict=False):
                    found.add("linear", row, f"after {before.name}")
            previous = node
        elif node.kind != "dropout":
            previous = None


def _window_rules(node: Any) -> list[tuple[str, str]]:
    """``(rule, text)`` for a conv or pool whose stride passes its window, or whose padding
    is as wide as its kernel."""
    kernel = node.kernel
    if kernel is None:
        return []
    stride = kernel if node.stride is None else node.stride
    found = []
    gaps = [(k, s) for k, s in zip(kernel, stride, strict=True) if 1 < k < s]
    if gaps and tuple(node.__dict__.get("dilation") or (1, 1)) == (1, 1):
        k, s = gaps[0]
        found.append(("stride", f"stride {s}, window {k}"))
    padding = node.padding
    if node.kind == "conv" and not isinstance(padding, str) and (
            padding[0] >= kernel[0] or padding[1] >= kernel[1]):
        same = pair_text(tuple((k - 1) // 2 for k in kernel))
        found.append(("padding", f"p={pair_text(padding)} around "
                                 f"{'x'.join(map(str, kernel))}; p={same} keeps a stride-1 "
                                 "output's size"))
    return found
