"""A teacher's batch: one row per submission and the cells most students got wrong."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from cnnspec.errors import DataError
from cnnspec.homework.answers import read_answers
from cnnspec.homework.batch import find_submissions, grade_files, grades_csv, summarize
from cnnspec.homework.verdicts import Verdict


def test_batch_rows_and_summary(fixtures: Path) -> None:
    paths = find_submissions(fixtures / "submissions")
    assert [p.name for p in paths] == ["choi.yaml", "jung.csv", "kim.yaml", "lee.yaml",
                                       "park.yaml"]
    done: list[str] = []
    subs = grade_files(paths, "specs/alexnet.yaml", None, None,
                       on_done=lambda p: done.append(p.name))
    assert done == [p.name for p in paths]
    by_name = {s.name: s for s in subs}
    assert by_name["choi.yaml"].grade is None and "malformed YAML" in by_name["choi.yaml"].error
    assert by_name["kim.yaml"].grade.all_correct
    summary = summarize(subs)
    top = summary[0]
    assert (top.cell_id, top.wrong, top.correct, top.common_mistake) == (
        "Conv:2.weights", 3, 1, "bias forgotten")
    assert {s.cell_id: s.common_mistake for s in summary}["Conv:4.output"] == \
        "padding applied once"
    assert all(s.not_correct == 0 for s in summary if s.cell_id == "Pool:1.output")


def test_grades_csv_is_long_with_given_and_expected(fixtures: Path) -> None:
    subs = grade_files(find_submissions(fixtures / "submissions"), "specs/alexnet.yaml", None,
                       None)
    rows = list(csv.DictReader(io.StringIO(grades_csv(subs))))
    assert list(dict.fromkeys(r["submission"] for r in rows)) == [
        "choi.yaml", "jung.csv", "kim.yaml", "lee.yaml", "park.yaml"]
    by = {(r["submission"], r["cell"]): r for r in rows}
    kim = by[("kim.yaml", "Conv:1.output")]
    assert (kim["score"], kim["verdict"], kim["given"], kim["expected"]) == (
        "1.0000", "correct", "55x55x96", "55x55x96")
    lee = by[("lee.yaml", "Conv:2.weights")]
    assert (lee["verdict"], lee["given"], lee["expected"], lee["cell_points"]) == (
        "wrong", "614,400", "614,656", "0")
    assert lee["diagnosis"].startswith("bias forgotten: (5*5*96)*256 = 614,400")
    assert by[("jung.csv", "Conv:1.output")]["verdict"] == "wrong"
    assert ("jung.csv", "total.memory_bytes") not in by
    choi = [r for r in rows if r["submission"] == "choi.yaml"]
    assert len(choi) == 1 and choi[0]["cell"] == ""
    assert choi[0]["error"].startswith(str(fixtures / "submissions" / "choi.yaml") + ":4:")


def test_names_are_escaped_against_csv_injection(tmp_path: Path) -> None:
    for i, name in enumerate(["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)", "\tTab",
                              "Kim"]):
        (tmp_path / f"s{i}.yaml").write_text(
            f"student: {json.dumps(name)}\nspec: alexnet\nlayers:\n"
            f"  Conv:1: {{output: 55x55x96}}\n")
    rows = list(csv.DictReader(io.StringIO(grades_csv(
        grade_files(find_submissions(tmp_path), None, None, None)))))
    assert list(dict.fromkeys(r["student"] for r in rows)) == [
        "'=cmd|' /C calc'!A0", "'+1", "'-2+3", "'@SUM(A1)", "'\tTab", "Kim"]


def test_a_fifo_gets_an_error_row_without_being_opened(tmp_path: Path) -> None:
    (tmp_path / "kim.yaml").write_text("spec: alexnet\nlayers:\n  Conv:1: {output: 55x55x96}\n")
    os.mkfifo(tmp_path / "pipe.yaml")
    os.mkfifo(tmp_path / "named_pipe")  # no answer suffix: still listed, never skipped quietly
    subs = grade_files(find_submissions(tmp_path), None, None, None)  # would block if opened
    errors = {s.name: s.error for s in subs if s.error}
    assert set(errors) == {"pipe.yaml", "named_pipe"}
    assert "is a FIFO, not an answer file" in errors["pipe.yaml"]
    assert [s.name for s in subs if s.grade is not None] == ["kim.yaml"]


def test_a_device_file_gets_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a device, not an answer file"):
        read_answers("/dev/null")


def test_each_distinct_spec_is_analysed_once(tmp_path: Path, monkeypatch) -> None:
    from cnnspec.homework import batch

    calls = []
    real = batch.SpecCache.analysed

    def counting(self, network):
        found = real(self, network)
        calls.append(id(found))
        return found

    monkeypatch.setattr(batch.SpecCache, "analysed", counting)
    (tmp_path / "specs").mkdir()
    for v in range(3):
        (tmp_path / "specs" / f"v{v}.yaml").write_text(
            f"input: {16 + 4 * v}x{16 + 4 * v}x3\narchitecture: Conv(3x3,4,p=1)-FC(10)\n")
    for i in range(12):
        (tmp_path / f"s{i:02d}.yaml").write_text(
            f"spec: specs/v{i % 3}.yaml\nlayers:\n  Conv:1: {{weights: {112 - i % 2}}}\n")
    subs = grade_files(find_submissions(tmp_path), None, None, None)
    assert [s.grade.count(Verdict.CORRECT) for s in subs] == [1, 0] * 6
    assert len(set(calls)) == 3 and len(calls) == 12


def test_embedded_specs_are_told_apart(tmp_path: Path) -> None:
    for i, side in enumerate((8, 10)):
        (tmp_path / f"s{i}.yaml").write_text(
            f"spec:\n  input: {side}x{side}x1\n  architecture: Conv(3x3,2)-FC(3)\n"
            f"layers:\n  Conv:1: {{output: {side - 2}x{side - 2}x2}}\n")
    subs = grade_files(find_submissions(tmp_path), None, None, None)
    verdicts = [next(c.verdict for c in s.grade.cells if c.cell_id == "Conv:1.output")
                for s in subs]
    assert verdicts == [Verdict.CORRECT, Verdict.CORRECT]
