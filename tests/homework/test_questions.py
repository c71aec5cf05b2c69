"""Questions beside the table: sizes that do not fit, counts, matrices by hand."""

from __future__ import annotations

from cnnspec.homework.questions import NOT_WHOLE, Question, judge_question
from cnnspec.homework.verdicts import GradeOptions, Verdict

SIZE_MODEL = {"kind": "conv", "h": 7, "w": 7, "c": 1, "k": 1, "fh": 3, "fw": 3, "sh": 3,
              "sw": 3, "ph": 0, "pw": 0, "rounding": "strict"}
NO_FIT = Question("Q2", "size", "7x7, 3x3, stride 3?", NOT_WHOLE,
                  "(7 + 2*0 - 3)/3 + 1 = 2.33 is not a whole number", SIZE_MODEL, "side")
POOL = Question("Q14", "matrix", "stochastic pooling", [[49 / 13, 35 / 9], [1.8, 35 / 9]], "")


def judged(q: Question, raw: object):
    return judge_question(q, raw, None, GradeOptions())


def test_a_stride_that_does_not_fit() -> None:
    for words in ("not a whole number", "Not whole.", "does not fit", "none"):
        assert judged(NO_FIT, words).verdict is Verdict.CORRECT
    floor = judged(NO_FIT, 2)
    assert floor.verdict is Verdict.WRONG
    assert [m.label for m in floor.mistakes] == ["floor rounding"]
    assert floor.mistakes[0].text.startswith("(7 + 2*0 - 3)/3 + 1 = 2.33 -> 2 (floor)")
    assert [m.label for m in judged(NO_FIT, 3).mistakes] == ["ceil rounding"]
    fits = Question("Q1", "size", "", 3, "(7 - 3)/2 + 1 = 3", {**SIZE_MODEL, "sh": 2,
                                                               "sw": 2}, "side")
    assert [m.label for m in judged(fits, "not a whole number").mistakes] == ["it fits"]
    assert [m.label for m in judged(fits, 5).mistakes] == ["stride ignored"]
    assert judged(fits, None).verdict is Verdict.MISSING


def test_matrices_as_lists_or_rows_rounded_to_two_decimals() -> None:
    assert judged(POOL, "3.77 3.89; 1.8 3.89").verdict is Verdict.CORRECT
    assert judged(POOL, [[3.77, 3.89], [1.8, 3.89]]).verdict is Verdict.CORRECT
    wrong = judged(POOL, "3.77 3.89; 1.8 3.8")
    assert wrong.verdict is Verdict.WRONG
    assert wrong.mistakes[0].text == "1 of 4 entries differ: y_22 = 3.8 (expected 3.88889)"
    assert judged(POOL, "1 2 3").mistakes[0].label == "wrong size"


def test_counts_are_diagnosed_by_the_catalogue() -> None:
    q = Question("Q3", "count", "", 2432, "(3*3*3 + 1)*... ",
                 {"kind": "conv", "h": 8, "w": 8, "c": 3, "k": 64, "fh": 3, "fw": 3,
                  "bias": True, "image_c": 3}, "weights")
    assert judged(q, "(3x3x3+1)x64 = 1,792").verdict is Verdict.WRONG
    q = Question("Q3", "count", "", 1792, "", q.model, "weights")
    assert judged(q, "(3x3x3+1)x64").verdict is Verdict.CORRECT
    assert [m.label for m in judged(q, 1728).mistakes] == ["bias forgotten"]
    assert [m.label for m in judged(q, 1793).mistakes] == ["one-digit slip"]
    assert judged(q, "lots").mistakes[0].label == "not a number"
