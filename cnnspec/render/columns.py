"""The columns every tabular renderer shows, defined once, with the order they give way in.

Room: consumers (render). Renderers see only records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from cnnspec.analysis.records import LayerRecord, Note, Report, shape_text
from cnnspec.units import BINARY, exact_bytes, exact_count, human_bytes


class OutputFormat(str, Enum):
    """Output formats of the reporting commands."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"


FORMAT_NAMES = [f.value for f in OutputFormat] + ["md"]


def parse_format(name: str) -> OutputFormat:
    """``"md"`` and ``"markdown"`` are the same format."""
    return OutputFormat.MARKDOWN if name == "md" else OutputFormat(name)


@dataclass(frozen=True)
class Column:
    """One column of the layer table.

    ``key`` is the name ``--columns`` takes; ``priority`` orders the columns when the
    terminal is too narrow for all of them (0 is kept longest); ``formula`` names the
    record's formula shown on hover in the HTML page; ``user_text`` marks the columns
    whose text comes from the spec (names), which renderers escape.
    """

    key: str
    title: str
    text: Callable[[LayerRecord, str], str]
    priority: int
    numeric: bool = True
    formula: str | None = None
    user_text: bool = False


def _n(attr: str) -> Callable[[LayerRecord, str], str]:
    return lambda r, _units: f"{getattr(r, attr):,}" if getattr(r, attr) else "-"


def rf_text(r: LayerRecord) -> str:
    """``11 / 4``: receptive field size / jump (``HxW`` when the axes differ)."""
    size = f"{r.rf_size[0]}" if r.rf_size[0] == r.rf_size[1] else f"{r.rf_size[0]}x{r.rf_size[1]}"
    jump = f"{r.rf_jump[0]}" if r.rf_jump[0] == r.rf_jump[1] else f"{r.rf_jump[0]}x{r.rf_jump[1]}"
    return f"{size} / {jump}"


# Table order (left to right); priority says which stay when space runs out:
# Layer, Output, Params, MACs first; then Weights/Biases, running statistics, RF, memory,
# nodes, hyper-parameters and type.
COLUMNS: list[Column] = [
    Column("layer", "Layer", lambda r, _u: "  " * r.depth + r.name, 0, False, user_text=True),
    Column("type", "Type", lambda r, _u: r.type, 11, False, user_text=True),
    Column("hyper", "Hyper-parameters", lambda r, _u: r.hyper, 10, False, user_text=True),
    Column("output", "Output", lambda r, _u: shape_text(r.output), 1, False, "output"),
    Column("nodes", "Nodes", _n("nodes"), 9, formula="nodes"),
    Column("weights", "Weights", _n("weights"), 4),
    Column("biases", "Biases", _n("biases"), 5),
    Column("params", "Params", _n("trainable"), 2, formula="params"),
    Column("non_trainable", "Non-train.", _n("non_trainable"), 6, formula="non_trainable"),
    Column("macs", "MACs", _n("macs"), 3, formula="macs"),
    Column("rf", "RF size / jump", lambda r, _u: rf_text(r), 7, False),
    Column("memory", "Act. memory", lambda r, units: human_bytes(r.activation_bytes, units), 8),
]
COLUMN_KEYS = [c.key for c in COLUMNS]


def column(key: str) -> Column:
    """The column called ``key`` (raises ``KeyError``)."""
    return COLUMNS[COLUMN_KEYS.index(key)]


def parse_columns(text: str) -> list[Column]:
    """``"layer,output,params"`` -> those columns in table order; ``layer`` is always kept.

    Raises ``ValueError`` naming an unknown key and the keys there are.
    """
    wanted = [k.strip().lower() for k in text.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in COLUMN_KEYS]
    if unknown:
        raise ValueError(f"unknown column {unknown[0]!r}; choose from {', '.join(COLUMN_KEYS)}")
    return [c for c in COLUMNS if c.key in wanted or c.key == "layer"]


def shown_columns(report: Report) -> list[Column]:
    """Every column with something to say: Non-train. only when a layer keeps statistics."""
    has_stats = any(r.non_trainable for r in report.layers)
    return [c for c in COLUMNS if c.key != "non_trainable" or has_stats]


def visible_rows(report: Report, depth: int | None) -> list[LayerRecord]:
    """Rows down to ``depth`` (block rows at the cut stand for their children)."""
    if depth is None:
        return list(report.layers)
    return [r for r in report.layers if r.depth <= depth]


def depth_for_rows(report: Report, max_rows: int = 60) -> int | None:
    """The deepest block level whose table has at most ``max_rows`` rows.

    ``None`` (every row) when the whole table fits; 0 when even the top level is longer.
    """
    if len(report.layers) <= max_rows:
        return None
    per_depth: dict[int, int] = {}
    for r in report.layers:
        per_depth[r.depth] = per_depth.get(r.depth, 0) + 1
    shown, best = 0, 0
    for d in sorted(per_depth):
        shown += per_depth[d]
        if shown > max_rows:
            break
        best = d
    return best


def max_depth(report: Report) -> int:
    """The deepest row's depth (``--depth`` at this value shows every row)."""
    return max((r.depth for r in report.layers), default=0)


HEADER_MACS = ("MACs count the multiply-accumulates of conv and FC layers (and LeNet's "
               "subsampling); bias adds, pooling, normalisation and activations are not counted; "
               "FLOPs = 2 x MACs. Output is H x W x C.")

HEADER_PARAMS = ("Params = Weights + Biases (trainable); Non-train. = batch-norm running "
                 "statistics (mean, variance), counted apart.")


def header_lines(report: Report) -> list[str]:
    """The lines above every table: conventions, rounding said once, what the columns mean."""
    lines = [report.conventions_text]
    lines += [n.message for n in report.notes if n.kind == "rounding" and n.layer is None]
    lines.append(HEADER_MACS)
    if report.totals.non_trainable_params:
        lines.append(HEADER_PARAMS)
    return lines


def note_line(note: Note) -> str:
    """``layer: message``, or the message alone for a note on the whole network."""
    return f"{note.layer}: {note.message}" if note.layer else note.message


def body_notes(report: Report) -> list[str]:
    """The notes under the table (the rounding said in the header is not repeated)."""
    return [note_line(n) for n in report.notes if not (n.kind == "rounding" and n.layer is None)]


def total_lines(report: Report, units: str = BINARY) -> list[tuple[str, str]]:
    """The totals as (label, value) pairs, shared by every renderer."""
    t = report.totals
    b = report.bytes_per_value
    params = (f"{exact_count(t.trainable_params)} trainable (weights {t.weights:,} + biases "
              f"{t.biases:,})")
    if t.non_trainable_params:
        params += (f" + {t.non_trainable_params:,} non-trainable (running statistics) = "
                   f"{exact_count(t.params)}")
    lines = [
        ("Parameters", params),
        ("Parameter memory", f"{exact_bytes(t.param_bytes, units)} at {b} B per value"),
        ("Nodes (activations)", f"{exact_count(t.nodes)} per image "
                                + ("(input counted)" if report.conventions.get("count_input_nodes")
                                   else f"(input {t.input_nodes:,} not counted)")),
        ("Activation memory",
         f"{exact_bytes(t.activation_bytes, units)} per image; "
         f"{exact_bytes(t.activation_bytes_batch, units)} for batch {t.batch}"),
        ("MACs", f"{exact_count(t.macs)}; FLOPs {exact_count(t.flops)}"),
        (f"Training memory ({t.optimizer}, batch {t.batch})",
         f"{exact_bytes(t.training_bytes, units)} = "
         + " + ".join(f"{k.replace('_', ' ')} {human_bytes(v, units)}"
                      for k, v in t.training_breakdown.items())),
    ]
    if t.aux_params:
        lines.append(("Auxiliary heads (" + ("included in" if t.aux_included else "not in")
                      + " the totals)",
                      f"{exact_count(t.aux_params)} params, {exact_count(t.aux_macs)} MACs"))
    return lines
