"""`cnnspec exercise make` and grading a class against per-student keys, as a teacher runs
them: sheets, answer files, keys, grades.csv and feedback files."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml
from click.testing import CliRunner

from cnnspec.cli.main import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_make_writes_reproducible_sheets_keys_and_answer_files(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nkim01,Kim\n<b>x</b>,Lee\n")
    code, _, err = run("exercise", "make", "--roster", str(roster), "--name", "hw1",
                       "-o", str(tmp_path / "a"))
    assert code == 0 and "wrote 2 exercises" in err
    code, _, _ = run("exercise", "make", "--students", "kim01", "--name", "hw1",
                     "-o", str(tmp_path / "b"), "-q")
    first = (tmp_path / "a" / "keys" / "kim01.yaml").read_text()
    assert first == (tmp_path / "b" / "keys" / "kim01.yaml").read_text()  # same id, same key
    key = yaml.safe_load(first)
    assert key["student"] == "kim01" and not Path(key["spec"]).is_absolute()
    sheet = (tmp_path / "a" / "sheets" / "kim01.md").read_text()
    assert key["spec"] in sheet and "| Conv:1 | Conv |" in sheet and "____" in sheet
    assert str(key["totals"]["weights"]) not in sheet  # numbers are blanked
    html = (tmp_path / "a" / "sheets" / "b_x_b.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    answers = yaml.safe_load((tmp_path / "a" / "answers" / "kim01.yaml").read_text())
    assert answers["student"] == "kim01" and answers["questions"] == {
        f"Q{i}": None for i in range(1, 15)}


def test_grading_a_class_against_per_student_keys(tmp_path: Path) -> None:
    run("exercise", "make", "--students", "kim,lee,park", "-o", str(tmp_path), "-q")
    handed = tmp_path / "handed"
    handed.mkdir()
    for sid in ("kim", "lee"):
        key = (tmp_path / "keys" / f"{sid}.yaml").read_text()
        (handed / f"{sid}.yaml").write_text(key)  # a perfect student: the key itself
    park = yaml.safe_load((tmp_path / "keys" / "park.yaml").read_text())
    for name in ("key", "points", "partial_credit", "tolerance", "accept", "title"):
        park.pop(name, None)
    conv1 = park["layers"]["Conv:1"]
    right = conv1["weights"]
    filters = int(conv1["output"].split("x")[-1])
    conv1["weights"] = right - filters  # biases forgotten
    park["questions"] = {q: v["answer"] for q, v in park["questions"].items()}
    (handed / "park.yaml").write_text(yaml.safe_dump(park))
    grades = tmp_path / "grades.csv"
    feedback = tmp_path / "feedback"
    code, _, err = run("check", str(handed), "--key", str(tmp_path / "keys"), "--report",
                         str(grades), "--feedback", str(feedback))
    assert code == 1 and "wrote 3 feedback files" in err
    rows = list(csv.DictReader(grades.read_text().splitlines()))
    wrong = [r for r in rows if r["verdict"] == "wrong"]
    assert [(r["submission"], r["cell"]) for r in wrong] == [("park.yaml", "Conv:1.weights")]
    assert wrong[0]["given"] == f"{right - filters:,}" and wrong[0]["expected"] == f"{right:,}"
    assert wrong[0]["diagnosis"].startswith("bias forgotten: (")
    assert {r["score"] for r in rows if r["submission"] == "kim.yaml"} == {"1.0000"}
    text = (feedback / "park.md").read_text()
    assert text.startswith("# Feedback for park: ") and "| Conv:1.weights |" in text
    assert "bias forgotten" in text and sorted(p.name for p in feedback.iterdir()) == [
        "kim.md", "lee.md", "park.md"]


def test_make_refuses_bad_rosters(tmp_path: Path) -> None:
    roster = tmp_path / "r.txt"
    roster.write_text("kim\nlee\nkim\n")
    code, _, err = run("exercise", "make", "--roster", str(roster), "-o", str(tmp_path / "o"))
    assert code == 1 and err.startswith(f"{roster}:3: error: student id 'kim' appears twice")
    code, _, err = run("exercise", "make", "-o", str(tmp_path / "o"))
    assert code == 2 and "--students ID,ID,... or --roster FILE" in err


def test_an_unwritable_output_folder_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    code, _, err = run("exercise", "make", "--students", "kim", "-o", str(blocker / "hw"))
    assert code == 1 and "internal error" not in err
    assert err.startswith(f"{blocker / 'hw'}: error: cannot write {blocker}")
    key = tmp_path / "k.yaml"
    key.write_text("key: 1\nspec: alexnet\n")
    code, _, err = run("exercise", "autograder", str(key), "-o", str(blocker / "ag"))
    assert code == 1 and "cannot write" in err and "choose a folder you can write to" in err


def test_make_with_a_given_spec_varies_only_the_questions(tmp_path: Path) -> None:
    code, _, _ = run("exercise", "make", "--students", "kim,lee", "--spec",
                     "32x32x3 -> Conv(3x3,8)-FC(10)", "-o", str(tmp_path), "-q")
    kim, lee = (yaml.safe_load((tmp_path / "keys" / f"{s}.yaml").read_text())
                for s in ("kim", "lee"))
    assert code == 0 and kim["spec"] == lee["spec"] == "32x32x3 -> Conv(3x3,8)-FC(10)"
    assert kim["layers"] == lee["layers"] and kim["questions"] != lee["questions"]
    assert kim["layers"]["Conv:1"] == {"output": "30x30x8", "nodes": 7200, "weights": 224}
    code, out, _ = run("check", str(tmp_path / "keys" / "kim.yaml"))
    assert code == 0 and "0 wrong, 0 missing" in out
