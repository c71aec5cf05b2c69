"""specs/alexnet.yaml reproduces the lecture's AlexNet table cell for cell (SEEDS.md)."""

from __future__ import annotations

import pytest

import cnnspec
from cnnspec.errors import AnalysisError

OUTPUTS = {
    "Conv:1": ((55, 55, 96), 290_400, 34_944),
    "Pool:1": ((27, 27, 96), 69_984, 0),
    "Conv:2": ((27, 27, 256), 186_624, 614_656),
    "Pool:2": ((13, 13, 256), 43_264, 0),
    "Conv:3": ((13, 13, 384), 64_896, 885_120),
    "Conv:4": ((13, 13, 384), 64_896, 1_327_488),
    "Conv:5": ((13, 13, 256), 43_264, 884_992),
    "Pool:5": ((6, 6, 256), 9_216, 0),
    "FC:6": ((4096,), 4096, 37_748_736),
    "FC:7": ((4096,), 4096, 16_777_216),
    "FC:8": ((1000,), 1000, 4_096_000),
}


@pytest.fixture(scope="module")
def report():
    return cnnspec.load("specs/alexnet.yaml").report()


def test_every_row(report) -> None:
    assert [r.name for r in report.layers] == list(OUTPUTS)
    for row in report.layers:
        output, nodes, weights = OUTPUTS[row.name]
        assert (row.output, row.nodes, row.params) == (output, nodes, weights), row.name


def test_totals(report) -> None:
    t = report.totals
    assert t.nodes == 781_736
    assert t.input_nodes == 150_528
    assert t.params == 62_369_152
    assert t.param_bytes == 249_476_608
    assert t.activation_bytes == 3_126_944
    assert sum(r.params for r in report.layers if r.kind == "fc") == 58_621_952
    assert sum(r.params for r in report.layers if r.kind == "conv") == 3_747_200


def test_the_three_findings_are_notes(report) -> None:
    text = "\n".join(f"{n.layer}: {n.message}" for n in report.notes)
    assert "Conv:1: height and width: (224 + 2*3 - 11)/4 + 1 = 55.75 is not a whole number; " \
           "floor gives 55" in text
    assert "strict rounding" in text
    assert "FC:6, FC:7, FC:8 count no bias" in text
    assert "58,621,952" in text and "counts the FC rows only" in text
    assert "62,369,152" in text and "disagree" in text
    assert "stated node total 781,736 (lecture table) matches" in text


def test_fc_biases_under_pytorch_conventions() -> None:
    report = cnnspec.load("specs/alexnet.yaml", conventions="pytorch").report()
    assert report.totals.params == 62_378_344


def test_strict_rounding_rejects_conv1() -> None:
    with pytest.raises(AnalysisError, match=r"\(224 \+ 2\*3 - 11\)/4 \+ 1 = 55.75 is not a whole"):
        cnnspec.load("specs/alexnet.yaml", conventions="default").report()


def test_json_contract(report) -> None:
    data = cnnspec.load("specs/alexnet.yaml").analyze()
    assert set(data) >= {"name", "input", "layers", "totals", "notes"}
    assert data["input"] == [224, 224, 3]
    first = data["layers"][0]
    assert first["output"] == [55, 55, 96]
    assert first["receptive_field"] == {"size": [11, 11], "jump": [4, 4]}
    for key in ("name", "type", "nodes", "weights", "biases", "params", "macs"):
        assert key in first
    assert data["layers"][-1]["output"] == [1000]
    for key in ("params", "trainable_params", "nodes", "param_bytes", "activation_bytes", "macs"):
        assert key in data["totals"]
    assert all(set(n) == {"layer", "message", "kind"} for n in data["notes"])
