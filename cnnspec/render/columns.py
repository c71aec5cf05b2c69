"""The columns every tabular renderer shows, defined once.

Room: consumers (render). Renderers see only records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from cnnspec.analysis.memory import human_bytes
from cnnspec.analysis.records import LayerRecord, Report, shape_text


class OutputFormat(str, Enum):
    """Output formats of the reporting commands."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


FORMAT_NAMES = [f.value for f in OutputFormat] + ["md"]


def parse_format(name: str) -> OutputFormat:
    """``"md"`` and ``"markdown"`` are the same format."""
    return OutputFormat.MARKDOWN if name == "md" else OutputFormat(name)


@dataclass(frozen=True)
class Column:
    """One column: a key (CSV header), a title (table header) and how to read a record."""

    key: str
    title: str
    value: Callable[[LayerRecord], object]
    text: Callable[[LayerRecord], str]
    numeric: bool = True


def _n(attr: str) -> Callable[[LayerRecord], str]:
    return lambda r: f"{getattr(r, attr):,}" if getattr(r, attr) else "-"


def _rf(r: LayerRecord) -> str:
    size = f"{r.rf_size[0]}" if r.rf_size[0] == r.rf_size[1] else f"{r.rf_size[0]}x{r.rf_size[1]}"
    jump = f"{r.rf_jump[0]}" if r.rf_jump[0] == r.rf_jump[1] else f"{r.rf_jump[0]}x{r.rf_jump[1]}"
    return f"{size} / {jump}"


COLUMNS: list[Column] = [
    Column("name", "Layer", lambda r: r.name, lambda r: "  " * r.depth + r.name, False),
    Column("type", "Type", lambda r: r.type, lambda r: r.type, False),
    Column("hyper", "Hyper-parameters", lambda r: r.hyper, lambda r: r.hyper, False),
    Column("output", "Output (HxWxC)", lambda r: shape_text(r.output),
           lambda r: shape_text(r.output), False),
    Column("nodes", "Nodes", lambda r: r.nodes, _n("nodes")),
    Column("weights", "Weights", lambda r: r.weights, _n("weights")),
    Column("biases", "Biases", lambda r: r.biases, _n("biases")),
    Column("params", "Params", lambda r: r.params, _n("params")),
    Column("macs", "MACs", lambda r: r.macs, _n("macs")),
    Column("receptive_field", "RF size / jump", _rf, _rf, False),
    Column("activation_bytes", "Act. memory", lambda r: r.activation_bytes,
           lambda r: human_bytes(r.activation_bytes)),
]


def visible_rows(report: Report, depth: int | None) -> list[LayerRecord]:
    """Rows down to ``depth`` (block rows at the cut stand for their children)."""
    if depth is None:
        return list(report.layers)
    return [r for r in report.layers if r.depth <= depth]


HEADER_MACS = ("MACs count the multiply-accumulates of conv and FC layers (and LeNet's "
               "subsampling); bias adds, pooling, normalisation and activations are not counted; "
               "FLOPs = 2 x MACs.")


def total_lines(report: Report) -> list[tuple[str, str]]:
    """The totals as (label, value) pairs, shared by every renderer."""
    t = report.totals
    b = report.bytes_per_value
    lines = [
        ("Parameters", f"{t.params:,} (trainable {t.trainable_params:,}, non-trainable "
                       f"{t.non_trainable_params:,}; weights {t.weights:,} + biases {t.biases:,})"),
        ("Parameter memory", f"{t.param_bytes:,} bytes ({human_bytes(t.param_bytes)}) at {b} B"),
        ("Nodes (activations)", f"{t.nodes:,} per image "
                                + ("(input counted)" if report.conventions.get("count_input_nodes")
                                   else f"(input {t.input_nodes:,} not counted)")),
        ("Activation memory", f"{t.activation_bytes:,} bytes ({human_bytes(t.activation_bytes)})"
                              f" per image; {t.activation_bytes_batch:,} bytes "
                              f"({human_bytes(t.activation_bytes_batch)}) for batch {t.batch}"),
        ("MACs", f"{t.macs:,} ({t.macs / 1e9:.3f} G); FLOPs {t.flops:,}"),
        (f"Training memory ({t.optimizer}, batch {t.batch})",
         f"{t.training_bytes:,} bytes ({human_bytes(t.training_bytes)}) = "
         + " + ".join(f"{k.replace('_', ' ')} {human_bytes(v)}"
                      for k, v in t.training_breakdown.items())),
    ]
    if t.aux_params:
        lines.append(("Auxiliary heads (" + ("included in" if t.aux_included else "not in")
                      + " the totals)",
                      f"{t.aux_params:,} params, {t.aux_macs:,} MACs"))
    return lines
