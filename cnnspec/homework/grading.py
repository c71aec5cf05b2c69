"""Grading an answer file against the analysis of its spec.

Room: consumers (homework). Expected values are read from the report
(``Spec.report()`` under the answer file's conventions); nothing is
recomputed here. Each wrong cell gets the derivation of the right value and
the usual mistakes it matches (:mod:`cnnspec.homework.diagnose`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from cnnspec.analysis import analyze
from cnnspec.analysis.records import LayerRecord, Report, shape_text
from cnnspec.errors import DataError, Location
from cnnspec.homework.answers import INPUT_ROW, TOTAL_ROW, AnswerSheet, asked_rows
from cnnspec.homework.diagnose import (
    Alternative,
    Context,
    agrees,
    diagnose_layer,
    mb_text,
    no_match_text,
)
from cnnspec.homework.diagnose_totals import diagnose_total
from cnnspec.homework.explain import sum_text
from cnnspec.homework.values import Given, figure
from cnnspec.homework.verdicts import (
    CellResult,
    Grade,
    GradeOptions,
    Mistake,
    Rounding,
    Verdict,
)
from cnnspec.spec.tree import Network


@dataclass(frozen=True)
class Expected:
    """The right value of a cell, how to show it and how it is derived."""

    value: Any
    display: str
    formula: str
    mb: bool = False


def resolve_network(sheet: AnswerSheet, spec: str | None = None,
                    conventions: str | None = None, base: Network | None = None,
                    input_shape: str | None = None) -> Network:
    """The network to grade against: ``spec`` (else the sheet's), under the right conventions.

    ``conventions`` (a preset name) wins over the sheet's, which wins over the spec's own.
    ``base`` is ``spec`` already loaded (a teacher's batch loads it once);
    ``input_shape`` gives a string spec its input.
    """
    from cnnspec.api import load
    from cnnspec.spec.load import make_conventions

    if base is not None:
        network = base
    elif spec is None and sheet.spec_text is not None:
        from cnnspec.spec.load import from_yaml, with_overrides

        network = with_overrides(from_yaml(sheet.spec_text, f"{sheet.source} (spec:)"),
                                 input_shape, conventions)
    else:
        text = spec or sheet.spec
        if text is None:
            raise DataError("no spec to check the answers against", Location(sheet.source),
                            "give --spec SPEC, or write `spec: alexnet` in the answer file")
        if spec is None:
            beside = Path(sheet.source).parent / text
            if beside.is_file():
                text = str(beside)
        network = load(text, input_shape=input_shape, conventions=conventions).network
    if conventions is None and sheet.conventions is not None:
        chosen = make_conventions(sheet.conventions,
                                  sheet.conventions_loc or Location(sheet.source))
        network = network.model_copy(update={"conventions": chosen})
    return network


# -- expected values ------------------------------------------------------------------------
def _layer_expected(row: LayerRecord, cell: str) -> Expected:
    if cell == "output":
        formula = row.formulas.get("output", "")
        if row.kind == "conv":
            formula += f"; depth = {row.output[-1]} filters"
        elif row.kind in ("pool", "subsample"):
            formula += f"; pooling keeps the depth {row.output[-1]}"
        elif row.kind == "fc":
            formula = f"one output per unit: {row.output[-1]:,}"
        elif not formula:
            formula = f"{row.type} keeps its input's shape"
        return Expected(row.output, shape_text(row.output), formula)
    if cell == "nodes":
        formula = row.formulas.get("nodes") or f"{'*'.join(map(str, row.output))} = {row.nodes:,}"
        return Expected(row.nodes, f"{row.nodes:,}", formula)
    if cell == "weights":
        formula = row.formulas.get("params") if row.params else f"a {row.type} layer has no " \
                                                                 f"weights"
        return Expected(row.params, f"{row.params:,}", formula or f"{row.params:,}")
    return Expected(row.macs, f"{row.macs:,}", row.formulas.get("macs", "no MACs counted"))


def _input_expected(ctx: Context, cell: str) -> Expected:
    report = ctx.report
    if cell == "output":
        return Expected(report.input, shape_text(report.input), "the input volume H x W x C")
    if cell == "nodes":
        n = report.totals.input_nodes
        return Expected(n, f"{n:,}", f"{'*'.join(map(str, report.input))} = {n:,}")
    return Expected(0, "0", "the input has no weights")


def _total_expected(ctx: Context, cell: str) -> Expected:
    report, t, bpv = ctx.report, ctx.report.totals, ctx.report.bytes_per_value
    leaves = report.leaves()
    if cell == "weights":
        return Expected(t.params, f"{t.params:,}", sum_text([r.params for r in leaves], t.params))
    if cell == "nodes":
        values = [r.nodes for r in leaves]
        if report.conventions.get("count_input_nodes"):
            values = [t.input_nodes, *values]
        where = "included" if report.conventions.get("count_input_nodes") else "not counted"
        return Expected(t.nodes, f"{t.nodes:,}",
                        f"{sum_text(values, t.nodes)} (input {t.input_nodes:,} {where})")
    if cell == "macs":
        return Expected(t.macs, f"{t.macs:,}", sum_text([r.macs for r in leaves], t.macs))
    count, total = (t.params, t.param_bytes) if cell.startswith("memory") else \
        (t.nodes, t.activation_bytes)
    if cell.endswith("bytes"):
        return Expected(total, f"{total:,}", f"{count:,} x {bpv} B = {total:,} B")
    base = 1024 if cell.endswith("mib") else ctx.options.mb_base
    value = Fraction(total, base * base)
    return Expected(value, mb_text(value, base),
                    f"{count:,} x {bpv} B = {total:,} B; / {base}^2 = {mb_text(value, base)}",
                    mb=True)


# -- verdicts -------------------------------------------------------------------------------
def judge(ctx: Context, given: Given | None, expected: Expected,
          extra_slack: Fraction = Fraction(0)) -> tuple[Verdict, list[Mistake]]:
    """The verdict on one written value (and a mistake when only the rounding is wrong);
    ``extra_slack`` is a key's tolerance for this cell."""
    if given is None:
        return Verdict.MISSING, []
    opts = ctx.options
    if opts.rounding is Rounding.EXACT and not given.exact and not expected.mb \
            and not extra_slack:
        return Verdict.WRONG, [Mistake("rounded figure", f"{given.text} is rounded; exact "
                                                         f"numbers are asked for "
                                                         f"(--rounding exact)")]
    slack = given.tolerance if opts.rounding is Rounding.LOOSE else Fraction(0)
    slack += extra_slack
    ok = agrees(given, expected.value, opts, mb=expected.mb, slack=slack)
    return (Verdict.CORRECT if ok else Verdict.WRONG), []


def _working_notes(given: Given) -> list[str]:
    """A slip between the student's working and their answer."""
    if given.working_value is None:
        return []
    if given.shape is not None:
        from cnnspec.analysis.counts import nodes

        product = nodes(given.shape)
        if given.working_value != product:
            return [f"your working says {given.working}, but {'*'.join(map(str, given.shape))} "
                    f"= {product:,}"]
        return []
    if not given.matches(given.working_value):
        return [f"your working {given.working} gives {figure(given.working_value)}, "
                f"not {given.text.split('=')[-1].strip(' ()')}"]
    return []


def _cell(ctx: Context, row: str, cell: str, given: Given | None,
          expected: Expected, record: LayerRecord | None) -> CellResult:
    rules = ctx.rules
    slack = rules.slack(row, cell, expected.value) if rules is not None else Fraction(0)
    verdict, mistakes = judge(ctx, given, expected, slack)
    notes: list[str] = []
    if rules is not None and given is not None and verdict is Verdict.WRONG:
        accepted = rules.accepted(row, cell, given)
        if accepted is not None:
            verdict, mistakes = Verdict.CORRECT, []
            notes.append(f"accepted: {accepted.note}")
    if slack and verdict is Verdict.CORRECT and given is not None and not agrees(
            given, expected.value, ctx.options, mb=expected.mb):
        notes.append(f"within the key's tolerance of {figure(slack)}")
    if given is not None:
        notes += _working_notes(given)
        if verdict is Verdict.WRONG and not mistakes:
            if row == TOTAL_ROW:
                mistakes = diagnose_total(ctx, cell, given, expected.value)
            elif record is not None:
                mistakes = diagnose_layer(ctx, record, cell, given)
            if not mistakes:
                notes.append(no_match_text(ctx, record, given))
        if verdict is Verdict.CORRECT:
            notes += _remarks(ctx, row, cell, given, expected)
    if row == TOTAL_ROW and cell == "weights":
        notes += [n.message for n in ctx.report.notes if n.kind == "convention"]
    if record is not None and cell == "output":
        notes += [n.message for n in ctx.report.notes if n.layer == row and n.kind == "rounding"]
    result = CellResult(row, cell, verdict, given.text if given is not None else "",
                        expected.display, expected.formula, mistakes, notes,
                        given.loc if given is not None else ctx.sheet.row_locs.get(row))
    return score_cell(result, rules)


def score_cell(result: CellResult, rules: Any) -> CellResult:
    """``result`` with the key's points (none: one point when correct)."""
    if rules is None:
        return result
    return replace(result, max_points=rules.max_points(result.row, result.cell),
                   points=rules.earned(result.row, result.cell,
                                       result.verdict is Verdict.CORRECT, result.consequential))


def _remarks(ctx: Context, row: str, cell: str, given: Given, expected: Expected) -> list[str]:
    """Notes on a correct cell: a rounded figure that fits other counts too; totals that
    disagree with each other."""
    if row != TOTAL_ROW:
        return []
    t, bpv = ctx.report.totals, ctx.report.bytes_per_value
    notes = []
    if cell in ("weights", "nodes") and not given.exact:
        attr = "params" if cell == "weights" else "nodes"
        others = [(abs(getattr(a.report.totals, attr) - expected.value), a)
                  for a in ctx.alternatives()
                  if getattr(a.report.totals, attr) != expected.value
                  and agrees(given, getattr(a.report.totals, attr), ctx.options)]
        if others:
            _, alt = max(others, key=lambda pair: pair[0])
            notes.append(f"{given.text} also fits {getattr(alt.report.totals, attr):,} "
                         f"({alt.text}): a rounded figure cannot tell the two counts apart")
    if cell == "nodes" and given.exact:
        counted = ctx.report.conventions.get("count_input_nodes")
        notes.append("the sum of every output row" + (", the input included" if counted else
                                                      f", the input ({t.input_nodes:,}) "
                                                      f"excluded"))
    if cell.startswith(("memory", "node_memory")):
        counted = "weights" if cell.startswith("memory") else "nodes"
        value = t.params if counted == "weights" else t.nodes
        total_bytes = t.param_bytes if counted == "weights" else t.activation_bytes
        theirs = ctx.given(TOTAL_ROW, counted)
        if theirs is not None and not agrees(theirs, value, ctx.options):
            notes.append(f"it counts all {value:,} {counted} ({total_bytes:,} B / {bpv} B), so "
                         f"it disagrees with your {counted[:-1]} total {theirs.text}")
    return notes


@dataclass
class Analysed:
    """A network's report, and its reports under other conventions once a diagnosis needed
    them: worked out once per distinct spec of a batch, shared by its submissions."""

    report: Report
    alternatives: list[Alternative] | None = None


def grade(sheet: AnswerSheet, network: Network, options: GradeOptions | None = None,
          submission: str | None = None, analysed: Analysed | None = None,
          rules: Any = None) -> Grade:
    """Grade ``sheet`` against ``network`` (its analysis under its conventions).

    ``analysed`` is the network's analysis already made (a batch shares it);
    ``rules`` a key's points, tolerance and accepted alternatives.
    """
    options = options or GradeOptions()
    options = replace(options, mb_base=options.mb_base or sheet.mb_base or 1024)
    report = analysed.report if analysed is not None else analyze(network)
    ctx = Context(network, report, sheet, options,
                  analysed.alternatives if analysed is not None else None, rules)
    try:
        return _grade(ctx, sheet, submission)
    finally:
        if analysed is not None and analysed.alternatives is None:
            analysed.alternatives = ctx._alternatives


def _grade(ctx: Context, sheet: AnswerSheet, submission: str | None) -> Grade:
    report = ctx.report
    by_name = {r.name: r for r in report.layers}
    for name in sheet.rows:
        if name != INPUT_ROW and name not in by_name:
            from cnnspec.spec.vocabulary import suggest

            guess = suggest(name, list(by_name))
            raise DataError(
                f"{report.name} has no row named {name!r}", sheet.row_locs.get(name),
                (f"did you mean {guess!r}? " if guess else "")
                + "`cnnspec check --template SPEC` lists the row names",
            )
    cells: list[CellResult] = []
    if INPUT_ROW in sheet.rows:
        for cell, given in sheet.rows[INPUT_ROW].items():
            if given is None and cell in ("weights", "macs"):
                continue  # the input has none: a blank is right
            cells.append(_cell(ctx, INPUT_ROW, cell, given, _input_expected(ctx, cell), None))
    asked = {r.name for r in asked_rows(report)}
    for record in report.layers:
        written = sheet.rows.get(record.name)
        if record.name not in asked and written is None:
            continue
        written = written or {}
        wanted = ["output", "nodes"] + (["weights"] if record.params else [])
        wanted += [c for c in written if c not in wanted]
        for cell in wanted:
            given = written.get(cell)
            if given is None and cell == "weights" and not record.params:
                continue  # a blank weights cell on a layer without weights is right
            cells.append(_cell(ctx, record.name, cell, given, _layer_expected(record, cell),
                               record))
    for cell, given in sheet.totals.items():
        cells.append(_cell(ctx, TOTAL_ROW, cell, given, _total_expected(ctx, cell), None))
    return Grade(submission or sheet.source, sheet.name, report.name, report.conventions_text,
                 cells)
