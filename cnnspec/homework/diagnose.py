"""Which usual mistake a wrong answer in a layer row matches.

Room: consumers (homework). A wrong cell is recomputed under other assumptions
and compared with what the student wrote (totals: :mod:`.diagnose_totals`). The
recomputing is never done here: other conventions (bias counted or not, floor
or ceil, input nodes counted) go through the analysis walk again; other layer
settings (padding applied once, no padding, stride ignored) go through
``conv_output_size``; other weight counts through ``counts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cnnspec.analysis import analyze, counts
from cnnspec.analysis.records import LayerRecord, Report, shape_text
from cnnspec.analysis.shapes import SizeError, conv_output_size
from cnnspec.conventions import Rounding
from cnnspec.errors import CnnspecError
from cnnspec.homework.answers import AnswerSheet
from cnnspec.homework.nodes import input_row, node_at
from cnnspec.homework.values import Given, squeeze
from cnnspec.homework.verdicts import GradeOptions, Mistake
from cnnspec.spec.tree import Network


@dataclass(frozen=True)
class Alternative:
    """The analysis under other conventions: a short label, what changed, the report."""

    label: str
    text: str
    report: Report


@dataclass
class Context:
    """Everything a diagnosis may look at: the spec, its report, the sheet, the options."""

    network: Network
    report: Report
    sheet: AnswerSheet
    options: GradeOptions
    _alternatives: list[Alternative] | None = field(default=None, repr=False)

    def alternatives(self) -> list[Alternative]:
        """Reports under each other convention a student might have used."""
        if self._alternatives is not None:
            return self._alternatives
        c = self.network.conventions
        pool = c.pool_rounding or c.rounding
        variants: list[tuple[dict[str, Any], str, str]] = [
            ({"conv_bias": not c.conv_bias}, "bias forgotten" if c.conv_bias else "bias added",
             "conv biases " + ("left out: each filter has one bias (+1 per filter)"
                               if c.conv_bias else "counted, but these conventions count none")),
            ({"fc_bias": not c.fc_bias}, "bias forgotten" if c.fc_bias else "bias added",
             "FC biases " + ("left out: each unit has one bias (+1 per unit)"
                             if c.fc_bias else "counted, but these conventions (fc_bias: false) "
                                               "count none, as the lecture's AlexNet table")),
        ]
        if c.conv_bias == c.fc_bias:
            variants.append(({"conv_bias": not c.conv_bias, "fc_bias": not c.fc_bias},
                             "bias forgotten" if c.conv_bias else "bias added",
                             "with the conv and FC biases "
                             + ("left out" if c.conv_bias else "counted")))
        for rounding in (Rounding.FLOOR, Rounding.CEIL):
            if rounding not in (c.rounding, pool) or c.rounding != pool:
                variants.append(({"rounding": rounding, "pool_rounding": None},
                                 f"{rounding.value} rounding",
                                 f"the stride does not divide, and {rounding.value} rounding "
                                 f"was used; these conventions use {c.rounding.value}"))
        variants.append(({"count_input_nodes": not c.count_input_nodes},
                         "input nodes counted" if not c.count_input_nodes else "input left out",
                         "the input volume " + ("added to" if not c.count_input_nodes
                                                else "left out of") + " the node total"))
        found = []
        for update, label, text in variants:
            network = self.network.model_copy(update={
                "conventions": c.model_copy(update=update), "claims": None})
            try:
                found.append(Alternative(label, text, analyze(network)))
            except CnnspecError:
                continue  # strict rounding may reject the other settings
        self._alternatives = found
        return found

    def given(self, row: str, cell: str) -> Given | None:
        """What the student wrote in ``row.cell`` (``None`` when blank or absent)."""
        if row == "total":
            return self.sheet.totals.get(cell)
        return self.sheet.rows.get(row, {}).get(cell)


# -- agreement ------------------------------------------------------------------------------
def agrees(given: Given, value: Any, options: GradeOptions, mb: bool = False,
           slack: Fraction = Fraction(0)) -> bool:
    """True when the written value stands for ``value`` (a shape, a count or MB)."""
    if given.shape is not None or isinstance(value, tuple):
        if given.shape is None or not isinstance(value, tuple):
            return False
        return squeeze(given.shape) == squeeze(value)
    if mb:
        slack = max(slack, options.mb_tolerance)
    return given.matches(Fraction(value), slack)


def mb_text(value: Fraction | int, base: int) -> str:
    """``237.92 MiB`` / ``249.48 MB``: the unit named by its base."""
    return f"{float(value):,.2f} {'MiB' if base == 1024 else 'MB'}"


# -- per-layer hypotheses -------------------------------------------------------------------
def _size(n: int, f: int, s: int, p: int | tuple[int, int], d: int) -> int:
    try:
        return conv_output_size(n, f, s, p, d, Rounding.STRICT).size
    except SizeError:
        return conv_output_size(n, f, s, p, d, Rounding.FLOOR).size


def _settings(node: Any, row: LayerRecord) -> tuple | None:
    """``(kernel, stride, padding, dilation)`` of a conv or pool row with explicit padding."""
    if node is None or row.kind not in ("conv", "pool") or len(row.input) != 3:
        return None
    kernel = node.kernel
    stride = node.stride or kernel
    padding = node.padding
    if isinstance(padding, str):
        padding = (0, 0) if padding == "valid" else None
    dilation = getattr(node, "dilation", (1, 1))
    return kernel, stride, padding, dilation


def output_hypotheses(ctx: Context, row: LayerRecord) -> list[tuple[str, str, tuple]]:
    """``(label, explanation, shape)`` for each usual way to get an output size wrong."""
    found: list[tuple[str, str, tuple]] = []
    for alt in ctx.alternatives():
        try:
            other = alt.report.row(row.name)
        except KeyError:
            continue
        if other.output != row.output:
            found.append((alt.label, f"{other.formulas.get('output', '')}: {alt.text}",
                          other.output))
    settings = _settings(node_at(ctx.network, row.path), row)
    if settings is None:
        return found
    (fh, fw), (sh, sw), padding, (dh, dw) = settings
    h, w, c = row.input
    depth = row.output[-1]
    if padding is not None and padding != (0, 0):
        ph, pw = padding
        once = (_size(h, fh, sh, (ph, 0), dh), _size(w, fw, sw, (pw, 0), dw), depth)
        found.append(("padding applied once",
                      f"({h} + {ph} - {fh})/{sh} + 1 gives {once[0]}: the padding goes on both "
                      f"sides, so the formula adds 2P = {2 * ph}, not P", once))
        bare = (_size(h, fh, sh, 0, dh), _size(w, fw, sw, 0, dw), depth)
        found.append(("padding left out",
                      f"({h} - {fh})/{sh} + 1 gives {bare[0]}: this layer pads {ph} on each "
                      f"side (+2P)", bare))
    if (sh, sw) != (1, 1) and padding is not None:
        ph, pw = padding
        unit = (_size(h, fh, 1, ph, dh), _size(w, fw, 1, pw, dw), depth)
        found.append(("stride ignored", f"({h} + 2*{ph} - {fh})/1 + 1 = {unit[0]} is the size "
                                        f"at stride 1; divide by the stride S = {sh}", unit))
    if row.kind == "conv" and c != depth:
        found.append(("depth = input depth",
                      f"a conv layer's output depth is its number of filters K = {depth}, "
                      f"not the input depth {c}", (*row.output[:2], c)))
    if row.output[:2] != (h, w):
        found.append(("size unchanged", f"{h}x{w} is the input's size; only 'same' padding "
                                        f"keeps it", (h, w, depth)))
    return [f for f in found if squeeze(f[2]) != squeeze(row.output)]


def _previous_output(ctx: Context, row: LayerRecord) -> tuple[str, Given] | None:
    """The student's output for the row feeding ``row`` (through rows they did not write)."""
    source = input_row(ctx.report.layers, row.path)
    while source is not None:
        given = ctx.given(source.name, "output")
        if given is not None and given.shape is not None:
            return source.name, given
        if source.output != source.input or source.is_block:
            return None
        source = input_row(ctx.report.layers, source.path)
    given = ctx.given("input", "output")
    return ("input", given) if given is not None and given.shape is not None else None


def diagnose_layer(ctx: Context, row: LayerRecord, cell: str, given: Given) -> list[Mistake]:
    """Usual mistakes that give the value written in ``row.cell``."""
    opts = ctx.options
    found: list[Mistake] = []
    if cell == "output":
        for label, text, shape in output_hypotheses(ctx, row):
            if agrees(given, shape, opts):
                found.append(Mistake(label, text))
        if given.shape is not None and len(given.shape) == 2 and len(row.output) == 3:
            found.append(Mistake("depth missing", f"write H x W x C: the depth is "
                                                  f"{row.output[-1]}"))
        return found
    if cell == "nodes":
        own = ctx.given(row.name, "output")
        if own is not None and own.shape is not None:
            own_nodes = counts.nodes(own.shape)
            right = squeeze(own.shape) == squeeze(row.output)
            if not right and agrees(given, own_nodes, opts):
                found.append(Mistake("follows from your output",
                                     f"{'*'.join(map(str, own.shape))} = {own_nodes:,} follows "
                                     f"from your output {own.text}, which is wrong"))
            elif right and not agrees(given, own_nodes, opts):
                found.append(Mistake("arithmetic slip", f"your output {own.text} is right, but "
                                                        f"{row.formulas.get('nodes', '')}"))
        for label, text, shape in output_hypotheses(ctx, row):
            if agrees(given, counts.nodes(shape), opts):
                found.append(Mistake(label, f"{text}; that output has "
                                            f"{'*'.join(map(str, shape))} = "
                                            f"{counts.nodes(shape):,} nodes"))
        if counts.nodes(row.input) != row.nodes and agrees(given, counts.nodes(row.input), opts):
            found.append(Mistake("input size", f"{counts.nodes(row.input):,} is the size of this "
                                               f"layer's input {shape_text(row.input)}"))
        return found
    if cell == "weights":
        return _weight_mistakes(ctx, row, given)
    if cell == "macs":
        if row.macs and agrees(given, 2 * row.macs, opts):
            found.append(Mistake("FLOPs for MACs", f"{2 * row.macs:,} = 2 x MACs counts the "
                                                   f"multiply and the add separately (FLOPs)"))
        if row.params and agrees(given, row.params, opts):
            found.append(Mistake("weights for MACs", "that is the weight count; MACs = H_out * "
                                                     "W_out * K * FH * FW * C_in"))
    return found


def _weight_mistakes(ctx: Context, row: LayerRecord, given: Given) -> list[Mistake]:
    opts = ctx.options
    found: list[Mistake] = []
    if not row.params:
        if given.number:
            found.append(Mistake("weights on a layer without any",
                                 f"a {row.type} layer has no weights: 0"))
        return found
    for alt in ctx.alternatives():
        try:
            other = alt.report.row(row.name)
        except KeyError:
            continue
        if other.params != row.params and agrees(given, other.params, opts):
            found.append(Mistake(alt.label, f"{other.formulas.get('params', other.params)}: "
                                            f"{alt.text}"))
    node = node_at(ctx.network, row.path)
    bias = row.biases > 0
    if row.kind == "conv" and node is not None and len(row.input) == 3:
        fh, fw = node.kernel
        c, k = row.input[-1], row.output[-1]
        flat = counts.conv_params(fh, fw, 1, k, 1, bias)
        if c > 1 and agrees(given, flat, opts):
            found.append(Mistake("filter depth forgotten",
                                 f"({fh}*{fw}{' + 1' if bias else ''})*{k} = {flat:,}: a filter "
                                 f"spans the full input depth, {fh}x{fw}x{c}"))
        one = counts.conv_params(fh, fw, c, 1, node.groups, bias)
        if k > 1 and agrees(given, one, opts):
            found.append(Mistake("one filter only", f"{one:,} is one filter; the layer has "
                                                    f"{k} of them: x {k}"))
        previous = _previous_output(ctx, row)
        if previous is not None and previous[1].shape[-1] != c:
            theirs = counts.conv_params(fh, fw, previous[1].shape[-1], k, node.groups, bias)
            if agrees(given, theirs, opts):
                found.append(Mistake("follows from your earlier answer",
                                     f"{theirs:,} uses the depth {previous[1].shape[-1]} of your "
                                     f"{previous[0]} output, which should be {c}"))
    if row.kind == "fc":
        previous = _previous_output(ctx, row)
        if previous is not None and squeeze(previous[1].shape) != squeeze(row.input):
            theirs = counts.fc_params(counts.nodes(previous[1].shape), row.output[-1], bias)
            if agrees(given, theirs, opts):
                found.append(Mistake("follows from your earlier answer",
                                     f"{theirs:,} uses your {previous[0]} output "
                                     f"{previous[1].text}, which should be "
                                     f"{shape_text(row.input)}"))
    if row.macs != row.params and agrees(given, row.macs, opts):
        found.append(Mistake("MACs for weights", f"{row.macs:,} is the MAC count "
                                                 f"({row.formulas.get('macs', '')})"))
    return found
