"""User text made safe: terminal escapes, rich markup, CSV formulas, file names, mathtext."""

from __future__ import annotations

import csv
import io

import pytest
from rich.table import Table
from rich.text import Text

from cnnspec.render.safe_text import (
    FILENAME_MAX,
    csv_cell,
    csv_row,
    markup,
    mathtext,
    printable,
    safe_console,
    safe_filename,
    styled,
)


@pytest.mark.parametrize("text, shown", [
    ("Lee", "Lee"),
    ("a\x1b[2Jb", "a\\x1b[2Jb"),  # clear screen
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),  # window title
    ("over\rwrite", "over\\x0dwrite"),
    ("bi\u202edi", "bi\\u202edi"),  # right-to-left override
    ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
    ("two\nlines\ttab", "two\nlines\ttab"),
    ("Jos\u00e9 \u5b66\u751f", "Jos\u00e9 \u5b66\u751f"),  # letters of any script stay
])
def test_printable_escapes_control_characters(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_printable_keeps_one_line_when_asked() -> None:
    assert printable("a\nb\tc", keep_newlines=False) == "a\\x0ab\\x09c"


@pytest.mark.parametrize("name", ["[/]Lee[group3]", "Lee [group 3]", "[bold]x[/bold]",
                                  "[link=file:///etc]x[/link]", "\x1b[31mred"])
def test_markup_prints_the_text_as_given(name: str) -> None:
    console = safe_console(file=io.StringIO(), width=80, color_system=None)
    console.print(f"[bold]{markup(name)}[/] done")
    assert console.file.getvalue() == f"{printable(name)} done\n"


@pytest.mark.parametrize("name", ["[/]Lee[group3]", "back\\[slash", "end\\", "a\\[b]c\\"])
def test_styled_text_is_exact(name: str) -> None:
    console = safe_console(file=io.StringIO(), width=80, color_system=None)
    console.print(Text.assemble(styled(name, "bold"), " done"))
    assert console.file.getvalue() == f"{name} done\n"


def test_safe_console_escapes_strings_text_and_table_cells() -> None:
    console = safe_console(file=io.StringIO(), width=80, color_system=None)
    console.print("s \x1b[2J")
    console.print(Text("t \x1b]0;x\x07 end"))
    table = Table("name")
    table.add_row("c \x1b[31m")
    console.print(table)
    out = console.file.getvalue()
    assert "\x1b" not in out and "\x07" not in out  # (rich drops the bell itself)
    assert "s \\x1b[2J" in out and "t \\x1b]0;x end" in out and "c \\x1b[31m" in out


def test_safe_console_keeps_its_own_styles() -> None:
    console = safe_console(file=io.StringIO(), width=40, force_terminal=True,
                           color_system="standard")
    console.print("[bold]name[/]")
    assert console.file.getvalue() == "\x1b[1mname\x1b[0m\n"


@pytest.mark.parametrize("value, cell", [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+1", "'+1"), ("-1+2", "'-1+2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Lee", "Lee"), ("", ""), ("a=b", "a=b"),
    (-3, -3), (0.5, 0.5), (None, None),
])
def test_csv_cell_defuses_formulas(value: object, cell: object) -> None:
    assert csv_cell(value) == cell


def test_csv_row_round_trips_through_the_csv_module() -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(csv_row(["=1+1", 7, "ok"]))
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["'=1+1", "7", "ok"]


@pytest.mark.parametrize("name, safe", [
    ("../../escaped", "escaped"),
    ("..", "network"),
    ("", "network"),
    ("a/b\\c", "a_b_c"),
    ("C:evil", "C_evil"),
    ("x..y", "x.y"),
    (".hidden", "hidden"),
    ("tab\there\x1b", "tab_here"),
    ("lenet5", "lenet5"),
    ("$x$ [y]", "$x$ [y]"),
])
def test_safe_filename_is_one_path_component(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_safe_filename_is_bounded() -> None:
    assert len(safe_filename("n" * 1000)) == FILENAME_MAX


def test_mathtext_draws_dollars_as_dollars(tmp_path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    assert mathtext("$x^2$ cost") == r"\$x^2\$ cost"
    fig = Figure()
    fig.suptitle(mathtext("$\\frac{$ broken $"))  # raw, this is a mathtext ParseError
    fig.savefig(tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 0


def test_csv_writer_defuses_every_cell_of_lists_and_dicts() -> None:
    import io

    from cnnspec.render.safe_text import csv_writer

    out = io.StringIO()
    writer = csv_writer(out, ["name", "params"])
    writer.writerow(["name", "params"])
    writer.writerow({"name": "=HYPERLINK(\"x\")", "params": 5})
    writer.writerows([["@SUM(A1)", -3], ["plain", 0]])
    assert out.getvalue().splitlines() == [
        "name,params", "\"'=HYPERLINK(\"\"x\"\")\",5", "'@SUM(A1),-3", "plain,0"]

