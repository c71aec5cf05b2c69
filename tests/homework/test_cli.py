"""The homework commands as a user runs them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from cnnspec.cli.main import cli

IMAGE = "1 1 1 0 0; 0 1 1 1 0; 0 0 1 1 1; 0 0 1 1 0; 0 1 1 0 0"
KERNEL = "1 0 1; 0 1 0; 1 0 1"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_calc_output_strides() -> None:
    code, out, _ = run("calc", "output", "--input", "7", "--filter", "3", "--stride", "2")
    assert code == 0 and "O = (7 + 2*0 - 3)/2 + 1 = 3" in out and "answer: 3x3" in out
    code, out, err = run("calc", "output", "--input", "7", "--filter", "3", "--stride", "3")
    assert code == 1
    assert "(7 + 2*0 - 3)/3 + 1 = 2.33 is not a whole number" in out
    assert "floor gives 2" in out and "ceil gives 3" in out and "nearest settings" in out
    assert err.startswith("--stride: error: (7 + 2*0 - 3)/3 + 1 = 2.33 is not a whole number")
    assert "Traceback" not in err


def test_calc_output_json_and_floor() -> None:
    code, out, _ = run("calc", "output", "--input", "224x224x3", "--filter", "11", "--stride", "4",
                       "--pad", "3", "--filters", "96", "--rounding", "floor", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["output"] == [55, 55, 96] and data["axes"][0]["ceil"] == 56


def test_calc_params_connections_receptive_memory() -> None:
    code, out, _ = run("calc", "params", "--filter", "5x5", "--depth", "3", "--filters", "1")
    assert code == 0 and "answer: 76 = (5*5*3 + 1) * 1" in out
    code, out, _ = run("calc", "connections", "--filter", "3x3", "--input", "16x16x20")
    assert code == 0 and "answer: 180 = 3*3*20 connections per neuron" in out
    code, out, _ = run("calc", "receptive", "Conv(3x3)-Conv(3x3)-Conv(3x3)")
    assert code == 0 and "answer: 7x7; 27 vs 49 weights per channel pair" in out
    code, out, _ = run("calc", "memory", "62,369,152", "-q")
    assert out.strip() == "249,476,608 bytes = 249.48 MB = 237.92 MiB"
    code, out, _ = run("calc", "params", "--fc", "6x6x256", "4096", "--no-bias")
    assert "37,748,736" in out


def test_calc_usage_errors() -> None:
    code, _, err = run("calc", "output", "--input", "7x", "--filter", "3")
    assert code == 2 and "'7x' is not" in err
    code, _, err = run("calc", "params", "--filter", "3")
    assert code == 2
    assert "give the input depth: --filter 3x3x3 (FH x FW x C) or --in-channels 3" in err
    code, _, err = run("calc", "output", "--input", "3", "--filter", "5")
    assert code == 1 and "larger than the padded input" in err


def test_conv_steps() -> None:
    code, out, _ = run("conv", IMAGE, KERNEL, "--steps")
    assert code == 0
    assert "y_11 = 1*1+1*0+1*1+0*0+1*1+1*0+0*1+0*0+1*1 = 4" in out
    assert out.rstrip().endswith("result:\n4 3 4\n2 4 3\n2 3 4")


def test_conv_formats_and_files(tmp_path: Path) -> None:
    image = tmp_path / "image.txt"
    image.write_text(IMAGE.replace("; ", "\n"))
    kernel = tmp_path / "kernel.csv"
    kernel.write_text("1,0,1\n0,1,0\n1,0,1\n")
    code, out, _ = run("conv", str(image), str(kernel), "--format", "csv")
    assert code == 0 and list(csv.reader(out.splitlines())) == [["4", "3", "4"], ["2", "4", "3"],
                                                               ["2", "3", "4"]]
    code, out, _ = run("conv", str(image), str(kernel), "-f", "json", "--bias", "1")
    data = json.loads(out)
    assert data["result"] == [[[5, 4, 5], [3, 5, 4], [3, 4, 5]]]
    assert data["steps"][0]["text"].endswith(" + 1 = 5")
    code, out, _ = run("conv", str(image), str(kernel), "-f", "markdown", "--steps")
    assert "- `y_11 = 1*1+1*0+1*1+0*0+1*1+1*0+0*1+0*0+1*1 = 4`" in out and "```" in out


def test_conv_errors(tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("1 2 3\n4 5\n")
    code, _, err = run("conv", str(ragged), "1")
    assert code == 1 and f"{ragged}:2:1: error: row 2 of the image has 2 numbers" in err
    code, _, err = run("conv", "1 2 3; 4 5 6; 7 8 9", "1 1; 1 1", "--stride", "2")
    assert code == 1 and "1.5 is not a whole number: stride 2 does not fit" in err
    assert "--rounding floor" in err and "Traceback" not in err


def test_pool_stochastic() -> None:
    code, out, _ = run("pool", "1 1 2 4; 5 6 7 8; 3 2 1 0; 1 2 3 4", "--mode", "stochastic",
                       "--seed", "0")
    assert code == 0
    assert "p = 1/13 = 0.077, 1/13 = 0.077, 5/13 = 0.385, 6/13 = 0.462" in out
    assert "s_11 = sum p_i a_i = (1/13)*1 + (1/13)*1 + (5/13)*5 + (6/13)*6 = 63/13 = 4.84615" \
        in out
    assert "a training draw (--seed):" in out


def test_pool_max_and_errors() -> None:
    code, out, _ = run("pool", "1 1 2 4; 5 6 7 8; 3 2 1 0; 1 2 3 4", "--size", "2")
    assert code == 0 and "result:\n6 8\n3 4\n" in out
    code, _, err = run("pool", "1 2; 3 -4", "--mode", "stochastic")
    assert code == 1 and "<inline>:1:8: error: stochastic pooling needs non-negative" in err


def test_explain(tmp_path: Path) -> None:
    code, out, _ = run("explain", "specs/alexnet.yaml")
    assert code == 0 and out.startswith("# alexnet: every number, derived")
    target = tmp_path / "alexnet.md"
    code, _, err = run("explain", "alexnet", "--conventions", "pytorch", "-o", str(target))
    assert code == 0 and f"wrote {target}" in err
    assert "`(4096 + 1)*1000 = 4,097,000`" in target.read_text()


def test_check_lecture_table(fixtures: Path) -> None:
    code, out, _ = run("check", str(fixtures / "alexnet_lecture_table.yaml"), "--show", "wrong")
    assert code == 1
    assert "it counts the FC rows only (FC:6 + FC:7 + FC:8 = 58,621,952)" in out
    assert "it counts all 62,369,152 weights" in out
    assert out.rstrip().endswith("score 36/37 (97.3%): 1 wrong, 0 missing")


def test_check_all_correct_exits_zero(fixtures: Path) -> None:
    code, out, _ = run("check", str(fixtures / "submissions" / "kim.yaml"), "--spec", "alexnet")
    assert code == 0 and "score 37/37 (100.0%)" in out


def test_check_formats(fixtures: Path) -> None:
    path = str(fixtures / "wrong" / "bias_forgotten.yaml")
    code, out, _ = run("check", path, "-f", "json")
    data = json.loads(out)
    assert code == 1 and data["wrong"] == 2
    wrong = [c for c in data["cells"] if c["verdict"] == "wrong"]
    assert wrong[0]["mistakes"][0]["label"] == "bias forgotten"
    code, out, _ = run("check", path, "-f", "csv")
    rows = list(csv.DictReader(out.splitlines()))
    assert any(r["cell"] == "weights" and r["verdict"] == "wrong" and
               r["mistakes"].startswith("bias forgotten") for r in rows)
    code, out, _ = run("check", path, "-f", "markdown", "--show", "wrong")
    assert "| Conv:2 | weights | 5x5x96x256 = 614,400 | 614,656 | wrong |" in out


def test_check_template(tmp_path: Path) -> None:
    code, out, _ = run("check", "--template", "specs/alexnet.yaml")
    assert code == 0 and "  Conv:1:      # Conv 11x11x3, 96, s=4, p=3" in out
    target = tmp_path / "answers.csv"
    code, _, _ = run("check", "--template", "alexnet", "-o", str(target))
    assert target.read_text().startswith("# spec: alexnet\n# conventions: lecture\nlayer,")
    code, out, _ = run("check", str(target))
    assert code == 1 and "0 wrong, 36 missing" in out


def test_check_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("spec: alexnet\nlayers:\n  Conv:1: {ouput: 55x55x96}\n")
    code, _, err = run("check", str(bad))
    assert code == 1 and err.strip() == (f"{bad}:3:12: error: unknown cell 'ouput' in a layer "
                                         f"row; did you mean 'output'?")
    code, _, err = run("check")
    assert code == 2 and "give an answer file or folder" in err
    code, _, err = run("check", str(tmp_path / "none.yaml"))
    assert code == 1 and "no such answer file" in err


def test_check_batch(fixtures: Path, tmp_path: Path) -> None:
    report = tmp_path / "out" / "grades.csv"
    code, out, err = run("check", str(fixtures / "submissions"), "--spec", "specs/alexnet.yaml",
                         "--report", str(report))
    assert code == 1 and f"wrote {report}" in err
    assert "Cells most often not correct" in out and "bias forgotten" in out
    rows = list(csv.DictReader(report.read_text().splitlines()))
    scores = {r["submission"]: r["score"] for r in rows}
    assert len(scores) == 5 and scores["kim.yaml"] == "1.0000" and scores["choi.yaml"] == ""
    assert not list(report.parent.glob(".grades.csv.*"))  # written atomically, no leftovers
    code, out, _ = run("check", str(fixtures / "submissions"), "--spec", "alexnet", "-f", "json",
                       "-q")
    data = json.loads(out)
    assert data["cells"][0] == {"cell": "Conv:2.weights", "correct": 1, "wrong": 3, "missing": 0,
                                "most_common_mistake": "bias forgotten"}
