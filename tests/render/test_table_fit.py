"""The terminal table fits its width: columns give way, numbers are never cut."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

import cnnspec
from cnnspec.render.columns import COLUMNS, depth_for_rows, parse_columns, visible_rows
from cnnspec.render.layout import choose, table_width
from cnnspec.render.table import TableOptions, print_report, resolve_depth

NETWORKS = ["alexnet", "resnet50", "googlenet", "densenet121"]
WIDTHS = [80, 100, 120, 160]


def render(name: str, width: int | None, **options) -> str:
    report = cnnspec.load(name).report()
    buffer = io.StringIO()
    console = Console(file=buffer, width=width or 200, highlight=False)
    print_report(report, console, TableOptions(width=width, **options))
    return buffer.getvalue()


def body_cells(text: str) -> list[list[str]]:
    """The cells of every body row (lines between the header rule and the bottom rule)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    end = next(i for i, line in enumerate(lines) if line.startswith("└"))
    return [[c.strip() for c in line.split("│")[1:-1]] for line in lines[start + 1:end]]


def header_titles(text: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith("┃"))
    return [c.strip() for c in line.split("┃")[1:-1]]


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("width", WIDTHS)
def test_table_fits_with_whole_numbers_and_every_name(name: str, width: int) -> None:
    report = cnnspec.load(name).report()
    text = render(name, width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    titles = header_titles(text)
    assert titles[:1] == ["Layer"] and {"Output", "Params", "MACs"} <= set(titles)
    rows = visible_rows(report, resolve_depth(report, "auto"))
    cells = body_cells(text)
    assert len(cells) == len(rows) + 1 <= 61  # the input row, then at most 60
    by_title = {t: i for i, t in enumerate(titles)}
    for record, row in zip(rows, cells[1:], strict=True):
        assert row[0] == record.name  # the name is whole
        params = row[by_title["Params"]]
        macs = row[by_title["MACs"]]
        assert params == (f"{record.trainable:,}" if record.trainable else "-")
        assert macs == (f"{record.macs:,}" if record.macs else "-")
    hidden = [c.title for c in COLUMNS if c.title not in titles
              and (c.key != "non_trainable" or report.totals.non_trainable_params)]
    if hidden:
        line = next(line for line in text.splitlines() if line.startswith("Hidden to fit"))
        assert f"Hidden to fit {width} columns" in line
        assert "--wide" in text and "--columns" in text
        assert hidden[0] in text
    else:
        assert "Hidden to fit" not in text


def test_alexnet_fits_whole_at_160_and_keeps_the_priorities_at_80() -> None:
    wide = header_titles(render("alexnet", 160))
    assert wide == ["Layer", "Type", "Hyper-parameters", "Output", "Nodes", "Weights", "Biases",
                    "Params", "MACs", "RF size / jump", "Act. memory"]
    narrow = header_titles(render("alexnet", 80))
    assert narrow == ["Layer", "Output", "Weights", "Biases", "Params", "MACs"]
    text = render("alexnet", 80)
    assert ("Hidden to fit 80 columns: RF size / jump, Act. memory, Nodes, Hyper-parameters, "
            "Type.") in " ".join(text.split())


def test_a_column_that_does_not_fit_ends_the_choice() -> None:
    columns = [c for c in COLUMNS if c.key in ("layer", "output", "params", "macs", "type")]
    assert [c.key for c in columns] == ["layer", "type", "output", "params", "macs"]
    cells = [["a" * 10, "Conv", "b", "1" * 30, "22"]]  # the Params column is too wide for 40
    layout = choose(columns, cells, 40)
    assert [c.key for c in layout.columns] == ["layer", "output"]
    assert [c.key for c in layout.hidden] == ["params", "macs", "type"]
    assert layout.project(cells) == [["a" * 10, "b"]]
    assert layout.width == table_width(layout.widths) == 10 + 6 + 3 * 2 + 1


def test_the_drawn_width_is_the_computed_width() -> None:
    text = render("resnet50", None)
    lines = text.splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert len({len(line) for line in table}) == 1


def test_auto_depth_keeps_at_most_60_rows_and_the_totals() -> None:
    for name, depth in (("resnet50", 2), ("googlenet", 1), ("densenet121", 1), ("alexnet", None)):
        report = cnnspec.load(name).report()
        assert depth_for_rows(report) == depth
    text = render("resnet50", 120)
    assert ("Blocks collapsed below depth 2 (39 of 215 rows; totals are the same at every "
            "depth). Expand with --depth 3 ... --depth 4.") in " ".join(text.split())
    # one level left to open: one depth to name
    assert ("(25 of 64 rows; totals are the same at every depth). Expand with --depth 2."
            ) in " ".join(render("vgg16-bn", 120).split())
    totals = [line for line in render("resnet50", None, depth=4).splitlines()
              if line.startswith(("Parameters", "MACs"))]
    assert totals == [line for line in render("resnet50", None, depth=0).splitlines()
                      if line.startswith(("Parameters", "MACs"))]


def test_columns_chosen_by_name_are_all_shown_in_table_order() -> None:
    columns = parse_columns("macs, rf,output")
    text = render("resnet50", 80, columns=columns)
    assert header_titles(text) == ["Layer", "Output", "MACs", "RF size / jump"]
    with pytest.raises(ValueError, match="unknown column 'flops'; choose from layer, type"):
        parse_columns("params,flops")


def test_bn_row_params_are_weights_plus_biases_and_statistics_apart() -> None:
    text = render("resnet50", None)
    titles = header_titles(text)
    row = next(r for r in body_cells(text) if r[0] == "BN:1")
    cell = dict(zip(titles, row, strict=True))
    assert (cell["Weights"], cell["Biases"], cell["Params"], cell["Non-train."]) == (
        "64", "64", "128", "128")
    assert "Params = Weights + Biases (trainable); Non-train. = batch-norm running" in text
    # a network without batch norm has no Non-train. column
    assert "Non-train." not in header_titles(render("alexnet", None))


def test_rounding_under_a_flooring_preset_is_said_once_in_the_header() -> None:
    text = render("resnet50", None)
    head, _, tail = text.partition("┏")
    assert ("8 layers with a non-whole output size rounded as pytorch does by design (conv "
            "floor, pool floor): Conv:1, MPool:1, Conv:13, Conv:15, Conv:26, Conv:28 and 2 "
            "more") in head
    assert "strict rounding" not in text and "rounded as pytorch" not in tail
    lecture = render("alexnet", None)
    assert "Conv:1: height and width: (224 + 2*3 - 11)/4 + 1 = 55.75 is not a whole number" in (
        lecture)


def test_control_characters_in_a_name_are_shown_escaped(tmp_path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text('name: n\ninput: 8x8x3\narchitecture:\n'
                    '  - conv: {kernel: 3, filters: 4, padding: 1, label: "a\\e[2Jb"}\n')
    buffer = io.StringIO()
    print_report(cnnspec.load(str(path)).report(), Console(file=buffer, width=100),
                 TableOptions(width=100))
    text = buffer.getvalue()
    assert "\x1b" not in text and "a\\x1b[2Jb" in text
    assert len({len(line) for line in text.splitlines() if line[:1] in "┏┃┡│└"}) == 1
