"""Answer files: YAML and CSV, located errors, templates."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cnnspec.api import load
from cnnspec.errors import DataError
from cnnspec.homework.answers import (
    asked_rows,
    parse_csv,
    parse_yaml,
    read_answers,
)
from cnnspec.homework.grading import grade, resolve_network
from cnnspec.homework.templates import template_csv, template_yaml
from cnnspec.homework.verdicts import Verdict


def test_yaml_sheet(fixtures: Path) -> None:
    sheet = read_answers(fixtures / "alexnet_lecture_table.yaml")
    assert sheet.spec == "alexnet" and sheet.conventions == "lecture"
    assert sheet.rows["Conv:1"]["weights"].integer == 34944
    assert sheet.rows["Conv:1"]["weights"].working == "(11x11x3+1)x96"
    assert sheet.totals["memory_mb"].number == 237 and not sheet.totals["memory_mb"].exact
    assert sheet.row_locs["Conv:2"].line == 11


def test_wrong_cell_name_is_located_with_a_suggestion() -> None:
    text = "layers:\n  Conv:1: {ouput: 55x55x96}\n"
    with pytest.raises(DataError, match="unknown cell 'ouput'") as info:
        parse_yaml(text, "a.yaml")
    assert (info.value.loc.line, info.value.loc.column) == (2, 12)
    assert info.value.hint == "did you mean 'output'?"


def test_unquoted_comma_gets_a_quoting_hint() -> None:
    with pytest.raises(DataError, match="unknown cell '400'") as info:
        parse_yaml("layers:\n  Conv:1: {nodes: 290,400}\n", "a.yaml")
    assert "quote values that contain commas" in (info.value.hint or "")


def test_unknown_top_key_and_bad_mb_base() -> None:
    with pytest.raises(DataError, match="unknown key 'total'") as info:
        parse_yaml("total: {weights: 3}\n", "a.yaml")
    assert info.value.hint == "did you mean 'totals'?" and info.value.loc.line == 1
    with pytest.raises(DataError, match="mb_base must be 1000 or 1024"):
        parse_yaml("mb_base: 1048576\n", "a.yaml")


def test_malformed_yaml_is_a_data_error() -> None:
    with pytest.raises(DataError, match="malformed YAML") as info:
        parse_yaml("layers:\n  Conv:1: {output: 55x55x96\n  Pool:1: [\n", "a.yaml")
    assert info.value.loc.line == 3


def test_bad_value_names_its_place() -> None:
    with pytest.raises(DataError, match="cannot read 'lots' as a number") as info:
        parse_yaml("totals:\n  weights: lots\n", "a.yaml")
    assert (info.value.loc.line, info.value.loc.column) == (2, 12)


def test_csv_sheet(fixtures: Path) -> None:
    sheet = read_answers(fixtures / "wrong" / "lenet_stride.csv")
    assert sheet.student == "stride ignored" and sheet.spec.startswith("32x32x1-Conv")
    assert sheet.rows["Pool:1"]["output"].shape == (27, 27, 6)
    assert sheet.rows["Pool:1"]["weights"] is None
    assert sheet.totals["weights"].integer == 61706 and sheet.row_locs["Conv:2"].line == 8


def test_csv_errors() -> None:
    with pytest.raises(DataError, match="no `layer` column"):
        parse_csv("name,output\nConv:1,3x3x1\n", "a.csv")
    with pytest.raises(DataError, match="memory_bytes belongs on the total row") as info:
        parse_csv("layer,memory_bytes\nConv:1,12\n", "a.csv")
    assert info.value.loc.line == 2
    with pytest.raises(DataError, match="unknown cell 'wieghts'") as info:
        parse_csv("layer,wieghts\n", "a.csv")
    assert info.value.hint == "did you mean 'weights'?"


def test_unknown_row_name_is_located(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("spec: alexnet\nlayers:\n  Conv:9: {output: 1}\n  Conv1: {output: 1}\n")
    sheet = read_answers(path)
    with pytest.raises(DataError, match="alexnet has no row named 'Conv:9'") as info:
        grade(sheet, resolve_network(sheet))
    assert info.value.loc.line == 3


def test_no_spec_anywhere(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("layers: {}\n")
    with pytest.raises(DataError, match="no spec to check the answers against") as info:
        resolve_network(read_answers(path))
    assert "--spec" in (info.value.hint or "")


def filled(template: str, report) -> str:
    """The template with every blank filled with the right value, as a student would."""
    data = yaml.safe_load(template)
    rows = {r.name: r for r in report.layers}
    for name, cells in data["layers"].items():
        for cell in cells:
            if name == "input":
                cells[cell] = ("x".join(map(str, report.input)) if cell == "output"
                               else report.totals.input_nodes)
            else:
                row = rows[name]
                cells[cell] = {"output": "x".join(map(str, row.output)), "nodes": row.nodes,
                               "weights": row.params}[cell]
    t = report.totals
    data["totals"] = {"weights": t.params, "memory_bytes": t.param_bytes,
                      "memory_mb": round(t.param_bytes / 2**20, 1), "nodes": t.nodes}
    return yaml.safe_dump(data)


def test_yaml_template_filled_in_checks_as_correct(tmp_path: Path) -> None:
    report = load("specs/alexnet.yaml").report()
    template = template_yaml(report, "specs/alexnet.yaml")
    assert "  Conv:1:      # Conv 11x11x3, 96, s=4, p=3" in template
    assert "conventions: lecture" in template
    path = tmp_path / "answers.yaml"
    path.write_text(filled(template, report))
    sheet = read_answers(path)
    assert set(sheet.rows) == {"input", *(r.name for r in asked_rows(report))}
    result = grade(sheet, resolve_network(sheet))
    assert result.all_correct, [c.cell_id for c in result.cells if c.verdict is not
                                Verdict.CORRECT]
    assert len(result.cells) == 2 + 11 * 2 + 8 + 4


def test_template_keeps_custom_conventions() -> None:
    spec = load("Conv(3x3,4)-FC(2)", input_shape="5x5x1")
    network = spec.network.model_copy(update={"conventions": spec.network.conventions.model_copy(
        update={"fc_bias": False})})
    from cnnspec.analysis import analyze

    template = template_yaml(analyze(network), "net.yaml")
    assert "conventions: {preset: default, fc_bias: false}" in template
    sheet = parse_yaml(template, "t.yaml")
    assert sheet.conventions == {"preset": "default", "fc_bias": False}


def test_csv_template_lists_every_row() -> None:
    report = load("specs/alexnet.yaml").report()
    lines = template_csv(report, "alexnet").splitlines()
    assert lines[:3] == ["# spec: alexnet", "# conventions: lecture",
                         "layer,output,nodes,weights,memory_bytes,memory_mb"]
    assert [line.split(",")[0] for line in lines[3:]] == [
        "input", "Conv:1", "Pool:1", "Conv:2", "Pool:2", "Conv:3", "Conv:4", "Conv:5", "Pool:5",
        "FC:6", "FC:7", "FC:8", "total"]
