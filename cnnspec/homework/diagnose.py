"""Which usual mistake a wrong answer in a layer row matches.

Room: consumers (homework). A wrong cell is recomputed under other assumptions
and compared with what the student wrote (totals: :mod:`.diagnose_totals`). The
recomputing is never done here: other conventions (bias counted or not, floor
or ceil, input nodes counted) go through the analysis walk again; other layer
settings (padding applied once, no padding, stride ignored) go through
``conv_output_size``; other weight counts through ``counts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from cnnspec.analysis import analyze, counts
from cnnspec.analysis.records import LayerRecord, Report, shape_text
from cnnspec.conventions import Rounding
from cnnspec.errors import CnnspecError
from cnnspec.homework.answers import AnswerSheet
from cnnspec.homework.mistakes import CATALOGUE, Inputs, describe, one_digit_slip
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
    rules: Any = None  # a key's KeyRules (points, tolerance, accepted alternatives)

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


# -- per-layer diagnoses: the catalogue of mistake models on the student's own numbers ---------
def _settings(node: Any, row: LayerRecord) -> tuple | None:
    """``(kernel, stride, padding, dilation, groups)`` of a conv or pool row; padding is
    ``None`` when it is not explicit ('same')."""
    if node is None or row.kind not in ("conv", "pool") or len(row.input) != 3:
        return None
    kernel = node.kernel
    stride = node.stride or kernel
    padding = node.padding
    if isinstance(padding, str):
        padding = (0, 0) if padding == "valid" else None
    dilation = getattr(node, "dilation", (1, 1))
    return kernel, stride, padding, dilation, getattr(node, "groups", 1)


def right_inputs(ctx: Context, row: LayerRecord) -> Inputs | None:
    """The inputs of ``row``'s formulas as the analysis has them (``None``: not a conv,
    pool or FC row the catalogue knows)."""
    c = ctx.network.conventions
    image_c = ctx.report.input[-1]
    if row.kind == "fc" and row.output:
        n_in = counts.nodes(row.input)
        return Inputs("fc", 1, 1, n_in, row.output[-1], bias=c.fc_bias, image_c=image_c,
                      flat_in="x".join(map(str, row.input)))
    settings = _settings(node_at(ctx.network, row.path), row)
    if settings is None:
        return None
    (fh, fw), (sh, sw), padding, (dh, dw), groups = settings
    ph, pw = padding if padding is not None else (None, None)
    h, w, depth = row.input
    earlier = [r.output[-1] for r in ctx.report.layers[:row.index]
               if r.kind == "conv" and not r.is_block and r.output and r.output[-1] != depth]
    return Inputs(row.kind, h, w, depth, row.output[-1], fh, fw, sh, sw, ph, pw, dh, dw,
                  groups if row.kind == "conv" else 1, c.conv_bias if row.kind == "conv" else
                  False, c.rounding_for(row.kind), image_c, earlier[-1] if earlier else None)


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


def their_inputs(ctx: Context, row: LayerRecord, right: Inputs) -> tuple[Inputs, str]:
    """``right`` with the input volume the student wrote upstream, and where they wrote it
    (``""`` when the inputs are the right ones)."""
    previous = _previous_output(ctx, row)
    if previous is None:
        return right, ""
    name, given = previous
    shape = given.shape
    if right.kind == "fc":
        n_in = counts.nodes(shape)
        if n_in == right.c:
            return right, ""
        return replace(right, c=n_in, flat_in="x".join(map(str, shape))), \
            f"your {name} output {given.text}"
    if len(shape) != 3 or tuple(shape) == (right.h, right.w, right.c):
        return right, ""
    h, w, c = shape
    return replace(right, h=h, w=w, c=c), f"your {name} output {given.text}"


def catalogue_mistakes(ctx: Context, row: LayerRecord, cell: str,
                       given: Given) -> list[Mistake]:
    """Every mistake model of :data:`CATALOGUE` whose value, worked from the student's own
    upstream numbers, is what they wrote; the right method on their wrong upstream value is
    a consequential error. A one-digit slip when nothing else fits."""
    right = right_inputs(ctx, row)
    if right is None:
        return []
    theirs, source = their_inputs(ctx, row, right)
    found: list[Mistake] = []
    own = theirs.value(cell)
    if source and own is not None and own != right.value(cell) and agrees(given, own,
                                                                           ctx.options):
        formula = theirs.weights_text() if cell == "weights" else theirs.size_text()
        shown = f"{own:,}" if isinstance(own, int) else shape_text(own)
        found.append(Mistake("follows from your earlier answer",
                             f"{formula} = {shown} uses {source}, which should be "
                             f"{shape_text(row.input)}", consequential=True))
    for model in CATALOGUE:
        if cell not in model.cells:
            continue
        changed = model.change(theirs)
        value = changed.value(cell) if changed is not None else None
        if value is None or value == own or not agrees(given, value, ctx.options):
            continue
        text = describe(model, theirs, changed, cell, value)
        found.append(Mistake(model.label, text + (f" (from {source})" if source else "")))
    if not found and (given.integer is not None or given.shape is not None):
        written = given.shape if given.shape is not None else given.integer
        for target in (own, right.value(cell)):
            if target is not None and isinstance(written, tuple) != isinstance(target, tuple):
                continue
            if target is not None and one_digit_slip(written, target):
                shown = f"{target:,}" if isinstance(target, int) else shape_text(target)
                found.append(Mistake("one-digit slip",
                                     f"{given.text} is {shown} with one digit changed: the "
                                     f"method is right, check the copying"
                                     + (f" (from {source})" if source and target == own
                                        else "")))
                break
    return found


def no_match_text(ctx: Context, row: LayerRecord | None, given: Given) -> str:
    """What to say when no mistake model gives the student's value: plainly that."""
    where = ""
    previous = _previous_output(ctx, row) if row is not None else None
    if previous is not None:
        where = f" from your {previous[0]} output {previous[1].text}"
    return (f"no usual mistake gives {given.text}{where}: none of the mistake models "
            f"(input depth, bias, padding, stride, rounding, FW for FH, one-digit slip, ...) "
            f"fits it")


def diagnose_layer(ctx: Context, row: LayerRecord, cell: str, given: Given) -> list[Mistake]:
    """Usual mistakes that give the value written in ``row.cell``."""
    opts = ctx.options
    found: list[Mistake] = []
    if cell == "output":
        found += catalogue_mistakes(ctx, row, cell, given)
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
                return [Mistake("follows from your output",
                                f"{'*'.join(map(str, own.shape))} = {own_nodes:,} follows "
                                f"from your output {own.text}, which is wrong",
                                consequential=True)]
            if right and not agrees(given, own_nodes, opts):
                found.append(Mistake("arithmetic slip", f"your output {own.text} is right, but "
                                                        f"{row.formulas.get('nodes', '')}"))
        found += catalogue_mistakes(ctx, row, cell, given)
        if counts.nodes(row.input) != row.nodes and agrees(given, counts.nodes(row.input), opts):
            found.append(Mistake("input size", f"{counts.nodes(row.input):,} is the size of this "
                                               f"layer's input {shape_text(row.input)}"))
        return found
    if cell == "weights":
        if not row.params:
            if given.number:
                found.append(Mistake("weights on a layer without any",
                                     f"a {row.type} layer has no weights: 0"))
            return found
        found += catalogue_mistakes(ctx, row, cell, given)
        if row.macs != row.params and agrees(given, row.macs, opts):
            found.append(Mistake("MACs for weights", f"{row.macs:,} is the MAC count "
                                                     f"({row.formulas.get('macs', '')})"))
        return found
    if cell == "macs":
        if row.macs and agrees(given, 2 * row.macs, opts):
            found.append(Mistake("FLOPs for MACs", f"{2 * row.macs:,} = 2 x MACs counts the "
                                                   f"multiply and the add separately (FLOPs)"))
        if row.params and agrees(given, row.params, opts):
            found.append(Mistake("weights for MACs", "that is the weight count; MACs = H_out * "
                                                     "W_out * K * FH * FW * C_in"))
    return found
