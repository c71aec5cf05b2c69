"""The catalogue of mistake models, applied to the student's own upstream answers."""

from __future__ import annotations

from pathlib import Path

from cnnspec.homework.answers import read_answers
from cnnspec.homework.grading import grade, resolve_network
from cnnspec.homework.mistakes import CATALOGUE, one_digit_slip
from cnnspec.homework.verdicts import CellResult, Grade, Verdict


def graded(tmp_path: Path, text: str) -> Grade:
    path = tmp_path / "a.yaml"
    path.write_text(text)
    sheet = read_answers(path)
    return grade(sheet, resolve_network(sheet))


def cell(result: Grade, cell_id: str) -> CellResult:
    return next(c for c in result.cells if c.cell_id == cell_id)


def test_the_catalogue_is_data() -> None:
    labels = [m.label for m in CATALOGUE]
    assert len(labels) == len(set(labels)) >= 15
    assert {"depth = this layer's filters", "depth = the image's channels", "bias forgotten",
            "bias added", "padding applied once", "stride ignored", "floor rounding",
            "ceil rounding", "FW for FH"} <= set(labels)


def test_depth_of_this_layers_filters(tmp_path: Path) -> None:
    result = graded(tmp_path, "spec: alexnet\nlayers:\n  Conv:3: {weights: '1,327,488'}\n")
    found = cell(result, "Conv:3.weights")
    assert [m.label for m in found.mistakes] == ["depth = this layer's filters"]
    assert found.mistakes[0].text.startswith(
        "(3*3*384 + 1)*384 = 1,327,488: that takes the input depth as this layer's 384 "
        "filters; a filter spans the depth of its input, 256 channels")


def test_pool_size_from_the_students_own_55_is_not_blamed_on_rounding(tmp_path: Path) -> None:
    result = graded(tmp_path, "spec: alexnet\nlayers:\n  Conv:1: {output: 55x55x96}\n"
                              "  Pool:1: {output: 28x28x96}\n")
    found = cell(result, "Pool:1.output")
    assert found.verdict is Verdict.WRONG and found.mistakes == []
    assert found.notes == ["no usual mistake gives 28x28x96 from your Conv:1 output 55x55x96: "
                           "none of the mistake models (input depth, bias, padding, stride, "
                           "rounding, FW for FH, one-digit slip, ...) fits it"]
    assert "56" not in " ".join(found.why())


def test_a_mistake_on_the_students_own_wrong_upstream_value(tmp_path: Path) -> None:
    result = graded(tmp_path, "spec: alexnet\nlayers:\n  Pool:1: {output: 26x26x96}\n"
                              "  Conv:2: {output: 24x24x256}\n")
    found = cell(result, "Conv:2.output")
    assert [m.label for m in found.mistakes] == ["padding applied once"]
    assert found.mistakes[0].text == (
        "(26 + 2 - 5)/1 + 1 gives 24: the padding goes on both sides, so the formula adds "
        "2P = 4, not P (from your Pool:1 output 26x26x96)")


def test_the_right_method_on_a_wrong_upstream_value_is_consequential(tmp_path: Path) -> None:
    result = graded(tmp_path, "spec: alexnet\nlayers:\n  Pool:1: {output: 27x27x128}\n"
                              "  Conv:2: {weights: (5x5x128+1)x256}\n")
    found = cell(result, "Conv:2.weights")
    assert found.verdict is Verdict.WRONG and found.consequential
    assert found.mistakes[0].label == "follows from your earlier answer"
    assert found.mistakes[0].text == ("(5*5*128 + 1)*256 = 819,456 uses your Pool:1 output "
                                      "27x27x128, which should be 27x27x96")


def test_two_models_that_explain_the_same_value_are_both_named(tmp_path: Path) -> None:
    # ceil: (8 + 2*1 - 3)/2 + 1 = 4.5 -> 5; floor, padding once and no padding all give 4
    result = graded(tmp_path, "spec: '8x8x1 -> Conv(3x3,2,s=2,p=1)-FC(3)'\n"
                              "conventions: {preset: default, rounding: ceil}\n"
                              "layers:\n  Conv:1: {output: 4x4x2}\n")
    labels = [m.label for m in cell(result, "Conv:1.output").mistakes]
    assert labels == ["padding applied once", "padding left out", "floor rounding"]


def test_fw_for_fh_and_one_digit_slip(tmp_path: Path) -> None:
    result = graded(tmp_path, "spec: '9x9x2 -> Conv(3x5,4)-FC(3)'\nlayers:\n"
                              "  Conv:1: {output: 5x5x4, weights: 134}\n  FC:1: {weights: 303}\n")
    assert [m.label for m in cell(result, "Conv:1.output").mistakes] == ["FW for FH"]
    weights = cell(result, "Conv:1.weights")
    assert weights.expected == "124" and [m.label for m in weights.mistakes] == ["one-digit slip"]
    assert one_digit_slip((27, 27), (27, 28)) and not one_digit_slip((28, 28), (27, 27))
    assert not one_digit_slip(1000, 999)
