"""Messages that point at the real mistake: brackets, channels-first inputs, rounding hints,
arguments given twice, and the vocabulary they refer to."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cnnspec.cli.main import cli
from cnnspec.errors import AnalysisError, SpecError
from cnnspec.spec import from_string
from cnnspec.spec.catalog import CONTAINERS, entries
from cnnspec.spec.load import from_yaml, load, looks_channels_first
from cnnspec.spec.vocabulary import SPELLINGS, lookup


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("32x32x3 [Conv(3x3,16,p=1)-ReLU x 2", r"this '\[' is never closed", 9),
        ("32x32x3 Conv(3x3,16,p=1-ReLU", r"this '\(' of Conv is never closed", 13),
        ("[Conv(3x3,8-ReLU] x 2", r"'\(' of Conv is never closed before the '\]' at column 17",
         6),
        ("[[Conv(3x3,8)-ReLU] x 2-Pool(2)", r"this '\[' is never closed", 1),
        ("Conv(3x3,8)-ReLU)-Pool", r"this '\)' has no matching '\('", 17),
    ],
)
def test_a_missing_closer_is_named_at_its_opening(text: str, message: str,
                                                  column: int) -> None:
    with pytest.raises(SpecError, match=message) as info:
        from_string(text)
    assert info.value.loc is not None and info.value.loc.column == column
    assert info.value.hint is not None and "add" in info.value.hint


def test_the_bracket_message_in_a_yaml_string_gives_its_line() -> None:
    text = "input: 8x8x1\narchitecture: Conv(3x3, 4)-[ReLU-Pool(2)\n"
    with pytest.raises(SpecError, match="never closed") as info:
        from_yaml(text, "net.yaml")
    assert info.value.loc is not None
    assert (info.value.loc.line, info.value.loc.column) == (2, 28)


@pytest.mark.parametrize(
    ("dims", "likely"),
    [((3, 32, 32), True), ((1, 28, 28), True), ((4, 64, 64), True), ((3, 224, 224), True),
     ((32, 32, 3), False), ((28, 28, 1), False), ((3, 3, 3), False), ((1, 1, 512), False),
     ((3, 32, 16), False), ((2, 32, 32), False), ((784,), False)],
)
def test_channels_first_detection(dims: tuple[int, ...], likely: bool) -> None:
    assert looks_channels_first(dims) is likely


def test_channels_first_input_is_refused_with_the_channels_last_form() -> None:
    with pytest.raises(SpecError, match="3x32x32 looks channels-first") as info:
        from_string("3x32x32 Conv(3x3,16)-ReLU-FC(10)")
    assert info.value.hint is not None and "write 32x32x3" in info.value.hint
    assert info.value.loc is not None and info.value.loc.column == 1
    with pytest.raises(SpecError, match="1x28x28 looks channels-first") as info:
        load("Conv(3x3,16)", input_shape="1x28x28")
    assert info.value.hint is not None and "write 28x28x1" in info.value.hint
    assert str(info.value.loc) == "--input"
    with pytest.raises(SpecError) as info:
        from_yaml("input: [3, 224, 224]\narchitecture: Conv(3x3, 8)\n", "net.yaml")
    assert info.value.loc is not None and info.value.loc.line == 1
    assert load_report("Conv(3x3,16)", input_shape="32x32x3").layers[-1].output == (30, 30, 16)


def test_strict_rounding_hint_speaks_the_language_of_where_the_spec_is() -> None:
    with pytest.raises(AnalysisError) as info:
        load_report("Conv(3x3, 1, s=3)", input_shape="7x7x1")
    assert info.value.hint is not None
    assert "add `--conventions pytorch` to the command (gives 2)" in info.value.hint
    assert "conventions: {" not in info.value.hint
    text = "input: 7x7x1\narchitecture: Conv(3x3, 1, s=3)\n"
    with pytest.raises(AnalysisError) as info:
        load_yaml_report(text)
    assert info.value.hint is not None
    assert "`conventions: {rounding: floor}` (gives 2)" in info.value.hint
    assert "`conventions: {rounding: ceil}` (gives 3)" in info.value.hint
    assert "--conventions" not in info.value.hint


def load_report(spec: str, **options: str):
    """The analysis of a spec loaded with ``options``."""
    from cnnspec.analysis import analyze

    return analyze(load(spec, **options))


def load_yaml_report(text: str):
    """The analysis of a YAML spec given as text."""
    from cnnspec.analysis import analyze

    return analyze(from_yaml(text, "net.yaml"))


def test_the_yaml_rounding_fix_works_as_written(tmp_path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text("input: 7x7x1\nconventions: {rounding: floor}\n"
                    "architecture: Conv(3x3, 1, s=3)\n")
    assert load_report(str(path)).layers[-1].output == (2, 2, 1)
    assert load_report("Conv(3x3, 1, s=3)", input_shape="7x7x1",
                       conventions="pytorch").layers[-1].output == (2, 2, 1)


@pytest.mark.parametrize(
    ("item", "spelled"),
    [("{kernel: 3, filter: 5, filters: 8}", "'kernel' and 'filter'"),
     ("{k: 3, size: 5, filters: 8}", "'k' and 'size'"),
     ("{kernel: 3, filters: 8, out_channels: 4}", "'filters' and 'out_channels'")],
)
def test_yaml_refuses_an_argument_given_twice(item: str, spelled: str) -> None:
    text = f"input: 8x8x1\narchitecture:\n  - conv: {item}\n"
    with pytest.raises(SpecError, match=f"given twice \\(as {spelled}\\)") as info:
        from_yaml(text, "net.yaml")
    assert info.value.loc is not None and info.value.loc.line == 3
    with pytest.raises(SpecError, match="given twice"):
        from_string("Conv(kernel=3, filter=5, filters=8)")


def test_unknown_layer_points_to_the_vocabulary_command() -> None:
    with pytest.raises(SpecError) as info:
        from_string("Conv-Zork")
    assert info.value.hint is not None and "`cnnspec layers`" in info.value.hint
    with pytest.raises(SpecError) as info:
        from_string("Conv-Qqqqqqq")
    assert info.value.hint == "`cnnspec layers` lists the layer names"


def test_every_word_has_an_example_that_parses() -> None:
    listed = entries()
    names = {e.name for e in listed}
    for display in SPELLINGS:
        word = lookup(display)
        assert word is not None
        if word.kind not in CONTAINERS:
            assert display in names, f"{display} is missing from cnnspec.spec.catalog"
    for entry in listed:
        assert entry.example and entry.what, entry.name
        if entry.form == "string":
            assert from_string(entry.example).layers, entry.name
        elif entry.form == "yaml":
            text = "input: 32x32x3\narchitecture:\n  " + entry.example + "\n"
            assert from_yaml(text, "example.yaml").layers, entry.name
        else:
            assert from_yaml("input: 32x32x3\n" + entry.example, "example.yaml").layers
    blocks = {e.name: e for e in listed if e.group == "block"}
    assert {"Residual", "Concat", "Aux"} <= set(blocks)
    assert "Incept" in blocks["Concat"].aliases


def test_layers_command_lists_and_finds_by_any_spelling() -> None:
    code, out, _ = run("layers")
    assert code == 0
    for text in ("Conv(3x3, 64, s=1, p=1)", "MaxPool2d", "[Conv(3x3, 64, p=1)-ReLU] x 2",
                 "- aux:", "Residual"):
        assert text in out
    code, out, _ = run("layers", "maxpool2d", "-f", "json")
    assert code == 0
    import json

    found = json.loads(out)
    assert [e["name"] for e in found] == ["MPool"] and found[0]["example"] == "MPool(3, s=2)"
    code, _, err = run("layers", "maxpol")
    assert code == 1 and "no layer or block is called 'maxpol'" in err


@pytest.mark.parametrize(
    ("args", "answer"),
    [(["--filter", "5x5x3"], "answer: 76 = (5*5*3 + 1) * 1"),
     (["--filter", "5x5", "--depth", "3"], "answer: 76 = (5*5*3 + 1) * 1"),
     (["--filter", "11x11x3", "--filters", "96"], "answer: 34,944"),
     (["--filter", "5x5x3", "--depth", "3", "--filters", "6"], "answer: 456")],
)
def test_calc_params_takes_the_depth_in_the_filter(args: list[str], answer: str) -> None:
    code, out, err = run("calc", "params", *args)
    assert code == 0, err
    assert answer in out


def test_calc_params_refuses_two_different_depths() -> None:
    code, _, err = run("calc", "params", "--filter", "5x5x3", "--depth", "4")
    assert code == 2 and "spans depth 3 but --in-channels says 4" in err


@pytest.mark.parametrize("text", ["Conv(5x5x3, 6, in=4)", "Conv(in=4, k=5x5x3, n=6)"])
def test_the_depth_in_the_kernel_and_in_channels_is_given_twice(text: str) -> None:
    with pytest.raises(SpecError, match=r"'in_channels' is given twice \(also as the kernel's"):
        from_string(text)
    assert from_string("Conv(5x5x3, 6)").layers[0].in_channels == 3


@pytest.mark.parametrize("item", ["{kernel: 5x5x3, filters: 6, in_channels: 4}",
                                  "{in_channels: 4, kernel: 5x5x3, filters: 6}"])
def test_yaml_depth_in_the_kernel_and_in_channels_is_given_twice(item: str) -> None:
    text = f"input: 8x8x3\narchitecture:\n  - conv: {item}\n"
    with pytest.raises(SpecError, match=r"in_channels is given twice \(also as the kernel's"):
        from_yaml(text, "net.yaml")
