"""`cnnspec analyze` and `cnnspec validate` as a user runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnspec.cli.main import cli

LENET = ("Conv(5x5,6)-ReLU-Pool(2)-Conv(5x5,16)-ReLU-Pool(2)-FC(120)-ReLU-FC(84)-ReLU-FC(10)-SM")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_table_for_alexnet() -> None:
    code, out, err = run("analyze", "specs/alexnet.yaml")
    assert code == 0, err
    for text in ("55x55x96", "34,944", "37,748,736", "62,369,152", "249,476,608", "781,736",
                 "conventions: lecture", "55.75", "FLOPs = 2 x MACs"):
        assert text in out


def test_lenet_string_json() -> None:
    code, out, _ = run("analyze", LENET, "--input", "32x32x1", "--format", "json")
    assert code == 0
    data = json.loads(out)
    outputs = [layer["output"] for layer in data["layers"]]
    assert outputs[0] == [28, 28, 6] and outputs[2] == [14, 14, 6] and outputs[5] == [5, 5, 16]
    assert data["totals"]["params"] == 156 + 2416 + 48120 + 10164 + 850
    assert data["totals"]["macs"] == 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 \
        + 84 * 10


def test_csv_and_markdown() -> None:
    code, out, _ = run("analyze", "specs/alexnet.yaml", "-f", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["name"] == "Conv:1" and rows[0]["params"] == "34944"
    assert sum(int(r["params"]) for r in rows) == 62_369_152
    code, out, _ = run("analyze", "specs/alexnet.yaml", "-f", "markdown")
    assert code == 0
    assert out.splitlines()[6].startswith("| Layer | Type |")
    assert "| Conv:1 | Conv |" in out


def test_output_file_is_written(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    code, out, err = run("analyze", "specs/alexnet.yaml", "-f", "json", "-o", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["totals"]["nodes"] == 781_736
    assert "wrote" in err
    code, _, err = run("analyze", "specs/alexnet.yaml", "-f", "json", "-o", str(target), "-q")
    assert code == 0 and err == ""


def test_batch_and_optimizer() -> None:
    _, out, _ = run("analyze", LENET, "-i", "32x32x1", "-f", "json", "--batch", "64",
                       "--optimizer", "sgd")
    totals = json.loads(out)["totals"]
    assert totals["batch"] == 64
    assert totals["training_breakdown"]["optimizer_state"] == 0
    assert totals["activation_bytes_batch"] == 64 * totals["activation_bytes"]


def test_validate_accepts_structure_without_sizes() -> None:
    code, out, _ = run("validate", "Conv-Pool-Conv-Pool-Conv-FC-FC (SM)")
    assert code == 0
    assert "valid structure" in out and "Conv needs kernel and filters" in out
    code, out, _ = run("validate", "specs/alexnet.yaml")
    assert code == 0 and "alexnet: valid" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "Conv-Mpool2-FC", "-i", "8x8x1"], "did you mean 'MPool'?"),
        (["analyze", "Conv(3x3,4)-[ReLU", "-i", "8x8x1"], "never closed"),
        (["analyze", "[Conv(3x3,4)] x0", "-i", "8x8x1"], "repeat count 0"),
        (["analyze", "[Conv(3x3,4)] x 200000", "-i", "8x8x1"], "more than the limit"),
        (["analyze", "Conv(9x9,4)", "-i", "8x8x1"], "larger than the padded input"),
        (["analyze", "Conv(3x3,4,s=2)", "-i", "8x8x1"], "is not a whole number"),
        (["analyze", "FC(10)"], "the input shape"),
        (["analyze", "Conv(3x3,0)", "-i", "8x8x1"], "must be greater than 0"),
        (["analyze", "Conv(3x3,4)", "-i", "224x224"], "no channel count"),
        (["analyze", "missing.yaml"], "no such file"),
        (["validate", "does/not/exist.yaml"], "no such file"),
    ],
)
def test_bad_input_is_one_clear_error(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 1
    assert message in err
    assert "Traceback" not in err + out
    assert err.splitlines()[0].count("error:") == 1


def test_bad_yaml_files(tmp_path: Path) -> None:
    cases = {
        "unknown_key.yaml": ("input: 8x8x1\narchitecture: Conv(3x3,2)\nlayer: {}\n",
                             ":3:1: error: unknown key 'layer'; did you mean 'layers'?"),
        "list.yaml": ("- Conv\n", "not a mapping"),
        "empty.yaml": ("", "is empty"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        code, _, err = run("analyze", str(path))
        assert code == 1 and message in err, (name, err)
    blob = tmp_path / "blob.yaml"
    blob.write_bytes(bytes(range(256)))
    code, _, err = run("analyze", str(blob))
    assert code == 1 and "binary file" in err


def test_help_shows_examples() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "Examples:" in out and "analyze" in out
    for command in ("analyze", "validate"):
        code, out, _ = run(command, "--help")
        assert code == 0 and "Examples:" in out
