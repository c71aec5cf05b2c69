"""Which usual mistake a wrong answer matches.

Room: consumers (homework). A wrong cell is recomputed under other assumptions
and compared with what the student wrote. The recomputing is never done here:
other conventions (bias counted or not, floor or ceil, input nodes counted) go
through the analysis walk again; other layer settings (padding applied once,
no padding, stride ignored) go through ``conv_output_size``; other weight
counts through ``counts``; partial totals through ``claims``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cnnspec.analysis import analyze, counts
from cnnspec.analysis.claims import node_candidates, param_candidates
from cnnspec.analysis.records import LayerRecord, Report, shape_text
from cnnspec.analysis.shapes import SizeError, conv_output_size
from cnnspec.conventions import Rounding
from cnnspec.errors import CnnspecError
from cnnspec.homework.answers import AnswerSheet, asked_rows
from cnnspec.homework.nodes import node_at
from cnnspec.homework.values import Given, about, figure, squeeze
from cnnspec.homework.verdicts import GradeOptions, Mistake
from cnnspec.spec.tree import Network

OWN_TOTAL_SLACK = Fraction(5, 100)  # "about": a memory figure derived from a rounded total


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
    """The student's output for the row feeding ``row`` (skipping rows they did not write)."""
    leaves = ctx.report.leaves()
    at = next((i for i, r in enumerate(leaves) if r.name == row.name), None)
    if at is None:
        return None
    for earlier in reversed(leaves[:at]):
        given = ctx.given(earlier.name, "output")
        if given is not None and given.shape is not None:
            return earlier.name, given
        if earlier.output != row.input:
            return None
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


# -- totals ---------------------------------------------------------------------------------
def own_sum(ctx: Context, cell: str) -> int | None:
    """The sum of the student's own row values for ``cell`` when every needed row is exact."""
    rows = asked_rows(ctx.report)
    covered = {r.name for r in rows}
    attr = "params" if cell == "weights" else cell
    if any(getattr(r, attr) and r.name not in covered for r in ctx.report.leaves()):
        return None  # the total includes rows the table does not ask for
    names = [r.name for r in rows if getattr(r, attr)]
    if cell == "nodes" and ctx.network.conventions.count_input_nodes:
        names.insert(0, "input")
    total = 0
    for name in names:
        given = ctx.given(name, cell)
        if given is None or given.integer is None:
            return None
        total += given.integer
    return total


def _candidates(ctx: Context, cell: str) -> list[tuple[str, str, int]]:
    """``(label, description, value)``: partial counts a total might be."""
    report = ctx.report
    out: list[tuple[str, str, int]] = []
    source = param_candidates(report) if cell == "weights" else node_candidates(report)
    for text, value in source:
        label = "only some rows" if "rows only" in text or "layers with weights" in text \
            else "input nodes counted" if "plus the input" in text else "another count"
        out.append((label, f"it counts {text}", value))
    attr = "params" if cell == "weights" else cell
    for alt in ctx.alternatives():
        total = getattr(alt.report.totals, attr)
        out.append((alt.label, alt.text, total))
    return out


def diagnose_total(ctx: Context, cell: str, given: Given, expected: Any) -> list[Mistake]:
    """Usual mistakes behind a wrong total (weights, nodes, macs or memory)."""
    opts = ctx.options
    t = ctx.report.totals
    bpv = ctx.report.bytes_per_value
    found: list[Mistake] = []
    if cell in ("weights", "nodes", "macs"):
        if cell == "macs":
            if agrees(given, t.flops, opts):
                found.append(Mistake("FLOPs for MACs", f"{t.flops:,} = 2 x MACs (FLOPs)"))
        else:
            explained: set[int] = set()
            for label, text, value in _candidates(ctx, cell):
                if value != expected and value not in explained and agrees(given, value, opts):
                    explained.add(value)
                    shown = text if f"{value:,}" in text else f"{text} = {value:,}"
                    found.append(Mistake(label, shown))
        own = own_sum(ctx, cell)
        if own is not None and own != expected and agrees(given, own, opts):
            found.append(Mistake("follows from your rows",
                                 f"it is the sum of your rows ({own:,}), and some rows are wrong"))
        elif own is not None and not agrees(given, own, opts):
            right = " (which is right)" if own == expected else ""
            found.append(Mistake("not the sum of the rows",
                                 f"the lines add up to {own:,} (about {about(own)}){right}"))
        return _dedupe(found)
    counted, total_bytes = ("weights", t.param_bytes) if cell.startswith("memory") else \
        ("nodes", t.activation_bytes)
    base = 1 if cell.endswith("bytes") else (1024 if cell.endswith("mib") else opts.mb_base)
    mb = base != 1
    scale = Fraction(1, base * base) if mb else Fraction(1)
    if mb:
        other = 1000 if base == 1024 else 1024
        swapped = Fraction(total_bytes, other * other)
        if agrees(given, swapped, opts, mb=True):
            found.append(Mistake(
                "1000 vs 1024",
                f"{total_bytes:,} B / {other}^2 = {mb_text(swapped, other)}; here MB means "
                f"{base}^2 bytes: {total_bytes:,} / {base}^2 = "
                f"{mb_text(Fraction(total_bytes, base * base), base)}"
                + ("" if cell.endswith("mib") else f" (use --mb-base {other} if your course "
                                                   f"means {other}^2)")))
        byte_cell = cell.replace("_mb", "_bytes").replace("_mib", "_bytes")
        own_bytes = ctx.given("total", byte_cell)
        if own_bytes is not None and own_bytes.integer is not None and \
                own_bytes.integer != total_bytes and \
                agrees(given, own_bytes.integer * scale, opts, mb=True):
            found.append(Mistake("follows from your byte figure",
                                 f"{own_bytes.text} B / {base}^2 = "
                                 f"{mb_text(own_bytes.integer * scale, base)}, and that figure "
                                 f"is wrong"))
    for label, text, value in _candidates(ctx, counted):
        if value * bpv != total_bytes and agrees(given, value * bpv * scale, opts, mb=mb):
            found.append(Mistake(label, f"{value:,} x {bpv} B: {text}"))
    own = ctx.given("total", counted)
    if own is not None and own.number is not None and own.number != total_bytes // bpv:
        slack = abs(own.number) * bpv * scale * OWN_TOTAL_SLACK if not own.exact else Fraction(0)
        mine = own.number * bpv
        if agrees(given, mine * scale, opts, mb=mb, slack=slack):
            shown = f" ({mb_text(Fraction(mine, 1024**2), 1024)}, {mb_text(mine / 10**6, 1000)})"
            found.append(Mistake(f"follows from your {counted[:-1]} total",
                                 f"{figure(given.number)} is about your {counted[:-1]} total "
                                 f"{own.text} x {bpv} B = {figure(mine)} B{shown}, and that "
                                 f"total is wrong"))
    for size in (8, 2, 1):
        if size != bpv and agrees(given, total_bytes // bpv * size * scale, opts, mb=mb):
            found.append(Mistake("bytes per value",
                                 f"that uses {size} B per value; "
                                 f"{ctx.network.conventions.dtype} is {bpv} B"))
    return _dedupe(found)


def _dedupe(found: list[Mistake]) -> list[Mistake]:
    seen: set[tuple[str, str]] = set()
    out = []
    for m in found:
        if (m.label, m.text) not in seen:
            seen.add((m.label, m.text))
            out.append(m)
    return out
