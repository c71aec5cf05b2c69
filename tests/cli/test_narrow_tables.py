"""The zoo and compare tables in a terminal of 80 to 160 columns: every line fits, no
figure is cut with an ellipsis, and what was left out is named."""

from __future__ import annotations

import io
import re

import pytest

from cnnspec.cli import compare as compare_cli
from cnnspec.cli import zoo as zoo_cli
from cnnspec.render.safe_text import safe_console


def terminal(monkeypatch: pytest.MonkeyPatch, module, width: int) -> io.StringIO:
    """Make ``module``'s console a terminal of ``width`` columns writing into a buffer."""
    buffer = io.StringIO()
    monkeypatch.setattr(module, "make_console", lambda: safe_console(
        file=buffer, width=width, force_terminal=True, color_system=None, highlight=False))
    return buffer


@pytest.mark.parametrize("width", [80, 100, 120, 160])
def test_zoo_table_fits_with_whole_figures(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    buffer = terminal(monkeypatch, zoo_cli, width)
    entries = zoo_cli.survey(["alexnet", "resnet50", "mobilenet_v3_large", "vgg16-bn"])
    zoo_cli.print_table(entries)
    text = buffer.getvalue()
    lines = text.splitlines()
    assert max(map(len, lines)) <= width
    assert "…" not in text
    for name in ("alexnet", "resnet50", "mobilenet_v3_large", "vgg16-bn"):
        assert f"│ {name} " in text
    # the figures PyTorch users compare are shown whole at every width
    assert "25,557,032 (25.56 M)" in text and "4,089,184,256 (4.089 G)" in text
    hidden = " ".join(line for line in lines if line.startswith("Hidden to fit"))
    shown = next(line for line in lines if line.startswith("┃ Name"))
    for title in ("Params", "Input", "Depth", "Description"):  # each shown or named
        assert (f" {title} " in shown) != (f" {title}" in hidden.replace(",", " ")), title


@pytest.mark.parametrize("width", [80, 100, 120, 160])
def test_compare_table_fits_and_says_what_it_rounded(monkeypatch: pytest.MonkeyPatch,
                                                     width: int) -> None:
    buffer = terminal(monkeypatch, compare_cli, width)
    data = compare_cli.comparison([compare_cli.measure(s, None, None, False)
                                   for s in ("alexnet-torchvision", "googlenet", "resnet50")])
    compare_cli.print_table(data)
    text = buffer.getvalue()
    assert max(map(len, text.splitlines())) <= width
    assert "…" not in text
    header = next(line for line in text.splitlines() if line.startswith("┃ Metric"))
    assert all(name in header for name in ("alexnet-torchvision", "googlenet", "resnet50"))
    rounded = "Figures rounded to fit" in text
    # exact figures when they fit; each spec's figures shown either way
    assert ("61,100,840 (61.10 M)" in text) != rounded
    if rounded:
        row = next(line for line in text.splitlines() if line.startswith("│ Trainable"))
        assert re.findall(r"\d+\.\d+ M", row)[:3] == ["61.10 M", "6.625 M", "25.56 M"]


def test_tables_piped_to_a_watched_terminal_fit_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """``cnnspec zoo | head`` in an 80-column terminal: stdout is a pipe, stderr the
    terminal; the table fits 80 columns. With no terminal at all it is 200 wide, every
    column shown."""
    import os
    import sys

    from cnnspec.cli import options

    class Stream(io.StringIO):
        def __init__(self, tty: bool) -> None:
            super().__init__()
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

        def fileno(self) -> int:
            return 2

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=None: os.terminal_size((80, 24)))
    monkeypatch.setattr(sys, "stdout", Stream(False))
    monkeypatch.setattr(sys, "stderr", Stream(True))
    console = options.make_console()
    assert console.width == 80 and options.fit_width(console) == 80
    monkeypatch.setattr(sys, "stderr", Stream(False))
    console = options.make_console()
    assert console.width == 200 and options.fit_width(console) is None
    monkeypatch.setenv("COLUMNS", "120")  # set: not read as a watched terminal; 200 or wider
    monkeypatch.setattr(sys, "stderr", Stream(True))
    console = options.make_console()
    assert console.width == 200 and options.fit_width(console) is None
