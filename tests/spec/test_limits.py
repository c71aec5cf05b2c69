"""The spec's limits: expansion, nesting, numbers, YAML merge keys; each refusal placed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnnspec
from cnnspec.cli.main import cli
from cnnspec.errors import SpecError
from cnnspec.spec import from_string, from_yaml, load
from cnnspec.spec.budget import MAX_DEPTH, MAX_LAYERS, MAX_SIZE
from cnnspec.units import human_bytes, human_count

from .hostile import HOSTILE

ROOT = Path(__file__).resolve().parents[2]


def refusal(text: str, tmp_path: Path) -> SpecError:
    """The SpecError loading ``text`` gives (a YAML file when it starts with ``input:``)."""
    if text.startswith("input:"):
        path = tmp_path / "h.yaml"
        path.write_text(text)
        with pytest.raises(SpecError) as info:
            load(path)
    else:
        with pytest.raises(SpecError) as info:
            from_string(text)
    return info.value


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_spec_is_refused_at_its_place(name: str, tmp_path: Path) -> None:
    text, where, pattern = HOSTILE[name]
    err = refusal(text, tmp_path)
    assert err.loc is not None
    assert f"{err.loc.line}:{err.loc.column}" == where
    assert err.hint
    assert re.search(pattern, err.message), err.message


@pytest.mark.parametrize("name", ["laughs", "brackets", "huge integer yaml", "non-finite",
                                  "block chain", "recursive anchor", "merge flood"])
def test_hostile_spec_on_the_command_line_is_one_located_line(name: str, tmp_path: Path) -> None:
    text, where, _ = HOSTILE[name]
    target = text
    if text.startswith("input:"):
        path = tmp_path / "h.yaml"
        path.write_text(text)
        target = str(path)
    result = CliRunner().invoke(cli, ["validate", target])
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert "internal error" not in result.stderr
    assert f":{where}: error: " in first
    assert "Traceback" not in result.stderr


# -- expansion and nesting -------------------------------------------------------------------
def test_the_limit_itself_is_accepted_and_one_more_is_not() -> None:
    assert from_string("[[ReLU] x 1000] x 100").layers[0].repeat == 100
    with pytest.raises(SpecError, match="at least 100,001 layers") as info:
        from_string("[[ReLU] x 1000] x 100-ReLU")
    assert (info.value.loc.line, info.value.loc.column) == (1, 23)
    assert MAX_LAYERS == 100_000


def test_repeated_group_copies_are_charged() -> None:
    text = "[" + "-".join(["ReLU"] * 50_000) + "]-[...]"
    assert len(from_string(text).layers) == 2
    with pytest.raises(SpecError, match="at least 150,000 layers") as info:
        from_string(text + "-[...]")
    assert info.value.loc.column == len(text) + 3


def test_yaml_alias_reuse_is_charged_per_use(tmp_path: Path) -> None:
    ten = "[" + ", ".join(["ReLU"] * 10) + "]"
    text = (f"input: 8x8x3\narchitecture:\n  - {{repeat: 1, layers: &a {ten}}}\n"
            + "  - {repeat: 1000, layers: *a}\n" * 9)
    network = from_yaml(text, "t.yaml")
    assert [n.repeat for n in network.layers] == [1] + [1000] * 9  # 90,010 layers
    with pytest.raises(SpecError, match="at least 100,010 layers") as info:
        from_yaml(text + "  - {repeat: 1000, layers: *a}\n", "t.yaml")
    assert (info.value.loc.line, info.value.loc.column) == (13, 14)  # the repeat count


@pytest.mark.parametrize("count", ["1.0e+9", "'1000000000'", "' 1_000_000 '", "100001.0"])
def test_repeat_counts_read_as_validation_reads_them(count: str) -> None:
    text = f"input: 8x8x3\narchitecture:\n  - {{repeat: {count}, layers: [ReLU]}}\n"
    with pytest.raises(SpecError, match="more than the limit of 100,000") as info:
        from_yaml(text, "t.yaml")
    assert (info.value.loc.line, info.value.loc.column) == (3, 14)


def test_nesting_limit_in_strings_and_the_deepest_accepted_analyses() -> None:
    deepest = "[" * MAX_DEPTH + "Conv(3x3, 4, p=1)-ReLU" + "]" * MAX_DEPTH
    report = cnnspec.load(deepest, input_shape="8x8x3").analyze()
    assert report["totals"]["params"] == (3 * 3 * 3 + 1) * 4
    assert report["layers"][-1]["depth"] == 0  # groups of one pass and no label are flat
    with pytest.raises(SpecError, match=f"nested more than {MAX_DEPTH} deep") as info:
        from_string("[" + deepest + "]")
    assert info.value.loc.column == MAX_DEPTH + 1


def test_labelled_nesting_walks_without_recursion_error() -> None:
    levels = 45  # a mapping and a list per level: 91 YAML levels, under the YAML bound
    text = ("input: 4x4x1\narchitecture: [" + "{label: g, layers: [" * levels + "ReLU"
            + "]}" * levels + "]\n")
    report = cnnspec.load(from_yaml(text, "t.yaml")).report()
    assert max(r.depth for r in report.layers) == levels
    assert [r.name for r in report.layers[:3]] == ["g", "g#2", "g#3"]
    assert report.totals.layers == 1


def test_block_calls_nest_to_the_limit(tmp_path: Path) -> None:
    chain = "".join(f"  b{i}: b{i + 1}\n" for i in range(MAX_DEPTH - 1))
    text = f"input: 8x8x3\nblocks:\n{chain}  b{MAX_DEPTH - 1}: ReLU\narchitecture: b0\n"
    assert from_yaml(text, "t.yaml").layers[0].kind == "sequence"


# -- numbers ----------------------------------------------------------------------------------
def test_sizes_are_bounded_with_the_bound_in_the_message() -> None:
    assert from_string(f"Conv(3x3, {MAX_SIZE})").layers[0].filters == MAX_SIZE
    with pytest.raises(SpecError, match=r"filters must be at most 1,000,000,000 "
                                        r"\(got 1000000001\)") as info:
        from_string(f"Conv(3x3, {MAX_SIZE + 1})")
    assert info.value.loc.column == 11
    assert "real networks" in info.value.hint
    with pytest.raises(SpecError, match=r"input size 2,000,000,000 is more than 1,000,000,000"):
        load("ReLU", input_shape="2000000000x8x3")


def test_long_numbers_are_refused_before_conversion(tmp_path: Path) -> None:
    digits = "7" * 4400  # past Python's int() limit of 4,300 digits
    with pytest.raises(SpecError, match=r"\(4,400 digits\) is too large") as info:
        load("ReLU", input_shape=f"{digits}x8x3")
    assert str(info.value.loc) == "--input"
    with pytest.raises(SpecError, match=r"\(4,400 digits\)") as info:
        from_string(f"[ReLU] x {digits}")
    assert info.value.loc.column == 8
    with pytest.raises(SpecError, match=r"\(4,400 digits\)") as info:
        from_string(f"({digits}x3)@4")
    text = f"input: 8x8x3\narchitecture:\n  - conv: {{kernel: 3, filters: 0x{'f' * 70}}}\n"
    with pytest.raises(SpecError, match=r"too large") as info:
        from_yaml(text, "t.yaml")
    assert (info.value.loc.line, info.value.loc.column) == (3, 32)
    claims = "input: 8x8x3\narchitecture: ReLU\nclaims: {params: 10000000000000000000}\n"
    with pytest.raises(SpecError, match=r"\(20 digits\) is too large"):
        from_yaml(claims, "t.yaml")


@pytest.mark.parametrize(("text", "field", "column"), [
    ("LRN(5, nan, inf, 0.75)", "k", 8),
    ("LRN(5, 2, inf, 0.75)", "alpha", 11),
    ("Conv(3x3, 4, pad_value=1e999)", "pad_value", 24),
    ("BN(eps=nan)", "eps", 8),
])
def test_non_finite_numbers_are_refused_at_their_place(text: str, field: str,
                                                       column: int) -> None:
    with pytest.raises(SpecError, match=f"{field} must be a finite number") as info:
        from_string(text)
    assert info.value.loc.column == column


def test_non_finite_yaml_numbers_are_refused_at_their_place() -> None:
    for value, column in ((".nan", 23), (".inf", 23), ("-.inf", 23), ("1e400", 23)):
        text = f"input: 8x8x3\narchitecture:\n  - lrn: {{size: 5, k: {value}}}\n"
        with pytest.raises(SpecError, match="k must be a finite number") as info:
            from_yaml(text, "t.yaml")
        assert (info.value.loc.line, info.value.loc.column) == (3, column)


def test_totals_stay_python_integers_at_the_size_bound() -> None:
    report = cnnspec.load(f"FC({MAX_SIZE})", input_shape="1000x1000x3").report(batch=7)
    totals = report.totals
    params = (3_000_000 + 1) * MAX_SIZE
    assert totals.params == params
    assert totals.training_breakdown == {
        "parameters": params * 4, "gradients": params * 4, "optimizer_state": 2 * params * 4,
        "activations": 7 * (3_000_000 + MAX_SIZE) * 4}
    assert totals.training_bytes == 4 * params * 4 + 7 * (3_000_000 + MAX_SIZE) * 4
    for value in (*asdict(totals).values(), *totals.training_breakdown.values()):
        assert not isinstance(value, float)


def test_human_units_are_computed_in_integers() -> None:
    # 11.2e30 bytes / 2^40: a float would print 10186340659856795648.0 (wrong last digits)
    huge = 11_200_000_000_000_000_000_000_000_000_000
    assert human_bytes(huge) == f"{huge // 2**40}.{(huge * 10 // 2**40) % 10} TiB"
    assert human_bytes(huge) == "10186340659856796264.6 TiB"
    assert human_bytes(249_476_608) == "237.9 MiB"
    assert human_bytes(1023) == "1023 B"
    assert human_bytes(3 * 2**40 + 2**39) == "3.5 TiB"
    assert human_count(10**30) == "1000000000000000000.0 T"
    assert human_count(62_369_152) == "62.37 M"
    assert human_count(-1995) == "-1.995 k"
    assert human_count(1_999_950) == "2.000 M"


# -- YAML merge keys --------------------------------------------------------------------------
MERGED = """\
input: 16x16x3
architecture: Conv:1-Conv:2-Conv:3
layers:
  Conv:1: &c {kernel: 3, filters: 8, padding: 1}
  Conv:2: {<<: *c, filters: 4}
  Conv:3: {<<: [{stride: 2, filters: 6}, *c], padding: 0}
"""


def test_merge_keys_with_overrides_follow_the_yaml_rule() -> None:
    report = from_yaml(MERGED, "m.yaml")
    conv1, conv2, conv3 = report.layers
    assert (conv1.kernel, conv1.filters, conv1.padding) == ((3, 3), 8, (1, 1))
    assert (conv2.kernel, conv2.filters, conv2.padding) == ((3, 3), 4, (1, 1))
    # written keys win; of merged mappings the first wins (filters 6, not 8)
    assert (conv3.filters, conv3.stride, conv3.padding) == (6, (2, 2), (0, 0))


def test_merged_values_keep_their_own_places() -> None:
    text = MERGED.replace("filters: 8, padding: 1}", "filters: 8, padding: -1}")
    with pytest.raises(SpecError, match="padding") as info:
        from_yaml(text, "m.yaml")
    assert (info.value.loc.line, info.value.loc.column) == (4, 47)


def test_true_duplicate_keys_are_still_refused() -> None:
    text = MERGED.replace("{<<: *c, filters: 4}", "{<<: *c, filters: 4, filters: 5}")
    with pytest.raises(SpecError, match="key 'filters' appears twice") as info:
        from_yaml(text, "m.yaml")
    assert (info.value.loc.line, info.value.loc.column) == (5, 32)


def test_merge_of_something_not_a_mapping_is_refused() -> None:
    with pytest.raises(SpecError, match=r"a merge key \(<<\) takes a mapping") as info:
        from_yaml(MERGED.replace("{<<: *c, filters: 4}", "{<<: 3}"), "m.yaml")
    assert (info.value.loc.line, info.value.loc.column) == (5, 12)


# -- speed structure ------------------------------------------------------------------------
def test_to_dict_is_the_json_contract() -> None:
    report = cnnspec.load("resnet18").report()
    for record in report.layers[:40]:
        expected = asdict(record)
        expected["input"], expected["output"] = list(record.input), list(record.output)
        expected["receptive_field"] = {"size": list(expected.pop("rf_size")),
                                       "jump": list(expected.pop("rf_jump"))}
        assert record.to_dict() == expected
        assert list(record.to_dict()) == list(expected)
    assert report.totals.to_dict() == asdict(report.totals)


def test_analysis_to_json_imports_neither_numpy_nor_rich() -> None:
    code = ("import sys; from cnnspec.cli.main import main; "
            "sys.argv = ['cnnspec', 'analyze', 'resnet152', '--format', 'json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'rich', 'matplotlib', 'PIL'))\n"
            "print(heavy, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totals"]["layers"] > 150
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_pydantic_models_are_built_on_first_use() -> None:
    code = ("import cnnspec.spec.tree as t\n"
            "print(sum(1 for m in (*t.NODE_MODELS, t.Network) if m.__pydantic_complete__))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"


def test_long_strings_are_read_in_a_window_with_exact_places() -> None:
    text = "-".join(["Conv(3x3, 8, p=1)", "ReLU"] * 5_000)
    network = from_string(text)
    assert len(network.layers) == 10_000
    last = network.layers[-2].source
    assert last.arg("padding").column == len(text) - len("ReLU") - 2
    with pytest.raises(SpecError, match=r"unexpected character '\$'") as info:
        from_string(text + "-$")
    assert info.value.loc.column == len(text) + 2


def test_bare_names_in_a_yaml_list_read_as_the_parser_reads_them() -> None:
    text = "input: 8x8x3\narchitecture:\n  - ReLU\n  - 'ReLU'\n  - SM\n  - relu\n"
    plain, quoted, softmax, lower = from_yaml(text, "t.yaml").layers
    assert plain.model_dump() == quoted.model_dump() == lower.model_dump()
    assert (plain.source.loc.line, plain.source.loc.column) == (3, 5)
    assert (quoted.source.loc.line, quoted.source.loc.column) == (4, 6)
    assert softmax.kind == "softmax"
