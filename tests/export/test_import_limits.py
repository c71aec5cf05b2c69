"""Large imported graphs: linear work where it was quadratic, a clear refusal past the limit."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnspec.errors import ExportError
from cnnspec.export import graph_ir
from cnnspec.export.graph_ir import INPUT, OpGraph, OpNode, structure
from cnnspec.export.spec_yaml import _best_run, compress_repeats


def _one_step_at_a_time(items: list[Any]) -> list[Any]:
    """The repeat folding looked at position by position: the reference for the fast one."""
    out: list[Any] = []
    i = 0
    while i < len(items):
        period, count = _best_run(items, i)
        unit = items[i:i + period]
        if count > 1 and isinstance(items[i], str) and i + 1 < len(items):
            later = _best_run(items, i + 1)
            if later[0] * later[1] >= period * count:
                count = 1
        if count > 1 and not all(isinstance(x, str) for x in unit):
            out.append({"repeat": count, "layers": unit})
            i += period * count
        else:
            out.append(items[i])
            i += 1
    return out


ITEMS = st.lists(st.sampled_from(["ReLU", "Conv(3x3, 8)", {"residual": {"body": ["BN"]}}]),
                 max_size=40)


@settings(max_examples=300, deadline=None)
@given(ITEMS)
def test_folding_steps_over_plain_runs_without_changing_the_result(items) -> None:
    assert compress_repeats(items) == _one_step_at_a_time(items)


def test_a_long_plain_run_then_a_repeated_block() -> None:
    block = {"gate": {"body": ["Sigmoid"]}}
    items = ["ReLU"] * 5000 + [block, "ReLU"] * 3
    out = compress_repeats(items)
    assert out == ["ReLU"] * 5000 + [{"repeat": 3, "layers": [block, "ReLU"]}]


def _chain(length: int) -> OpGraph:
    graph = OpGraph((8, 8, 3))
    previous = INPUT
    for i in range(length):
        graph.add(OpNode(f"r{i}", [previous], "ReLU"))
        previous = f"r{i}"
    graph.output = previous
    return graph


def test_a_long_chain_is_structured() -> None:
    assert structure(_chain(5000)) == ["ReLU"] * 5000


def test_more_operations_than_a_spec_may_have_layers_are_refused(monkeypatch) -> None:
    monkeypatch.setattr(graph_ir, "MAX_LAYERS", 10)
    with pytest.raises(ExportError, match="11 operations to read as layers, more than a "
                                          "spec's limit of 10"):
        structure(_chain(11))
    assert structure(_chain(10)) == ["ReLU"] * 10
