"""The calculator: each answer and its working."""

from __future__ import annotations

import pytest

from cnnspec.analysis.shapes import conv_output_size
from cnnspec.conventions import Rounding
from cnnspec.homework import calc


@pytest.mark.parametrize(("stride", "size"), [(1, 5), (2, 3)])
def test_seven_by_seven_with_a_three_by_three_filter(stride: int, size: int) -> None:
    working = calc.output_size((7, 7), (3, 3), (stride, stride))
    assert working.ok and working.data["output"] == [size, size]
    assert f"O = (7 + 2*0 - 3)/{stride} + 1 = {size}" in working.lines


def test_stride_three_cannot_be_used() -> None:
    working = calc.output_size((7, 7), (3, 3), (3, 3))
    assert not working.ok
    assert working.lines[1].startswith("O = (7 + 2*0 - 3)/3 + 1 = 2.33 is not a whole number")
    axis = working.data["axes"][0]
    assert (axis["floor"], axis["ceil"]) == (2, 3)
    assert "padding 1 (-> 3)" in working.lines[3] and "stride 2 (-> 3)" in working.lines[3]


def test_alexnet_conv1() -> None:
    working = calc.output_size((224, 224), (11, 11), (4, 4), (3, 3))
    axis = working.data["axes"][0]
    assert not working.ok and axis["exact"] == "55.75"
    assert (axis["floor"], axis["ceil"]) == (55, 56)
    assert working.answer.startswith("55.75 is not a whole number: floor 55 / ceil 56")
    floored = calc.output_size((224, 224, 3), (11, 11), (4, 4), (3, 3), filters=96,
                               rounding=Rounding.FLOOR)
    assert floored.ok and floored.answer == "55x55x96 (= 290,400 nodes)"


def test_suggested_settings_really_are_whole() -> None:
    for fix in calc.whole_settings(224, 11, 4, 3):
        name, rest = fix.split(" ", 1)
        if name == "padding" and "before" in rest:
            continue
        for option in rest.split(" or "):
            value = int(option.split(" ")[0])
            args = {"input": (value, 11, 4, 3), "padding": (224, 11, 4, value),
                    "stride": (224, 11, value, 3), "filter": (224, value, 4, 3)}[name]
            assert not conv_output_size(*args).rounded


def test_five_wide_input_with_padding_one() -> None:
    sizes = [calc.output_size((5, 5), (3, 3), (s, s), (1, 1)) for s in (1, 2, 3)]
    assert [w.data["output"][0] for w in sizes[:2]] == [5, 3] and not sizes[2].ok


def test_non_square_input() -> None:
    working = calc.output_size((32, 28), (5, 5), (1, 1))
    assert working.data["output"] == [28, 24]
    assert any(line.startswith("O_H = (32") for line in working.lines)


def test_76_parameters() -> None:
    working = calc.conv_parameters((5, 5), 3, 1)
    assert working.data["params"] == 76 and working.answer == "76 = (5*5*3 + 1) * 1"
    assert working.lines[0].endswith("5*5*3 = 75 weights")


def test_parameters_without_bias_and_fc() -> None:
    assert calc.conv_parameters((11, 11), 3, 96).data["params"] == 34944
    assert calc.conv_parameters((3, 3), 64, 64, bias=False, groups=2).data["params"] == 18432
    fc = calc.fc_parameters((6, 6, 256), 4096, bias=False)
    assert fc.data["params"] == 37748736 and "6*6*256 = 9,216 inputs" in fc.lines[0]


def test_180_connections() -> None:
    working = calc.connections((3, 3), (16, 16, 20))
    assert working.data["per_neuron"] == 180
    assert working.answer == "180 = 3*3*20 connections per neuron"
    total = calc.connections((3, 3), (16, 16, 20), padding=(1, 1), filters=10)
    assert total.data["total"] == 16 * 16 * 10 * 180


def test_receptive_field_27_vs_49() -> None:
    working = calc.receptive_field("Conv(3x3)-Conv(3x3)-Conv(3x3)")
    assert working.data["receptive_field"] == [7, 7]
    assert (working.data["stacked_weights"], working.data["single_weights"]) == (27, 49)
    assert working.answer == "7x7; 27 vs 49 weights per channel pair"
    assert "Conv:3 (3x3, s=1): r = 5 + (3-1)*1 = 7, j = 1*1 = 1" in working.lines


def test_receptive_field_with_strides_and_filters_given() -> None:
    working = calc.receptive_field("Conv(11x11,96,s=4)-Pool(3,s=2)-Conv(5x5,256,p=2)")
    assert working.data["receptive_field"] == [51, 51] and working.data["jump"] == [8, 8]
    assert (working.data["stacked_weights"], working.data["single_weights"]) == (146, 2601)
    two = calc.receptive_field("Conv(3x3)-Conv(3x3)")
    assert two.data["receptive_field"] == [5, 5]


def test_memory() -> None:
    working = calc.memory(62369152)
    assert working.data["bytes"] == 249476608
    assert working.answer == "249,476,608 bytes = 249.48 MB = 237.92 MiB"
