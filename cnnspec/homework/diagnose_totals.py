"""Which usual mistake a wrong total matches (weights, nodes, MACs, memory).

Room: consumers (homework). Partial counts come from ``cnnspec.analysis.claims``,
other conventions from the reports :class:`~cnnspec.homework.diagnose.Context`
keeps; a student's own rows are summed as they wrote them, to tell an
addition slip from a wrong row.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from cnnspec.analysis.claims import node_candidates, param_candidates
from cnnspec.homework.answers import asked_rows
from cnnspec.homework.diagnose import Context, agrees, mb_text
from cnnspec.homework.values import Given, about, figure
from cnnspec.homework.verdicts import Mistake

OWN_TOTAL_SLACK = Fraction(5, 100)  # "about": a memory figure derived from a rounded total


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
