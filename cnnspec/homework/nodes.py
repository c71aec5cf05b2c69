"""From a report row back to the spec node it came from, and whole-tree edits.

Room: consumers (homework); reads ``cnnspec.spec`` models only.

A row's ``path`` is written by the analysis walk: ``3`` is the third item of
the architecture; a group adds ``.i`` (and ``.r.i`` when repeated ``r`` times);
a residual block adds ``.body.i`` / ``.skip.i``; a concatenation ``.bK.i``.
Synthetic rows (``.add``, ``.cat``) have no node.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnspec.spec.tree import Network


def node_at(network: Network, path: str) -> Any | None:
    """The spec node of the report row at ``path``, or ``None`` for a synthetic row."""
    parts = path.split(".") if path else []
    items: list[Any] = list(network.layers)
    node: Any = None
    i = 0
    while i < len(parts):
        part = parts[i]
        if not part.isdigit() or not 1 <= int(part) <= len(items):
            return None
        node = items[int(part) - 1]
        i += 1
        if i == len(parts):
            return node
        if node.kind in ("sequence", "aux"):
            if node.kind == "sequence" and node.repeat > 1:
                i += 1  # the repeat index: every repeat uses the same nodes
            items = list(node.layers)
            continue
        choice = parts[i]
        i += 1
        if node.kind == "residual" and choice in ("body", "skip"):
            items = list(node.body if choice == "body" else node.shortcut)
        elif node.kind == "concat" and choice[:1] == "b" and choice[1:].isdigit():
            items = list(node.branches[int(choice[1:]) - 1])
        else:
            return None
    return node


def map_nodes(items: list[Any], change: Callable[[Any], Any]) -> list[Any]:
    """A copy of ``items`` with ``change`` applied to every layer node, blocks included."""
    out = []
    for node in items:
        update: dict[str, Any] = {}
        for key in ("layers", "body", "shortcut"):
            value = getattr(node, key, None)
            if value:
                update[key] = map_nodes(list(value), change)
        branches = getattr(node, "branches", None)
        if branches:
            update["branches"] = [map_nodes(list(b), change) for b in branches]
        copied = node.model_copy(update=update) if update else node
        out.append(change(copied))
    return out


Field2 = tuple[tuple[int, int], tuple[int, int]]  # ((size_h, size_w), (jump_h, jump_w))
START: Field2 = ((1, 1), (1, 1))


def input_row(rows: list[Any], path: str) -> Any | None:
    """The row whose output the row at ``path`` reads (``None``: the network's input).

    Follows the walk's paths: the item before it, or for the first item of a
    block, branch or repeat, whatever fed the block. ``rows`` is ``report.layers``.
    """
    by_path = {r.path: r for r in rows}

    def output_of(prefix: str) -> Any | None:
        row = by_path.get(prefix)
        if row is not None and row.kind == "aux":
            return before(prefix)  # a head feeds nothing forward
        if row is not None:
            return row
        inside = [r for r in rows if r.path.startswith(prefix + ".") and not r.is_block]
        return inside[-1] if inside else before(prefix)

    def before(p: str) -> Any | None:
        parent, _, last = p.rpartition(".")
        if last.isdigit() and int(last) > 1:
            return output_of(f"{parent}.{int(last) - 1}" if parent else str(int(last) - 1))
        if not parent:
            return None
        if parent in by_path:
            return before(parent)
        grand, _, branch = parent.rpartition(".")
        if branch in ("body", "skip") or (branch[:1] == "b" and branch[1:].isdigit()):
            return before(grand)
        return before(parent)  # a repeat index or a group without a row of its own

    return before(path)


def input_field(rows: list[Any], path: str) -> Field2:
    """The receptive field (size, jump) of the data the row at ``path`` reads."""
    row = input_row(rows, path)
    return START if row is None else (row.rf_size, row.rf_jump)
