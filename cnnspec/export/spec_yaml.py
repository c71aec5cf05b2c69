"""An imported graph written as a cnnspec YAML spec, and checked against its source.

Room: consumers (export). The spec is read back with the ordinary loader and
analysed; its parameter count must equal the source model's, or the import
fails rather than hand the user a spec that describes another network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnnspec.analysis.records import Report
from cnnspec.errors import ExportError
from cnnspec.export.graph_ir import OpGraph, structure


@dataclass(frozen=True)
class Imported:
    """The YAML text of an imported model, its analysis and the source's counts."""

    text: str
    report: Report
    source_params: int
    source_buffers: int


def _best_run(items: list[Any], i: int) -> tuple[int, int]:
    """``(period, count)`` of the longest repetition starting at ``items[i]``."""
    best = (1, 1)
    for period in (1, 2, 3):
        unit = items[i:i + period]
        if len(unit) < period:
            break
        count = 1
        while items[i + count * period:i + (count + 1) * period] == unit:
            count += 1
        if count > 1 and period * count > best[0] * best[1]:
            best = (period, count)
    return best


def compress_repeats(items: list[Any]) -> list[Any]:
    """Runs of identical consecutive items (or pairs, triples) as ``{repeat: n, layers: [...]}``.

    A run of plain layers only is left as it is, and a run does not start at a plain layer
    when starting one later covers as much (``[block, ReLU] x 3`` rather than ``[ReLU, block]``).
    """
    out: list[Any] = []
    i = 0
    while i < len(items):
        period, count = _best_run(items, i)
        unit = items[i:i + period]
        if count > 1 and isinstance(items[i], str) and i + 1 < len(items):
            later = _best_run(items, i + 1)
            if later[0] * later[1] >= period * count:
                count = 1
        if count > 1 and not all(isinstance(x, str) for x in unit):
            out.append({"repeat": count, "layers": unit})
            i += period * count
        elif count > 1:
            # A run of plain layers stays as written. A run with a block in its unit (at
            # most 3 long) can only start in its last 2 places: step there at once, so a
            # long plain run costs its length, not its length squared.
            end = max(i + 1, i + period * count - 2)
            out.extend(items[i:end])
            i = end
        else:
            out.append(items[i])
            i += 1
    return out


def joined(items: Any, top: bool = True) -> Any:
    """Nested lists of layer strings joined into one network string (``Conv(...)-BN-ReLU``)."""
    if isinstance(items, list):
        parts = [joined(x, False) for x in items]
        if not top and parts and all(isinstance(x, str) for x in parts):
            return "-".join(parts)
        return parts
    if isinstance(items, dict):
        return {k: [joined(b, False) if b else [] for b in v] if k == "branches" else
                (v if k == "repeat" else joined(v, False)) for k, v in items.items()}
    return items


def _dumper() -> type:
    import yaml

    class Dumper(yaml.SafeDumper):
        """Lists of numbers (a connection table) on one line each."""

    def numbers_inline(dumper: yaml.SafeDumper, data: list[Any]) -> Any:
        flat = all(isinstance(x, int) or (isinstance(x, list) and
                   all(isinstance(y, int) for y in x)) for x in data)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data,
                                         flow_style=True if flat and data else None)

    Dumper.add_representer(list, numbers_inline)
    return Dumper


def to_yaml_text(name: str, input_shape: tuple[int, ...], items: list[Any],
                 header: list[str], description: str | None = None) -> str:
    """The YAML spec text: header comments, then name, input, conventions and architecture."""
    import yaml

    _Dumper = _dumper()
    doc: dict[str, Any] = {"name": name}
    if description:
        doc["description"] = description
    doc["input"] = "x".join(map(str, input_shape))
    doc["conventions"] = "pytorch"
    doc["architecture"] = joined(items)
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     width=1000, allow_unicode=True)
    return "".join(f"# {line}\n" for line in header) + body


def write_spec(graph: OpGraph, name: str, header: list[str],
               description: str | None = None) -> Imported:
    """Structure ``graph`` into a spec, validate and analyse it, and check its parameter count."""
    from cnnspec.analysis import analyze
    from cnnspec.spec.load import from_yaml

    items = compress_repeats(structure(graph))
    text = to_yaml_text(name, graph.input_shape, items, header, description)
    network = from_yaml(text, f"<imported {name}>")
    report = analyze(network, include_aux=True)
    totals = report.totals
    if (totals.trainable_params, totals.non_trainable_params) != (graph.params, graph.buffers):
        raise ExportError(
            f"the imported spec has {totals.trainable_params:,} trainable parameters and "
            f"{totals.non_trainable_params:,} running statistics, the model "
            f"{graph.params:,} and {graph.buffers:,}",
            hint="the model uses a layer cnnspec reads differently; please report it",
        )
    return Imported(text, report, graph.params, graph.buffers)
