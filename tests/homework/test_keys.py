"""Keys teachers control, the Python API, Gradescope results and the autograder folder."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from cnnspec.cli.main import cli
from cnnspec.errors import DataError
from cnnspec.homework import check
from cnnspec.homework.keys import parse_key
from cnnspec.homework.verdicts import Verdict

ALEXNET_KEY = """\
key: 1
spec: alexnet
conventions: lecture
points: {default: 1, total.weights: 3, Conv:1: 2}
partial_credit: 0.5
tolerance: {total.memory_mb: 0.5, total.nodes: 1%}
accept:
  total.weights:
    - value: 58621952
      note: the lecture's own printed total
layers:
  Conv:1: {output: 55x55x96, nodes: 290400, weights: 34944}
  Pool:1: {output: 27x27x96}
  Conv:2: {weights: 614656}
totals: {weights: 62369152, memory_mb: 237.92, nodes: 781736}
questions:
  Q1: {ask: "Output side of 11x11, stride 4, padding 3 on 224?", kind: size,
       answer: not a whole number, working: "(224 + 2*3 - 11)/4 + 1 = 55.75",
       model: {kind: conv, h: 224, w: 224, c: 3, k: 96, fh: 11, fw: 11, sh: 4, sw: 4,
               ph: 3, pw: 3, rounding: strict}, cell: side}
"""

# the results format Gradescope documents for results.json (fields this project writes)
GRADESCOPE_SCHEMA = {
    "type": "object",
    "required": ["score", "tests"],
    "properties": {
        "score": {"type": "number"},
        "output": {"type": "string"},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published",
                                       "visible"]},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "score", "max_score", "output"],
            "properties": {"name": {"type": "string"}, "score": {"type": "number"},
                           "max_score": {"type": "number"}, "output": {"type": "string"},
                           "status": {"enum": ["passed", "failed"]}},
            "additionalProperties": False}},
    },
    "additionalProperties": False,
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "key.yaml"
    path.write_text(ALEXNET_KEY)
    return path


def test_accepted_alternative_tolerance_points_and_partial_credit(key_file: Path) -> None:
    result = check({"layers": {"Conv:1": {"output": "55x55x96", "nodes": 290400,
                                          "weights": 34944},
                               "Pool:1": {"output": "27x27x128"},
                               "Conv:2": {"weights": "(5x5x128+1)x256"}},
                    "totals": {"weights": "58,621,952", "memory_mb": 237.6,
                               "nodes": 785000},
                    "questions": {"Q1": 55}}, key_file)
    cells = {c.cell_id: c for c in result.cells}
    total = cells["total.weights"]
    assert total.verdict is Verdict.CORRECT and total.earned == 3
    assert total.notes[0] == "accepted: the lecture's own printed total"
    assert cells["total.memory_mb"].verdict is Verdict.CORRECT  # 0.32 off, within 0.5
    assert cells["total.nodes"].verdict is Verdict.CORRECT  # 0.42% off, within 1%
    assert any("within the key's tolerance" in n for n in cells["total.nodes"].notes)
    assert cells["Conv:1.weights"].max_points == 2 and cells["Conv:1.weights"].earned == 2
    consequential = cells["Conv:2.weights"]
    assert consequential.consequential and consequential.earned == Fraction(1, 2)
    assert cells["Pool:1.output"].earned == 0
    q1 = cells["Q1.answer"]
    # (224 + 3 - 11)/4 + 1 = 55 too: both models that give 55 are named
    assert q1.verdict is Verdict.WRONG
    assert [m.label for m in q1.mistakes] == ["padding applied once", "floor rounding"]
    assert "(224 + 2*3 - 11)/4 + 1 = 55.75 -> 55 (floor)" in q1.mistakes[1].text
    assert len(result.cells) == 9  # the cells the key lists, and its question
    assert result.max_points == 2 * 3 + 1 + 1 + 3 + 1 + 1 + 1
    data = result.to_dict()
    assert json.loads(json.dumps(data))["cells"][0]["max_points"] == 2.0


def test_a_key_graded_as_its_own_answers_is_all_correct(key_file: Path) -> None:
    result = check(key_file, key_file)
    assert result.all_correct and result.score == 1.0
    code, out, _ = run("check", str(key_file))
    assert code == 0 and "0 wrong, 0 missing" in out


def test_key_errors_are_located(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="partial_credit is a share") as caught:
        parse_key(ALEXNET_KEY.replace("partial_credit: 0.5", "partial_credit: 2"), "k.yaml")
    assert caught.value.loc.line == 5
    with pytest.raises(DataError, match="not an answer key"):
        parse_key("spec: alexnet\n", "k.yaml")


def test_gradescope_results_validate_against_the_format(key_file: Path,
                                                        tmp_path: Path) -> None:
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "answers.yaml").write_text("student: kim\nlayers:\n  Conv:1: {output: 55x55x96}\n"
                                      "questions: {Q1: not a whole number}\n")
    results = tmp_path / "results.json"
    code, _, err = run("check", str(sub), "--key", str(key_file), "--gradescope",
                       str(results))
    assert code == 1 and f"wrote {results}" in err
    data = json.loads(results.read_text())
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    tests = {t["name"]: t for t in data["tests"]}
    conv = tests["Conv:1.output"]
    assert (conv["score"], conv["max_score"], conv["status"]) == (2.0, 2.0, "passed")
    assert conv["output"].startswith("you wrote 55x55x96: correct\nheight and width: (224 + ")
    assert tests["total.weights"]["max_score"] == 3.0 and tests["total.weights"]["score"] == 0
    assert data["score"] == 3.0  # Conv:1.output 2 + Q1 1
    (sub / "other.yaml").write_text("layers: {}\n")
    code, _, err = run("check", str(sub), "--key", str(key_file), "--gradescope",
                       str(results))
    assert code == 2 and "grades one submission" in err


def test_autograder_folder(key_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ag"
    code, _, err = run("exercise", "autograder", str(key_file), "-o", str(folder))
    assert code == 0 and "run_autograder" in err
    assert sorted(p.name for p in folder.iterdir()) == ["key.yaml", "run_autograder",
                                                        "setup.sh"]
    run_script = (folder / "run_autograder").read_text()
    assert "cnnspec check /autograder/submission --key key.yaml --gradescope " \
           "/autograder/results/results.json" in run_script
    assert os.access(folder / "run_autograder", os.X_OK)
    assert "pip install --quiet cnnspec" in (folder / "setup.sh").read_text()
    assert (folder / "key.yaml").read_text() == key_file.read_text()


def test_the_documented_key_works(tmp_path: Path) -> None:
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "course.md").read_text()
    path = tmp_path / "key.yaml"
    path.write_text(re.findall(r"```yaml\n(.*?)```", doc, re.S)[0])
    assert check(path, path).all_correct
    result = check({"totals": {"weights": "58,621,952"}}, path)
    total = next(c for c in result.cells if c.cell_id == "total.weights")
    assert total.earned == 3 and total.notes[0] == ("accepted: the total printed under the "
                                                    "lecture's table")
