"""Every cell of an analysis as a derivation, in markdown.

Room: consumers (homework). Reads the records only: each row's ``formulas``
(written by the analysis walk), its numbers, the totals and the notes. Sums
are written out from the rows and closed with the total the analysis computed.
"""

from __future__ import annotations

from cnnspec.analysis.records import LayerRecord, Report, shape_text
from cnnspec.homework.nodes import input_field, node_at
from cnnspec.spec.tree import Network
from cnnspec.units import SI, human_bytes

MAX_TERMS = 24
ELEMENTWISE = {"relu", "sigmoid", "tanh", "softmax", "dropout", "lrn", "batchnorm"}


def code(text: str) -> str:
    """Inline code, so ``55*55*96`` is not read as emphasis."""
    return f"`{text}`"


def sum_text(values: list[int], total: int) -> str:
    """``a + b + c = total`` (or ``sum of N rows = total`` when long)."""
    shown = [v for v in values if v]
    if not shown:
        return f"{total:,}"
    if len(shown) > MAX_TERMS:
        return f"sum of {len(shown)} rows = {total:,}"
    if len(shown) == 1:
        return f"{total:,}"
    return " + ".join(f"{v:,}" for v in shown) + f" = {total:,}"


def _output_line(row: LayerRecord) -> str:
    out = shape_text(row.output)
    if "output" in row.formulas:
        depth = ""
        if row.kind == "conv":
            depth = f" (depth = {row.output[-1]} filters)"
        elif row.kind in ("pool", "subsample"):
            depth = f" (pooling keeps the depth {row.output[-1]})"
        return f"{code(row.formulas['output'])} -> **{out}**{depth}"
    if row.kind == "fc":
        return f"one value per unit: **{out}**"
    if row.kind in ELEMENTWISE:
        return f"element by element, same as its input: **{out}**"
    if row.hyper:
        return f"{row.hyper}: **{out}**"
    return f"**{out}**"


def _params_line(row: LayerRecord) -> str:
    if row.kind == "batchnorm":
        c = row.output[-1]
        return (f"{code(f'2*{c} = {row.trainable:,}')} trainable (gamma, beta) + "
                f"{code(f'2*{c} = {row.non_trainable:,}')} running statistics (mean, var)")
    if "params" in row.formulas and row.params:
        split = (f" (weights {row.weights:,} + biases {row.biases:,})" if row.biases
                 else " (no bias)")
        return code(row.formulas["params"]) + split
    if "params" in row.formulas:
        return row.formulas["params"]
    return "none: this layer has no weights = 0"


def _receptive_line(network: Network, report: Report, row: LayerRecord) -> str:
    (r_in, j_in), r, j = input_field(report.layers, row.path), row.rf_size, row.rf_jump
    field = f"{r[0]}x{r[1]}, jump {j[0] if j[0] == j[1] else f'{j[0]}x{j[1]}'}"
    if row.kind in ("add", "concat_merge"):
        return f"the widest of its branches: {field}"
    if (r, j) == (r_in, j_in):
        return f"unchanged: {field}"
    node = node_at(network, row.path)
    kernel = getattr(node, "kernel", None)
    if kernel is None:
        return f"the whole input: {field}"
    stride = getattr(node, "stride", None) or kernel
    dil = getattr(node, "dilation", (1, 1))
    d = f"{dil[0]}*" if dil[0] != 1 else ""
    return (f"{code(f'r = {r_in[0]} + {d}({kernel[0]}-1)*{j_in[0]} = {r[0]}')}, "
            f"{code(f'j = {j_in[0]}*{stride[0]} = {j[0]}')} -> {field}")


def _row_section(network: Network, report: Report, row: LayerRecord, number: int) -> list[str]:
    title = f"### {number}. {row.name} — {row.type}" + (f" ({row.hyper})" if row.hyper else "")
    lines = [title, "", f"- **Input**: {shape_text(row.input)}",
             f"- **Output**: {_output_line(row)}"]
    nodes = row.formulas.get("nodes") or f"{'*'.join(map(str, row.output))} = {row.nodes:,}"
    lines.append(f"- **Nodes**: {code(nodes)}")
    lines.append(f"- **Parameters**: {_params_line(row)}")
    if "macs" in row.formulas:
        lines.append(f"- **MACs**: {code(row.formulas['macs'])}")
    lines.append(f"- **Receptive field**: {_receptive_line(network, report, row)}")
    bpv = report.bytes_per_value
    lines.append(f"- **Activation memory**: "
                 f"{code(f'{row.nodes:,} x {bpv} B = {row.activation_bytes:,} B')} "
                 f"({human_bytes(row.activation_bytes)})")
    for note in report.notes:
        if note.layer == row.name:
            lines.append(f"- *Note ({note.kind})*: {note.message}")
    lines.append("")
    return lines


def _block_section(report: Report, row: LayerRecord) -> list[str]:
    children = [r for r in report.layers if not r.is_block and r.path.startswith(row.path + ".")]
    title = f"### {row.name} — {row.type}" + (f" ({row.hyper})" if row.hyper else "")
    return [title, "",
            f"A block: {shape_text(row.input)} -> {shape_text(row.output)}; its numbers are the "
            f"sums of its {len(children)} layers below.",
            f"- **Parameters**: {code(sum_text([c.params for c in children], row.params))}",
            f"- **Nodes**: {code(sum_text([c.nodes for c in children], row.nodes))}", ""]


def explain_markdown(network: Network, report: Report) -> str:
    """The analysis of ``network`` (its ``report``) written out as markdown derivations."""
    t = report.totals
    bpv = report.bytes_per_value
    input_text = shape_text(report.input)
    counted = "counted" if report.conventions.get("count_input_nodes") else "not counted"
    product = "*".join(map(str, report.input))
    lines = [f"# {report.name}: every number, derived", "", f"*{report.conventions_text}*", "",
             "## Input", "", f"- **Shape**: {input_text}",
             f"- **Nodes**: {code(f'{product} = {t.input_nodes:,}')}"
             f" ({counted} in the node total)", "", "## Layers", ""]
    number = 0
    for row in report.layers:
        if row.is_block:
            lines.extend(_block_section(report, row))
            continue
        number += 1
        lines.extend(_row_section(network, report, row, number))
    leaves = report.leaves()
    kinds: dict[str, int] = {}
    for r in leaves:
        if r.params:
            kinds[r.type] = kinds.get(r.type, 0) + r.params
    split = " + ".join(f"{k} {v:,}" for k, v in kinds.items())
    nodes = [r.nodes for r in leaves]
    if report.conventions.get("count_input_nodes"):
        nodes = [t.input_nodes, *nodes]
    lines += [
        "## Totals", "",
        f"- **Parameters**: {code(sum_text([r.params for r in leaves], t.params))}"
        + (f" (by type: {split})" if len(kinds) > 1 else ""),
        f"  - weights {t.weights:,} + biases {t.biases:,}"
        + (f"; trainable {t.trainable_params:,}, non-trainable {t.non_trainable_params:,}"
           if t.non_trainable_params else ""),
        f"- **Parameter memory**: {code(f'{t.params:,} x {bpv} B = {t.param_bytes:,} B')} = "
        f"{human_bytes(t.param_bytes)} (1024^2) = {human_bytes(t.param_bytes, SI)} (1000^2)",
        f"- **Nodes**: {code(sum_text(nodes, t.nodes))} (input {t.input_nodes:,} {counted})",
        f"- **Activation memory**: {code(f'{t.nodes:,} x {bpv} B = {t.activation_bytes:,} B')} "
        f"({human_bytes(t.activation_bytes)}) per image"
        + (f"; x {t.batch} = {t.activation_bytes_batch:,} B for the batch" if t.batch > 1
           else ""),
        f"- **MACs**: {code(sum_text([r.macs for r in leaves], t.macs))}; "
        f"{code(f'FLOPs = 2 x MACs = {t.flops:,}')}",
        f"- **Training memory** ({t.optimizer}, batch {t.batch}): "
        + code(" + ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in t.training_breakdown.items())
               + f" = {t.training_bytes:,} B")
        + f" ({human_bytes(t.training_bytes)})",
        "",
    ]
    general = [n for n in report.notes if n.layer is None]
    if general:
        lines += ["## Notes", ""]
        lines += [f"- *{n.kind}*: {n.message}" for n in general]
        lines.append("")
    return "\n".join(lines)
