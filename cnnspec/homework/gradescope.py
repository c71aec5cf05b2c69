"""Grades where courses keep them: Gradescope's autograder results, a ready autograder
folder, and one markdown feedback file per student.

Room: consumers (homework). Gradescope runs ``run_autograder`` in a container
with the submission in ``/autograder/submission`` and reads
``/autograder/results/results.json``: a top-level ``score``, an ``output``, and
``tests``, each with a ``name``, ``score``, ``max_score``, ``status`` and ``output``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cnnspec.homework.verdicts import Grade, Verdict

RESULTS_PATH = "/autograder/results/results.json"
SUBMISSION_DIR = "/autograder/submission"


def results(grade: Grade | None, error: str | None = None) -> dict[str, Any]:
    """The Gradescope results of one submission (an unreadable file scores 0 with its
    error as the output)."""
    if grade is None:
        return {"score": 0.0, "output": f"The answer file could not be read: {error}",
                "visibility": "visible", "tests": []}
    tests = []
    for cell in grade.cells:
        lines = cell.why()
        if cell.verdict is Verdict.CORRECT:
            lines = [f"you wrote {cell.given}: correct", *lines]
        tests.append({
            "name": cell.cell_id,
            "score": float(cell.earned),
            "max_score": float(cell.max_points),
            "status": "passed" if cell.verdict is Verdict.CORRECT else "failed",
            "output": "\n".join(lines),
        })
    return {"score": float(grade.points), "output": grade.score_text(),
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def results_json(grade: Grade | None, error: str | None = None) -> str:
    """:func:`results` as JSON text."""
    return json.dumps(results(grade, error), indent=2) + "\n"


SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get install -y python3 python3-pip >/dev/null 2>&1 || true
python3 -m pip install --quiet {requirement}
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade the answer file against the key.
set -uo pipefail
mkdir -p /autograder/results
cd /autograder/source
cnnspec check {submission} --key {key} --gradescope {results} --quiet --format json \\
    > /autograder/results/grade.json
status=$?
# exit 1 only says "not every cell is correct"; the results file holds the score
if [ "$status" -gt 1 ] || [ ! -s {results} ]; then
    echo '{{"score": 0, "output": "The autograder could not grade this submission."}}' \\
        > {results}
fi
exit 0
"""


def write_autograder(folder: str | Path, key_path: str | Path, requirement: str) -> list[Path]:
    """A ready Gradescope autograder folder: ``setup.sh``, ``run_autograder`` and the key
    (a file, or a folder of per-student keys). Zip the folder's contents and upload it."""
    from cnnspec.atomic import write_text

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    source = Path(key_path)
    if source.is_dir():
        target = root / "keys"
        target.mkdir(exist_ok=True)
        for item in sorted(source.glob("*.y*ml")):
            write_text(target / item.name, item.read_text(encoding="utf-8"))
        key_name = "keys"
    else:
        key_name = "key.yaml"
        write_text(root / key_name, source.read_text(encoding="utf-8"))
    setup = root / "setup.sh"
    run = root / "run_autograder"
    write_text(setup, SETUP_SH.format(requirement=requirement))
    write_text(run, RUN_AUTOGRADER.format(submission=SUBMISSION_DIR, key=key_name,
                                          results=RESULTS_PATH))
    for script in (setup, run):
        script.chmod(0o755)
    return [setup, run, root / key_name]


def feedback_markdown(grade: Grade) -> str:
    """A markdown feedback file to hand back to the student."""
    from cnnspec.homework.sheets import feedback_blocks, to_markdown

    return to_markdown(feedback_blocks(grade))
