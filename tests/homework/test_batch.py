"""A teacher's batch: one row per submission and the cells most students got wrong."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cnnspec.homework.batch import find_submissions, grade_files, grades_csv, summarize


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


def test_grades_csv(fixtures: Path) -> None:
    subs = grade_files(find_submissions(fixtures / "submissions"), "specs/alexnet.yaml", None,
                       None)
    rows = list(csv.DictReader(io.StringIO(grades_csv(subs))))
    assert [r["submission"] for r in rows] == ["choi.yaml", "jung.csv", "kim.yaml", "lee.yaml",
                                              "park.yaml"]
    kim = rows[2]
    assert kim["score"] == "1.0000" and kim["wrong"] == "0" and kim["Conv:1.output"] == "correct"
    lee = rows[3]
    assert lee["Conv:2.weights"] == "wrong" and lee["Conv:4.output"] == "wrong"
    jung = rows[1]
    assert jung["Conv:1.output"] == "wrong" and jung["total.memory_bytes"] == ""
    assert rows[0]["error"].startswith(str(fixtures / "submissions" / "choi.yaml") + ":4:")
