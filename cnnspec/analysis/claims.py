"""Checking figures a source prints against the analysis, and explaining disagreements.

Room: analysis. A claim that does not match is compared with the sums a
careless count would give (only some rows, biases left out, the input
counted), so the note can say *which* count the source made.
"""

from __future__ import annotations

from collections.abc import Iterable

from cnnspec.analysis.records import LayerRecord, Note, Report
from cnnspec.spec.tree import Claims
from cnnspec.units import SI, human_bytes

_KIND_NAMES = {"conv": "conv", "fc": "FC", "batchnorm": "BN"}


def _rows_sum(rows: Iterable[LayerRecord], attr: str) -> int:
    return sum(getattr(r, attr) for r in rows)


def param_candidates(report: Report) -> list[tuple[str, int]]:
    """Plausible ways to count parameters, each with a description."""
    rows = report.leaves()
    out: list[tuple[str, int]] = []
    by_kind: dict[str, list[LayerRecord]] = {}
    for r in rows:
        if r.params:
            by_kind.setdefault(r.kind, []).append(r)
    for kind, group in by_kind.items():
        names = " + ".join(r.name for r in group) if len(group) <= 6 else f"{len(group)} rows"
        total = _rows_sum(group, "params")
        out.append((f"the {_KIND_NAMES.get(kind, kind)} rows only ({names} = {total:,})", total))
    out.append(("weights without any bias", _rows_sum(rows, "weights")))
    out.append(("trainable parameters only", _rows_sum(rows, "trainable")))
    fc_units = sum(r.output[0] for r in rows if r.kind == "fc" and r.biases == 0)
    if fc_units:
        out.append(("all rows with an FC bias added", _rows_sum(rows, "params") + fc_units))
    return out


def node_candidates(report: Report) -> list[tuple[str, int]]:
    """Plausible ways to count stored activations."""
    rows = report.leaves()
    nodes = _rows_sum(rows, "nodes")
    weighted = [r for r in rows if r.params]
    return [
        (f"every output plus the input ({report.totals.input_nodes:,})",
         nodes + report.totals.input_nodes),
        ("every output without the input", nodes),
        ("outputs of the layers with weights only", _rows_sum(weighted, "nodes")),
    ]


def explain(claimed: int, candidates: list[tuple[str, int]]) -> str | None:
    """The description of the candidate equal to ``claimed``, or ``None``."""
    for text, value in candidates:
        if value == claimed:
            return text
    return None


def check_claims(report: Report, claims: Claims) -> list[Note]:
    """One note per stated figure: matches, or what it actually counts."""
    notes: list[Note] = []
    t = report.totals
    bpv = report.bytes_per_value
    src = f" ({claims.source})" if claims.source else ""
    kinds = {}
    for r in report.leaves():
        if r.params:
            kinds[r.kind] = kinds.get(r.kind, 0) + r.params
    split = " + ".join(f"{_KIND_NAMES.get(k, k)} {v:,}" for k, v in kinds.items())
    params_ok = True
    if claims.params is not None:
        if claims.params == t.params:
            notes.append(Note(None, f"stated parameter total {claims.params:,}{src} matches",
                              "claim"))
        else:
            params_ok = False
            why = explain(claims.params, param_candidates(report))
            counted = f"it counts {why}" if why else "no simple partial count gives it"
            notes.append(Note(
                None,
                f"stated weight total {claims.params:,}{src} is not the sum of all rows: "
                f"{counted}; all rows sum to {split} = {t.params:,}",
                "claim",
            ))
    if claims.param_bytes is not None:
        values, rest = divmod(claims.param_bytes, bpv)
        if claims.param_bytes == t.param_bytes:
            text = (f"stated parameter memory {claims.param_bytes:,} bytes{src} matches: "
                    f"{t.params:,} values x {bpv} B ({human_bytes(t.param_bytes)}, "
                    f"{human_bytes(t.param_bytes, SI)} in 1000-based units)")
            if not params_ok:
                text += (f"; it counts all {t.params:,} weights, so the stated weight total "
                         f"({claims.params:,}) and the stated memory disagree")
            notes.append(Note(None, text, "claim"))
        else:
            why = explain(values, param_candidates(report)) if not rest else None
            notes.append(Note(
                None,
                f"stated parameter memory {claims.param_bytes:,} bytes{src} differs from "
                f"{t.param_bytes:,} ({t.params:,} x {bpv} B)"
                + (f"; it is {values:,} values: {why}" if why else ""),
                "claim",
            ))
    if claims.nodes is not None:
        if claims.nodes == t.nodes:
            notes.append(Note(
                None,
                f"stated node total {claims.nodes:,}{src} matches: the sum of every output row"
                + ("" if report.conventions.get("count_input_nodes") else
                   f", the input ({t.input_nodes:,}) excluded")
                + f"; x {bpv} B = {claims.nodes * bpv:,} bytes ({human_bytes(claims.nodes * bpv)})",
                "claim",
            ))
        else:
            why = explain(claims.nodes, node_candidates(report))
            notes.append(Note(
                None,
                f"stated node total {claims.nodes:,}{src} differs from {t.nodes:,}"
                + (f"; it counts {why}" if why else ""),
                "claim",
            ))
    if claims.macs is not None:
        verdict = "matches" if claims.macs == t.macs else f"differs from {t.macs:,}"
        notes.append(Note(None, f"stated MACs {claims.macs:,}{src} {verdict}", "claim"))
    if claims.activation_bytes is not None:
        verdict = ("matches" if claims.activation_bytes == t.activation_bytes else
                   f"differs from {t.activation_bytes:,}")
        notes.append(Note(None, f"stated activation memory {claims.activation_bytes:,} bytes"
                          f"{src} {verdict}", "claim"))
    return notes
