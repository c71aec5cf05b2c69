"""`explain`: every cell of the analysis as a derivation."""

from __future__ import annotations

from cnnspec.api import load
from cnnspec.homework.explain import explain_markdown, sum_text


def alexnet_markdown() -> str:
    spec = load("specs/alexnet.yaml")
    return explain_markdown(spec.network, spec.report())


def test_every_row_is_derived_with_its_numbers() -> None:
    text = alexnet_markdown()
    for row in load("specs/alexnet.yaml").report().leaves():
        assert f"{row.name} — " in text
    assert "`(224 + 2*3 - 11)/4 + 1 = 55.75 -> 55 (floor)` -> **55x55x96** (depth = 96 filters)" \
        in text
    assert "`(11*11*3 + 1)*96 = 34,944` (weights 34,848 + biases 96)" in text
    assert "`55*55*96 = 290,400`" in text
    assert "`r = 11 + (3-1)*4 = 19`, `j = 4*2 = 8` -> 19x19, jump 8" in text
    assert "`(6x6x256)*4096 = 37,748,736` (no bias)" in text


def test_totals_are_written_as_sums() -> None:
    text = alexnet_markdown()
    assert ("`34,944 + 614,656 + 885,120 + 1,327,488 + 884,992 + 37,748,736 + 16,777,216 + "
            "4,096,000 = 62,369,152` (by type: Conv 3,747,200 + FC 58,621,952)") in text
    assert "`62,369,152 x 4 B = 249,476,608 B` = 237.9 MiB (1024^2) = 249.5 MB (1000^2)" in text
    assert "= 781,736` (input 150,528 not counted)" in text
    assert "FLOPs = 2 x MACs = 2,270,512,192" in text


def test_notes_and_rounding_are_kept() -> None:
    text = alexnet_markdown()
    assert "strict rounding (the rule of the lecture notes) would reject this layer" in text
    assert "it counts the FC rows only (FC:6 + FC:7 + FC:8 = 58,621,952)" in text


def test_blocks_and_elementwise_rows() -> None:
    spec = load("[Conv(3x3,4,p=1)-BN-ReLU] x 2-Pool(2)-FC(10)", input_shape="8x8x1")
    text = explain_markdown(spec.network, spec.report())
    assert "A block: 8x8x1 -> 8x8x4; its numbers are the sums of its 6 layers below." in text
    assert "element by element, same as its input: **8x8x4**" in text
    assert "`2*4 = 8` trainable (gamma, beta)" in text


def test_sum_text() -> None:
    assert sum_text([1, 0, 2], 3) == "1 + 2 = 3"
    assert sum_text([5], 5) == "5"
    assert sum_text(list(range(1, 40)), 780) == "sum of 39 rows = 780"


def test_receptive_derivations_follow_each_branch(fixtures) -> None:
    import re

    spec = load(str(fixtures / "branches.yaml"))
    report = spec.report()
    text = explain_markdown(spec.network, report)
    steps = re.findall(r"r = (\d+) \+ (?:(\d+)\*)?\((\d+)-1\)\*(\d+) = (\d+)`, `j = (\d+)\*(\d+)"
                       r" = (\d+)`", text)
    assert len(steps) == 10  # every conv/pool row that widens the field or its jump
    for r_in, d, f, j_in, r, j_in2, s, j in steps:
        assert int(r_in) + int(d or 1) * (int(f) - 1) * int(j_in) == int(r)
        assert int(j_in2) == int(j_in) and int(j_in) * int(s) == int(j)
    # the shortcut reads the block's input (field 3, jump 2), not the body's last output
    assert "`r = 3 + (1-1)*2 = 3`, `j = 2*2 = 4` -> 3x3, jump 4" in text
    assert "the widest of its branches: 15x15, jump 4" in text
    # the concatenation's branches and the auxiliary head read the group's output (31)
    assert "`r = 31 + (5-1)*4 = 47`" in text and "`r = 31 + (2-1)*4 = 35`" in text
    assert "`r = 47 + (2-1)*4 = 51`, `j = 4*2 = 8`" in text
