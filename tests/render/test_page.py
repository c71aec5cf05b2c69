"""``analyze --format html``: one self-contained page, checked as text and in a browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import cnnspec
from cnnspec.render.page import report_page

HOSTILE = """\
name: "<script>alert(1)</script>net"
description: x
input: 8x8x3
conventions: pytorch
architecture:
  - conv: {kernel: 3, filters: 4, padding: 1, label: "a<b>&'\\"c"}
  - batchnorm: {}
  - relu: {}
  - fc: {units: 2}
"""


def hostile_report(tmp_path: Path):
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE)
    return cnnspec.load(str(path)).report()


def test_user_text_is_escaped(tmp_path: Path) -> None:
    page = report_page(hostile_report(tmp_path), diagram=False)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;net" in page
    assert "a&lt;b&gt;&amp;&#x27;&quot;c" in page
    assert page.count("<script>") == 1  # the page's own error catcher only


def test_cells_carry_their_formula_on_hover() -> None:
    report = cnnspec.load("alexnet").report()
    page = report_page(report, diagram=False)
    row = report.row("Conv:1")
    assert f"title='{row.formulas['macs']}'" in page
    assert "title='(11*11*3 + 1)*96 = 34,944'" in page or (
        f"title='{row.formulas['params']}'" in page)
    bn = cnnspec.load("resnet50").report().row("BN:1")
    resnet = report_page(cnnspec.load("resnet50").report(), diagram=False)
    assert f"title='{bn.formulas['non_trainable']}'" in resnet
    assert bn.formulas["non_trainable"] == "running mean 64 + running variance 64 = 128"


def test_blocks_are_details_open_down_to_the_table_depth() -> None:
    report = cnnspec.load("resnet50").report()
    page = report_page(report, diagram=False)
    blocks = [r for r in report.layers if r.is_block]
    assert page.count("<details class='block'") == len(blocks)
    assert page.count("<details class='block' open>") == len([b for b in blocks if b.depth < 2])
    assert page.count("</details>") == len(blocks)


def test_the_page_says_what_the_diagram_needs_without_matplotlib(monkeypatch) -> None:
    import builtins

    real = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    page = report_page(cnnspec.load("lenet5").report())
    assert "The diagram needs matplotlib: pip install 'cnnspec[train]'." in page
    assert "<svg" not in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize("name", ["googlenet", "hostile"])
def test_a_browser_loads_the_page_with_every_row_and_no_error(name: str, tmp_path: Path) -> None:
    report = hostile_report(tmp_path) if name == "hostile" else cnnspec.load(name).report()
    target = tmp_path / "net.html"
    target.write_text(report_page(report))
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
         "--v=0", "--dump-dom", target.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    counted = re.search(r'<body[^>]*data-rows="(\d+)"', dom)
    assert counted is not None, dom[:500]  # the page's script ran
    assert int(counted.group(1)) == len(report.to_dict()["layers"])
    errors = re.search(r'<pre id="errors" hidden="">(.*?)</pre>', dom, re.S)
    assert errors is not None and errors.group(1) == ""
    assert "Uncaught" not in result.stderr and "CONSOLE" not in result.stderr


def test_control_characters_in_names_and_notes_reach_the_page_as_escapes(
        tmp_path: Path) -> None:
    """A label carrying a terminal escape (a file from someone else) is text on the page."""
    import re

    from cnnspec.render.page import report_page

    spec = tmp_path / "escape.yaml"
    spec.write_text("input: 8x8x1\narchitecture:\n"
                    "  - {kind: conv, kernel: 3, filters: 4, label: \"\\e[31mevil\"}\n"
                    "  - BN\n  - FC(10)\n")
    report = cnnspec.load(str(spec)).report()
    assert any(n.kind == "design" and "\x1b" in n.layer for n in report.notes)
    page = report_page(report)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", page)
    assert "\\x1b[31mevil" in page
