"""Homework tools: the calculator that shows its working, convolution and pooling by hand,
every number of an analysis explained, and answer checking.

Room: consumers. Reads ``cnnspec.spec`` and ``cnnspec.analysis`` records (and the
engine's functional ops for the by-hand results); never imports click.

* :mod:`.calc` -- output size, parameters, connections, receptive field, memory.
* :mod:`.matrices`, :mod:`.by_hand` -- small matrices, every window written out.
* :mod:`.explain` -- a report as markdown derivations.
* :mod:`.values`, :mod:`.answers`, :mod:`.templates` -- what a student wrote, from YAML or CSV;
  blank answer files to fill in.
* :mod:`.grading`, :mod:`.diagnose`, :mod:`.diagnose_totals`, :mod:`.verdicts` -- verdicts
  and the usual mistakes behind wrong values.
* :mod:`.batch`, :mod:`.report` -- a folder of submissions; output formats.
* :mod:`.mistakes` -- the catalogue of mistake models behind a diagnosis.
* :mod:`.keys`, :mod:`.rules`, :mod:`.questions` -- answer keys: points, partial credit,
  accepted alternatives, tolerance, questions beside the table.
* :mod:`.exercise`, :mod:`.exercise_questions`, :mod:`.sheets` -- one variant per student,
  its sheet (markdown, HTML) and key.
* :mod:`.gradescope` -- Gradescope results, the autograder folder,
  feedback files; names escaped (:mod:`cnnspec.render.safe_text`) for CSV, terminal,
  markdown and HTML.

``check(answers, key)`` grades from Python (Jupyter, nbgrader) and returns the
verdicts as data (``.to_dict()`` is JSON).
"""

from __future__ import annotations

from typing import Any


def check(answers: Any, key: Any, options: Any = None) -> Any:
    """Grade ``answers`` (a path or a mapping) against ``key`` (a key file, or a spec);
    see :func:`cnnspec.homework.keys.check`."""
    from cnnspec.homework.keys import check as check_with_key

    return check_with_key(answers, key, options)
