"""Grading: the lecture's AlexNet table, the cs231n VGG-16 walk-through, wrong answers."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from cnnspec.homework.answers import read_answers
from cnnspec.homework.grading import grade, resolve_network
from cnnspec.homework.verdicts import CellResult, Grade, GradeOptions, Rounding, Verdict


def graded(path: Path, options: GradeOptions | None = None) -> Grade:
    sheet = read_answers(path)
    return grade(sheet, resolve_network(sheet), options)


def cell(result: Grade, cell_id: str) -> CellResult:
    return next(c for c in result.cells if c.cell_id == cell_id)


def labels(result: Grade, cell_id: str) -> list[str]:
    return [m.label for m in cell(result, cell_id).mistakes]


def test_lecture_table_rows_are_all_correct(fixtures: Path) -> None:
    result = graded(fixtures / "alexnet_lecture_table.yaml")
    rows = [c for c in result.cells if c.row != "total"]
    assert len(rows) == 2 + 11 * 2 + 8
    assert all(c.verdict is Verdict.CORRECT for c in rows)
    assert result.conventions.startswith("conventions: lecture")
    # the table's 55 is the floor of 55.75: correct under its conventions, and said so
    assert "55.75 is not a whole number; floor gives 55" in cell(result, "Conv:1.output").notes[0]


def test_lecture_table_totals_flagged_as_the_seeds_say(fixtures: Path) -> None:
    result = graded(fixtures / "alexnet_lecture_table.yaml")
    weights = cell(result, "total.weights")
    assert weights.verdict is Verdict.WRONG and weights.expected == "62,369,152"
    assert weights.mistakes[0].text == "it counts the FC rows only (FC:6 + FC:7 + FC:8 = " \
                                       "58,621,952)"
    assert "the lines add up to 62,369,152" in weights.mistakes[1].text
    assert any("count no bias" in n for n in weights.notes)
    memory = cell(result, "total.memory_bytes")
    assert memory.verdict is Verdict.CORRECT
    assert memory.notes == ["it counts all 62,369,152 weights (249,476,608 B / 4 B), so it "
                            "disagrees with your weight total 58,621,952"]
    assert cell(result, "total.memory_mb").verdict is Verdict.CORRECT  # ~237 of 237.92 MiB
    nodes = cell(result, "total.nodes")
    assert nodes.verdict is Verdict.CORRECT
    assert nodes.notes == ["the sum of every output row, the input (150,528) excluded"]
    assert cell(result, "total.node_memory_mb").verdict is Verdict.CORRECT
    assert result.score_text() == "score 36/37 (97.3%): 1 wrong, 0 missing"
    assert not result.all_correct


def test_vgg16_walkthrough_lines_are_correct(fixtures: Path) -> None:
    result = graded(fixtures / "vgg16_cs231n_walkthrough.yaml")
    rows = [c for c in result.cells if c.row != "total"]
    assert len(rows) == 3 + 21 * 3
    assert all(c.verdict is Verdict.CORRECT for c in rows), [c.cell_id for c in rows
                                                             if c.verdict is not Verdict.CORRECT]
    assert cell(result, "Conv:1.weights").expected == "1,728"
    assert cell(result, "FC:1.weights").expected == "102,760,448"
    assert cell(result, "FC:1.output").given == "[1x1x4096]"


def test_vgg16_total_activations_flagged(fixtures: Path) -> None:
    result = graded(fixtures / "vgg16_cs231n_walkthrough.yaml")
    nodes = cell(result, "total.nodes")
    assert nodes.verdict is Verdict.WRONG and nodes.expected == "15,237,608"
    assert nodes.mistakes[-1].text == "the lines add up to 15,237,608 (about 15.2 M) " \
                                      "(which is right)"
    memory = cell(result, "total.node_memory_mb")
    assert memory.verdict is Verdict.WRONG and memory.expected == "58.13 MiB"
    assert "15,237,608 x 4 B = 60,950,432 B" in memory.formula
    assert memory.mistakes[0].label == "follows from your node total"
    assert "24M x 4 B = 96,000,000 B" in memory.mistakes[0].text


def test_vgg16_138m_parameters_with_or_without_biases(fixtures: Path) -> None:
    result = graded(fixtures / "vgg16_cs231n_walkthrough.yaml")
    params = cell(result, "total.weights")
    assert params.verdict is Verdict.CORRECT and params.expected == "138,344,128"
    assert params.notes == ["138M parameters also fits 138,357,544 (with the conv and FC biases "
                            "counted): a rounded figure cannot tell the two counts apart"]
    exact = graded(fixtures / "vgg16_cs231n_walkthrough.yaml",
                   GradeOptions(rounding=Rounding.EXACT))
    assert cell(exact, "total.weights").verdict is Verdict.WRONG
    assert labels(exact, "total.weights") == ["rounded figure"]


@pytest.mark.parametrize(("name", "cell_id", "label", "fragment"), [
    ("bias_forgotten.yaml", "Conv:2.weights", "bias forgotten",
     "(5*5*96)*256 = 614,400: conv biases left out"),
    ("bias_forgotten.yaml", "total.weights", "follows from your rows",
     "it is the sum of your rows (62,368,896)"),
    ("padding_once.yaml", "Conv:2.output", "padding applied once",
     "(27 + 2 - 5)/1 + 1 gives 25: the padding goes on both sides, so the formula adds 2P = 4"),
    ("padding_once.yaml", "Conv:2.nodes", "follows from your output",
     "25*25*256 = 160,000 follows from your output 25x25x256"),
    ("ceil_rounding.yaml", "Conv:1.output", "ceil rounding",
     "(224 + 2*3 - 11)/4 + 1 = 55.75 -> 56 (ceil): the stride does not divide"),
    ("input_counted.yaml", "total.nodes", "input nodes counted",
     "it counts every output plus the input (150,528) = 932,264"),
    ("mb_1000.yaml", "total.memory_mb", "1000 vs 1024",
     "249,476,608 B / 1000^2 = 249.48 MB; here MB means 1024^2 bytes"),
    ("filter_depth.yaml", "Conv:3.weights", "filter depth forgotten",
     "(3*3 + 1)*384 = 3,840: a filter spans the full input depth, 3x3x256"),
    ("fc_bias_added.yaml", "FC:6.weights", "bias added",
     "(6x6x256 + 1)*4096 = 37,752,832: FC biases counted, but these conventions (fc_bias: "
     "false) count none"),
    ("conv_depth.yaml", "Conv:1.output", "depth = input depth",
     "output depth is its number of filters K = 96, not the input depth 3"),
    ("float64_memory.yaml", "total.memory_bytes", "bytes per value",
     "that uses 8 B per value; float32 is 4 B"),
    ("lenet_stride.csv", "Pool:1.output", "stride ignored",
     "(28 + 2*0 - 2)/1 + 1 = 27 is the size at stride 1; divide by the stride S = 2"),
    ("lenet_stride.csv", "total.nodes", "follows from your rows",
     "it is the sum of your rows (11,292)"),
])
def test_wrong_answers_are_caught_and_explained(fixtures: Path, name: str, cell_id: str,
                                                label: str, fragment: str) -> None:
    result = graded(fixtures / "wrong" / name)
    found = cell(result, cell_id)
    assert found.verdict is Verdict.WRONG
    assert found.mistakes[0].label == label
    assert fragment in found.mistakes[0].text
    assert found.why()[0].startswith(f"you wrote {found.given}; expected {found.expected}: ")


@pytest.mark.parametrize("name", ["bias_forgotten.yaml", "padding_once.yaml", "mb_1000.yaml",
                                  "filter_depth.yaml", "fc_bias_added.yaml",
                                  "float64_memory.yaml", "input_counted.yaml"])
def test_only_the_planted_mistakes_are_wrong(fixtures: Path, name: str) -> None:
    result = graded(fixtures / "wrong" / name)
    wrong = {c.cell_id for c in result.cells if c.verdict is Verdict.WRONG}
    expected = {"bias_forgotten.yaml": {"Conv:2.weights", "total.weights"},
                "padding_once.yaml": {"Conv:2.output", "Conv:2.nodes"},
                "mb_1000.yaml": {"total.memory_mb"},
                "filter_depth.yaml": {"Conv:3.weights"},
                "fc_bias_added.yaml": {"FC:6.weights"},
                "float64_memory.yaml": {"total.memory_bytes"},
                "input_counted.yaml": {"total.nodes"}}[name]
    assert wrong == expected


def test_mb_base_1000_turns_the_verdict_around(fixtures: Path) -> None:
    path = fixtures / "wrong" / "mb_1000.yaml"
    result = graded(path, GradeOptions(mb_base=1000))
    assert cell(result, "total.memory_mb").verdict is Verdict.CORRECT
    assert cell(result, "total.memory_mb").expected == "249.48 MB"
    lecture = graded(fixtures / "alexnet_lecture_table.yaml", GradeOptions(mb_base=1000))
    assert labels(lecture, "total.memory_mb") == ["1000 vs 1024"]


def test_mb_tolerance(fixtures: Path) -> None:
    strict = graded(fixtures / "alexnet_lecture_table.yaml",
                    GradeOptions(mb_tolerance=Fraction(0)))
    assert cell(strict, "total.memory_mb").verdict is Verdict.WRONG  # ~237 vs 237.92


def test_missing_cells(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("spec: alexnet\nlayers:\n  Conv:1: {output: 55x55x96, weights: null}\n"
                    "totals: {weights: }\n")
    result = graded(path)
    missing = {c.cell_id for c in result.cells if c.verdict is Verdict.MISSING}
    assert {"Conv:1.nodes", "Conv:1.weights", "Pool:1.output", "FC:8.weights",
            "total.weights"} <= missing
    assert "Pool:1.weights" not in missing  # pooling has no weights: nothing to write
    assert cell(result, "Conv:1.weights").why()[0] == ("no answer; expected 34,944: "
                                                       "(11*11*3 + 1)*96 = 34,944")


def test_working_slip_is_noted(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("spec: alexnet\nlayers:\n  Conv:1: {weights: '(11x11x3+1)x96 = 34,848'}\n")
    found = cell(graded(path), "Conv:1.weights")
    assert found.verdict is Verdict.WRONG
    assert found.notes == ["your working (11x11x3+1)x96 gives 34,944, not 34,848"]


def test_rounding_loose_accepts_truncated_figures(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("spec: alexnet\ntotals: {weights: 62.3M}\n")
    assert cell(graded(path), "total.weights").verdict is Verdict.WRONG  # 62.37 M rounds to 62.4
    loose = graded(path, GradeOptions(rounding=Rounding.LOOSE))
    assert cell(loose, "total.weights").verdict is Verdict.CORRECT


def test_conventions_from_the_answer_file_win_over_the_spec(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("spec: alexnet\nconventions: pytorch\nlayers:\n"
                    "  FC:8: {weights: (4096+1)x1000}\n")
    assert cell(graded(path), "FC:8.weights").verdict is Verdict.CORRECT
    sheet = read_answers(path)
    lecture = grade(sheet, resolve_network(sheet, conventions="lecture"))
    assert labels(lecture, "FC:8.weights") == ["bias added"]


def test_follows_from_an_earlier_answer(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("spec: alexnet\nlayers:\n  Pool:5: {output: 5x5x256}\n"
                    "  FC:6: {weights: 5x5x256x4096}\n")
    result = graded(path)
    assert labels(result, "FC:6.weights") == ["follows from your earlier answer"]
    assert "uses your Pool:5 output 5x5x256, which should be 6x6x256" in \
        cell(result, "FC:6.weights").mistakes[0].text
