"""The analysis of a whole network: run the walk, then sum the leaf rows into totals.

Room: analysis.
"""

from __future__ import annotations

from cnnspec.analysis import counts
from cnnspec.analysis.design import design_notes
from cnnspec.analysis.memory import training_memory
from cnnspec.analysis.missing import require_sizes
from cnnspec.analysis.receptive import Field
from cnnspec.analysis.records import LayerRecord, Note, Report, Totals
from cnnspec.analysis.walk import Walker, WalkState, rounding_note
from cnnspec.conventions import Conventions
from cnnspec.spec.budget import collector_paused
from cnnspec.spec.tree import Network


def analyze(network: Network, *, batch: int = 1, optimizer: str = "adam",
            include_aux: bool = False) -> Report:
    """Walk ``network`` once and return its :class:`Report`.

    Totals are sums over leaf rows; blocks only group them, so totals do not
    depend on how deep a table is shown.
    """
    with collector_paused():
        return _analyze(network, batch, optimizer, include_aux)


def _analyze(network: Network, batch: int, optimizer: str, include_aux: bool) -> Report:
    conventions = network.conventions
    require_sizes(network)
    assert network.input is not None
    walk = Walker(conventions)
    start = WalkState(tuple(network.input), Field(1, 1), Field(1, 1))
    walk._flat(network.layers, start, "", 0)
    rows = walk.rows
    for i, r in enumerate(rows):  # block rows were inserted before their children
        object.__setattr__(r, "path", r.path.lstrip("."))
        object.__setattr__(r, "index", i)
    leaves = [r for r in rows if not r.is_block]
    main = [r for r in leaves if r.main]
    aux = [r for r in leaves if not r.main]
    counted = main + (aux if include_aux else [])
    notes = walk.notes + convention_notes(main, conventions) + design_notes(network,
                                                                            walk.node_rows)
    if walk.rounded:
        notes.insert(0, rounding_note(conventions, walk.rounded))
    input_nodes = counts.nodes(tuple(network.input))
    nodes = sum(r.nodes for r in counted) + (input_nodes if conventions.count_input_nodes else 0)
    params = sum(r.params for r in counted)
    trainable = sum(r.trainable for r in counted)
    bpv = conventions.bytes_per_value
    activation_values = sum(r.nodes for r in counted)
    breakdown = training_memory(params, trainable, input_nodes + activation_values, batch,
                                optimizer, bpv)
    macs = sum(r.macs for r in counted)
    totals = Totals(
        params=params, trainable_params=trainable,
        non_trainable_params=sum(r.non_trainable for r in counted),
        weights=sum(r.weights for r in counted), biases=sum(r.biases for r in counted),
        nodes=nodes, input_nodes=input_nodes, param_bytes=params * bpv,
        activation_bytes=nodes * bpv, batch=batch, activation_bytes_batch=nodes * bpv * batch,
        macs=macs, flops=2 * macs, layers=len(counted), optimizer=optimizer,
        training_bytes=sum(breakdown.values()), training_breakdown=breakdown,
        aux_params=sum(r.params for r in aux), aux_macs=sum(r.macs for r in aux),
        aux_included=include_aux,
    )
    report = Report(
        name=network.name, input=tuple(network.input),
        conventions=conventions.model_dump(mode="json"),
        conventions_text=conventions.describe(), layers=rows, totals=totals, notes=notes,
        bytes_per_value=bpv,
    )
    if network.claims is not None:
        from cnnspec.analysis.claims import check_claims

        report.notes.extend(check_claims(report, network.claims))
    return report


def convention_notes(rows: list[LayerRecord], conventions: Conventions) -> list[Note]:
    """Notes that follow from the conventions alone (biases counted in some rows only)."""
    notes = []
    fc_no_bias = [r.name for r in rows if r.kind == "fc" and r.biases == 0]
    conv_bias = [r.name for r in rows if r.kind == "conv" and r.biases > 0]
    if fc_no_bias and conv_bias:
        notes.append(Note(
            None,
            f"{', '.join(fc_no_bias)} count no bias (conventions fc_bias: "
            f"{str(conventions.fc_bias).lower()}) while the conv rows count one per filter "
            f"(+1); with FC biases the FC rows would add "
            f"{sum(r.output[0] for r in rows if r.name in fc_no_bias):,} parameters",
            "convention",
        ))
    return notes
