"""`cnnspec zoo`, `cnnspec compare`, and zoo names wherever a SPEC is expected."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from cnnspec.cli.main import cli

GOOGLENET, ALEXNET = 6_624_904, 61_100_840


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_zoo_table_lists_every_spec() -> None:
    code, out, _ = run("zoo")
    assert code == 0
    for text in ("resnet152", "60,192,808", "11.51 G", "densenet121", "7,978,856", "2.834 G",
                 "lenet5-1998", "dpn92", "googlenet-paper", "cifar10-vgg", "227x227x3"):
        assert text in out


def test_zoo_json_has_the_figures() -> None:
    code, out, _ = run("zoo", "-f", "json")
    assert code == 0
    entries = {e["name"]: e for e in json.loads(out)}
    assert len(entries) >= 22
    vgg16 = entries["vgg16"]
    assert (vgg16["trainable_params"], vgg16["macs"], vgg16["depth"]) == (138_357_544,
                                                                           15_470_264_320, 16)
    assert vgg16["input"] == "224x224x3" and vgg16["conventions"] == "pytorch"
    assert entries["googlenet"]["aux_params"] > 6_000_000
    assert all(e["error"] is None and e["description"] for e in entries.values())


def test_zoo_csv_and_markdown_for_chosen_names() -> None:
    code, out, _ = run("zoo", "resnet50", "lenet5", "-f", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["name"] for r in rows] == ["lenet5", "resnet50"]
    assert rows[1]["trainable_params"] == "25557032" and rows[1]["macs"] == "4089184256"
    code, out, _ = run("zoo", "resnet50", "-f", "markdown")
    assert code == 0
    assert out.splitlines()[0].startswith("| Name | Input | Params |")
    assert ("| resnet50 | 224x224x3 | 25,610,152 (25.61 M) | 25,557,032 (25.56 M) | "
            "4,089,184,256 (4.089 G) | 50 |") in out


def test_zoo_unknown_name_is_an_error_with_a_suggestion() -> None:
    code, _, err = run("zoo", "resnet51")
    assert code == 1
    assert "no zoo spec is called 'resnet51'" in err and "did you mean" in err


def test_zoo_writes_a_file(tmp_path) -> None:
    target = tmp_path / "zoo.md"
    code, out, err = run("zoo", "vgg11", "-f", "md", "-o", str(target))
    assert code == 0 and out == "" and "wrote" in err
    assert "132,863,336" in target.read_text()


def test_analyze_finds_zoo_specs_by_name() -> None:
    code, out, _ = run("analyze", "resnet50", "-f", "json")
    assert code == 0
    assert json.loads(out)["totals"]["trainable_params"] == 25_557_032
    code, out, _ = run("analyze", "ResNeXt50_32x4d", "--depth", "0")
    assert code == 0 and "25,028,904" in out


def test_compare_settles_the_googlenet_claim() -> None:
    code, out, _ = run("compare", "alexnet-torchvision", "googlenet", "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert data["baseline"] == "alexnet-torchvision"
    alexnet, googlenet = data["specs"]
    assert (alexnet["trainable_params"], googlenet["trainable_params"]) == (ALEXNET, GOOGLENET)
    (ratios,) = data["ratios"]
    # the notes say GoogLeNet has "10% more weights than AlexNet": it has about 10.8% of them
    assert ratios["trainable_params"] == GOOGLENET / ALEXNET
    assert round(ratios["trainable_params"], 4) == 0.1084
    assert round(ALEXNET / GOOGLENET, 2) == 9.22
    assert ratios["depth"] == 22 / 8
    assert data["summary"] == [
        "googlenet has 6,624,904 trainable parameters, 10.8% of alexnet-torchvision's "
        "61,100,840 (alexnet-torchvision has 9.22x as many)"]


def test_compare_table_markdown_and_csv() -> None:
    code, out, _ = run("compare", "vgg16", "resnet50", "densenet121")
    assert code == 0
    for text in ("vgg16", "resnet50 / vgg16", "densenet121 / vgg16", "Depth (longest path)",
                 "x0.185", "138,357,544", "Activation memory per image"):
        assert text in out
    code, out, _ = run("compare", "vgg16", "resnet50", "-f", "markdown")
    assert code == 0
    assert "| Trainable parameters | 138,357,544 (138.4 M) | 25,557,032 (25.56 M) | x0.185 |" in out
    code, out, _ = run("compare", "vgg16", "resnet50", "-f", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["metric", "vgg16", "resnet50", "resnet50/vgg16"]
    assert ["depth", "16", "50", "3.125000"] in rows


def test_compare_accepts_strings_with_an_input() -> None:
    code, out, _ = run("compare", "lenet5", "Conv(5x5,6)-ReLU-Pool(2)-FC(10)", "--input",
                       "32x32x1", "-f", "json")
    assert code == 0
    second = json.loads(out)["specs"][1]
    assert second["params"] == 156 + (14 * 14 * 6 + 1) * 10


def test_compare_errors() -> None:
    code, _, err = run("compare", "resnet50")
    assert code == 2 and "at least two specs" in err
    code, _, err = run("compare", "resnet50", "Conv-Mpool2-FC")
    assert code == 1 and "unknown layer 'Mpool2'" in err
