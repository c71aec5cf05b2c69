"""``analyze`` as a user sees it: piped output, --columns, --wide, --units, --format html."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from click.testing import CliRunner

from cnnspec.cli.main import cli

ESCAPE = re.compile(r"\x1b\[")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_piped_table_is_unwrapped_plain_text_with_every_column() -> None:
    code, out, _ = run("analyze", "resnet50")
    assert code == 0
    assert not ESCAPE.search(out)
    lines = out.splitlines()
    assert "Hidden to fit" not in out  # no terminal: every column
    header = next(line for line in lines if line.startswith("┃"))
    assert "Hyper-parameters" in header and "Non-train." in header
    body = [line for line in lines if line.startswith("│")]
    assert len(body) == 40  # the input row and 39 rows at depth 2
    assert any(line.startswith("  - ") is False and "8 layers with a non-whole" in line
               for line in lines)  # the header note is one line, not wrapped


def test_wide_and_depth_show_every_row_and_column() -> None:
    code, out, _ = run("analyze", "resnet50", "--wide", "--depth", "4")
    assert code == 0
    assert len([line for line in out.splitlines() if line.startswith("│")]) == 216
    assert "Blocks collapsed" not in out


def test_columns_option_and_a_wrong_column_name() -> None:
    code, out, _ = run("analyze", "specs/alexnet.yaml", "--columns", "params,rf")
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("┃"))
    assert [c.strip() for c in header.split("┃")[1:-1]] == ["Layer", "Params", "RF size / jump"]
    code, _, err = run("analyze", "specs/alexnet.yaml", "--columns", "params,flops")
    assert code == 2 and "unknown column 'flops'; choose from layer, type, hyper" in err


def test_units_si_writes_decimal_bytes() -> None:
    code, out, _ = run("analyze", "specs/alexnet.yaml", "--units", "si")
    assert code == 0
    assert "Parameter memory: 249,476,608 bytes (249.5 MB) at 4 B per value" in out
    assert "MACs: 1,135,256,096 (1.135 G); FLOPs 2,270,512,192 (2.271 G)" in out
    code, out, _ = run("analyze", "specs/alexnet.yaml")
    assert "Parameter memory: 249,476,608 bytes (237.9 MiB) at 4 B per value" in out


def test_small_networks_say_k_not_zero_giga_everywhere() -> None:
    spec = "Conv(3x3,16,p=1)-ReLU-Pool(2)-FC(10)"
    code, out, _ = run("analyze", spec, "--input", "8x8x3")
    assert code == 0 and "MACs: 30,208 (30.21 k)" in out and "0.000 G" not in out
    code, out, _ = run("compare", f"8x8x3 {spec}", "lenet5", "-f", "markdown")
    assert code == 0 and "0.000 G" not in out and "30,208 (30.21 k)" in out
    code, out, _ = run("zoo", "lenet5", "-f", "markdown")
    assert code == 0 and "416,520 (416.5 k)" in out


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows = 0
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if "row" in classes and "layer" in classes:
            self.rows += 1
        for key, value in attrs:
            if key in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)


def test_html_page_is_written_self_contained(tmp_path) -> None:
    target = tmp_path / "net.html"
    code, _, err = run("analyze", "googlenet", "-f", "html", "-o", str(target))
    assert code == 0 and "wrote" in err
    page = target.read_text()
    parser = _Rows()
    parser.feed(page)
    import cnnspec

    assert parser.rows == len(cnnspec.load("googlenet").report().layers) == 297
    assert parser.external == []
    assert "<svg" in page and "<details class='block' open>" in page
