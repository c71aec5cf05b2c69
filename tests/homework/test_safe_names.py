"""Names from answer files stay data: no spreadsheet formulas, no terminal escapes, no
rich markup."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cnnspec.cli.main import cli
from cnnspec.homework.answers import read_answers
from cnnspec.render.safe_text import csv_cell, markdown_cell, one_line, safe_filename


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_csv_cells_that_would_be_formulas_get_an_apostrophe() -> None:
    assert [csv_cell(v) for v in ("=1+2", "+1", "-1", "@A1", "\tx", "\rx", "Kim", "", 5, -3)] \
        == ["'=1+2", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "Kim", "", 5, -3]


def test_control_characters_are_shown_escaped() -> None:
    assert one_line("\x1b]0;owned\x07Kim\x1b[2J\n") == "\\x1b]0;owned\\x07Kim\\x1b[2J\\x0a"
    assert one_line("김민수 Lee") == "김민수 Lee"
    assert one_line("a\u202eb\x9bc") == "a\\u202eb\\x9bc"
    assert markdown_cell("a|<b>") == "a\\|&lt;b>"
    assert safe_filename("../../escaped") == "escaped"
    assert safe_filename("Kim / A", default="student") == "Kim _ A"
    assert safe_filename("..", default="student") == "student"


def _answer(tmp_path: Path, name: str, student: str) -> Path:
    path = tmp_path / name
    path.write_text(f"student: {json.dumps(student)}\nspec: alexnet\nlayers:\n"
                    f"  Conv:1: {{output: 55x55x96, weights: 34848}}\n")
    return path


def test_names_are_never_rich_markup(tmp_path: Path) -> None:
    code, out, err = run("check", str(_answer(tmp_path, "a.yaml", "[/]Lee[group3]")))
    assert code == 1 and "internal error" not in err
    assert "[/]Lee[group3] — alexnet" in out
    code, out, _ = run("check", str(_answer(tmp_path, "b.yaml", "Lee [group 3]")))
    assert "Lee [group 3] — alexnet" in out


def test_escape_sequences_in_names_reach_the_terminal_escaped(tmp_path: Path) -> None:
    _, out, _ = run("check", str(_answer(tmp_path, "a.yaml", "\x1b]0;owned\x07Kim\x1b[2J")))
    assert "\x1b" not in out and "\\x1b]0;owned\\x07Kim\\x1b[2J — alexnet" in out


def test_batch_table_and_report_escape_names(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    _answer(folder, "a.yaml", "[/]Lee[group3]")
    _answer(folder, "b.yaml", "=cmd|' /C calc'!A0")
    _answer(folder, "c.yaml", "Kim\x1b[2J")
    report = tmp_path / "grades.csv"
    code, out, err = run("check", str(folder), "--report", str(report))
    assert code == 1 and "internal error" not in err and "\x1b" not in out
    assert "[/]Lee[group3]" in out and "Kim\\x1b[2J" in out
    assert "\n'=cmd|' /C calc'!A0" not in report.read_text()
    assert "b.yaml,'=cmd|' /C calc'!A0," in report.read_text()


def test_templates_never_name_a_path_of_the_teachers_machine(tmp_path: Path) -> None:
    root = Path.cwd()
    code, out, _ = run("check", "--template", str(root / "specs" / "alexnet.yaml"))
    assert code == 0 and "\nspec: alexnet\n" in out  # a zoo file becomes its zoo name
    mine = tmp_path / "course" / "nets" / "small.yaml"
    mine.parent.mkdir(parents=True)
    mine.write_text("name: small\ninput: 8x8x1\narchitecture: Conv(3x3,2)-FC(3)\n")
    hand_out = tmp_path / "course" / "hw1" / "answers.yaml"
    hand_out.parent.mkdir()
    code, _, _ = run("check", "--template", str(mine), "-o", str(hand_out))
    text = hand_out.read_text()
    assert code == 0 and '\nspec: "../nets/small.yaml"\n' in text and str(tmp_path) not in text
    embedded = tmp_path / "elsewhere" / "answers.yaml"
    embedded.parent.mkdir()
    code, _, _ = run("check", "--template", str(mine), "--embed", "-o", str(embedded))
    text = embedded.read_text()
    assert code == 0 and "  architecture: Conv(3x3,2)-FC(3)" in text and str(tmp_path) not in text
    mine.unlink()  # the teacher's file is gone: the embedded copy still grades
    code, out, err = run("check", str(embedded))
    assert code == 1 and err == "" and "small" in out and "0 wrong, 12 missing" in out
    assert read_answers(embedded).spec_text is not None


def test_channel_names_from_a_matrix_file_are_shown_escaped(tmp_path: Path) -> None:
    fmap = tmp_path / "map.txt"
    fmap.write_text("# R\x1b[2J\n1 2\n3 4\n\n# G\n0 1\n1 0\n")
    code, out, _ = run("pool", str(fmap), "--size", "2")
    assert code == 0 and "\x1b" not in out and "R\\x1b[2J" in out
