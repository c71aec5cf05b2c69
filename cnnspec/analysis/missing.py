"""Before the walk: name every size the spec has not given yet, and how to give it.

Room: analysis.
"""

from __future__ import annotations

from typing import Any

from cnnspec.errors import AnalysisError, Location
from cnnspec.spec.tree import Network

REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    "conv": (("kernel", "3x3"), ("filters", "64")),
    "pool": (("kernel", "2"),),
    "fc": (("units", "10"),),
    "adaptive_pool": (("output", "7x7"),),
}
EXAMPLE = {"conv": "Conv(3x3, 64)", "pool": "Pool(2)", "fc": "FC(10)",
           "adaptive_pool": "AdaptiveAvgPool(7x7)"}


def iter_nodes(items: list[Any]):
    """Every node of a list of nodes, depth first."""
    for node in items:
        yield node
        fields = node.__dict__  # a missing attribute through pydantic's __getattr__ is slow
        for key in ("layers", "body", "shortcut"):
            yield from iter_nodes(fields.get(key) or [])
        for branch in fields.get("branches") or []:
            yield from iter_nodes(branch)


def missing_sizes(network: Network) -> list[tuple[Location | None, str]]:
    """``(place, what is missing)`` for every size the analysis would need."""
    found: list[tuple[Location | None, str]] = []
    if network.input is None:
        found.append((None, "the input shape (give --input 32x32x3 or `input: 32x32x3`)"))
    for node in iter_nodes(network.layers):
        needs = REQUIRED.get(node.kind, ())
        absent = [name for name, _ in needs if getattr(node, name) is None]
        if absent:
            ref = node.source
            where = ref.loc if ref is not None else None
            title = node.label or node.type_name
            example = EXAMPLE[node.kind]
            found.append((where, f"{title} needs {' and '.join(absent)} (e.g. {example}"
                          + (f", or `layers: {{{node.label}: {{...}}}}` in YAML)" if node.label
                             else ")")))
    return found


def require_sizes(network: Network) -> None:
    """Raise one :class:`AnalysisError` listing everything missing, at the first place."""
    found = missing_sizes(network)
    if not found:
        return
    first = next((loc for loc, _ in found if loc is not None), None)
    listed = "; ".join(what for _, what in found[:8])
    more = f" (and {len(found) - 8} more)" if len(found) > 8 else ""
    raise AnalysisError(
        f"cannot analyse yet: missing {listed}{more}",
        first,
        "the structure is valid (`cnnspec validate` accepts it); give the sizes to analyse it",
    )
