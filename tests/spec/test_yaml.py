"""YAML specs: both architecture forms, defaults, per-label arguments, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnspec.errors import SpecError
from cnnspec.spec import load


def write(tmp_path: Path, text: str, name: str = "net.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_string_plus_label_map(tmp_path: Path) -> None:
    path = write(tmp_path, """\
name: tiny
input: 28x28x1
architecture: Conv:1-ReLU-Pool:1-FC:2
layers:
  Conv:1: {kernel: 5, filters: 6, padding: 2}
  Pool:1: {kernel: 2}
  FC:2: {units: 10}
""")
    net = load(path)
    conv, _, pool, fc = net.layers
    assert (conv.kernel, conv.filters, conv.padding) == ((5, 5), 6, (2, 2))
    assert pool.kernel == (2, 2) and fc.units == 10
    assert net.name == "tiny" and net.input == (28, 28, 1)


def test_list_form_and_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, """\
input: [32, 32, 3]
conventions: {preset: pytorch, dtype: float16}
defaults:
  conv: {padding: 1, kernel: 3}
architecture:
  - conv: {filters: 16}
  - ReLU
  - "Conv(3x3, 32, s=2)"
  - {kind: maxpool, kernel: 2}
  - repeat: 2
    layers: ["Conv(3x3, 32)", ReLU]
  - fc: 10
""")
    net = load(path)
    assert net.conventions.preset == "pytorch" and net.conventions.dtype == "float16"
    first, _, second, pool, group, fc = net.layers
    assert first.padding == (1, 1) and first.kernel == (3, 3)
    assert second.padding == (1, 1) and second.stride == (2, 2)
    assert pool.mode == "max" and group.repeat == 2 and fc.units == 10
    assert group.layers[0].padding == (1, 1)


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("input: 8x8x1\narchitecture: Conv(3x3,4)\nlayrs: {}\n", "unknown key 'layrs'", 3, 1),
        ("input: 8x8x1\narchitecture: Conv-Mpool2\n", "unknown layer 'Mpool2'", 2, 20),
        ("input: 8x8x1\narchitecture: Conv:1\nlayers:\n  Conv:1: {kernal: 3, filters: 2}\n",
         "no argument 'kernal'", 4, 12),
        ("input: 8x8x1\narchitecture: Conv:1\nlayers:\n  Conv:1: {kernel: 0, filters: 2}\n",
         "kernel must be greater than 0", 4, 20),
        ("input: 8x8x1\narchitecture: Conv:1\nlayers:\n  Conv:9: {kernel: 3}\n",
         "no layer is labelled 'Conv:9'", 4, 3),
        ("input: 224x224\narchitecture: Conv(3x3,4)\n", "no channel count", 1, 8),
        ("input: 8x8x1\narchitecture: [unclosed\n", "malformed YAML", 3, 1),
        ("input: 8x8x1\n  bad: indent\n", "malformed YAML", 2, 6),
        ("- a\n- b\n", "not a mapping", 1, 1),
        ("input: 8x8x1\ninput: 9x9x1\narchitecture: Conv\n", "appears twice", 2, 1),
        ("input: 8x8x1\nconventions: lectur\narchitecture: Conv\n", "did you mean 'lecture'",
         2, 14),
        ("input: 8x8x1\narchitecture:\n  - conv: {filters: -3}\n", "filters must be greater",
         3, 21),
        ("input: 8x8x1\narchitecture: [Conv(3x3, 4), ReLU]\n", "every comma", 2, 16),
    ],
)
def test_yaml_errors_have_line_and_column(tmp_path: Path, text: str, message: str, line: int,
                                          column: int) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SpecError, match=message) as info:
        load(path)
    loc = info.value.loc
    assert loc is not None and loc.source == str(path)
    assert (loc.line, loc.column) == (line, column)
    assert info.value.hint


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load(tmp_path / "missing.yaml")
    with pytest.raises(SpecError, match="is empty"):
        load(write(tmp_path, "  \n"))
    binary = tmp_path / "blob.yaml"
    binary.write_bytes(b"\x00\x01\x02PK\x03\x04")
    with pytest.raises(SpecError, match="binary file"):
        load(binary)
    with pytest.raises(SpecError, match="not a mapping"):
        load(write(tmp_path, "just a string\n", "s.yaml"))


def test_yaml_tags_stay_data(tmp_path: Path) -> None:
    path = write(tmp_path, "input: !!python/object/apply:os.system ['echo hi']\n"
                           "architecture: Conv\n")
    with pytest.raises(SpecError, match="malformed YAML"):
        load(path)


def test_string_overrides() -> None:
    net = load("Conv(5x5,6)-Pool(2)", input_shape="32x32x1", conventions="caffe")
    assert net.input == (32, 32, 1)
    assert net.conventions.pool_rounding is not None
    assert net.conventions.pool_rounding.value == "ceil"


def test_a_misspelt_zoo_name_is_named() -> None:
    with pytest.raises(SpecError, match="did you mean the zoo spec 'resnet50'"):
        load("resnt50")
    with pytest.raises(SpecError, match="unknown layer 'Mpool2'"):
        load("Mpool2")
