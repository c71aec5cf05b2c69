"""A layer text written many times is read once; every copy keeps its own place."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnspec.analysis.report import analyze
from cnnspec.errors import CnnspecError, SpecError
from cnnspec.spec import from_string, load
from cnnspec.spec.notation import parse_string
from cnnspec.spec.source import ShiftedRef, SourceRef

# a text is remembered at its second copy: the third is rebuilt from the reading
TEXT = "Conv(3x3, 4, p=1)-ReLU-Conv(3x3, 4, p=1)-ReLU-Conv(3x3, 4, p=1)"


def test_copies_equal_the_first_reading_with_their_own_places() -> None:
    layers = parse_string(TEXT).layers
    assert [n["kind"] for n in layers] == ["conv", "relu", "conv", "relu", "conv"]
    first, third = layers[0], layers[4]
    assert isinstance(first["source"], SourceRef) and isinstance(third["source"], ShiftedRef)
    assert {k: v for k, v in first.items() if k != "source"} == \
        {k: v for k, v in third.items() if k != "source"}
    start = TEXT.rindex("Conv")
    assert third["source"].loc.caret_column is not None
    assert third["source"].loc.column == start + 1
    assert third["source"].loc.length == len("Conv(3x3, 4, p=1)")
    assert third["source"].arg("padding").column == start + 1 + len("Conv(3x3, 4, p=")
    assert third["source"].arg("filters").column == start + 1 + len("Conv(3x3, ")
    assert third["source"].arg("stride").column == start + 1  # not written: the layer's place


def test_a_value_error_in_a_copy_is_reported_at_the_first_copy() -> None:
    text = "ReLU-Conv(3x3, 4, s=0)-ReLU-Conv(3x3, 4, s=0)"
    with pytest.raises(SpecError, match="stride") as info:
        from_string(text)
    assert info.value.loc is not None
    assert info.value.loc.column == len("ReLU-Conv(3x3, 4, s=") + 1


def test_an_analysis_error_names_the_copy_that_fails() -> None:
    # 8 -> 6 -> 4 -> 2 -> nothing: the fourth copy of the same text is the one that fails
    text = "8x8x1-" + "-".join(["Conv(3x3, 2)"] * 5)
    with pytest.raises(CnnspecError) as info:
        analyze(from_string(text))
    assert info.value.loc is not None
    assert info.value.loc.column == len("8x8x1-") + 3 * len("Conv(3x3, 2)-") + 1


def test_copies_spaced_labelled_or_glued_to_a_paren_are_read_in_full() -> None:
    kinds = [n.kind for n in from_string("Conv(3x3, 4)-ReLU (SM)-Conv(3x3, 4)-ReLU (SM)").layers]
    assert kinds == ["conv", "relu", "softmax", "conv", "relu", "softmax"]
    labels = [n.label for n in from_string("Conv:1(3x3, 4)-Conv:2(3x3, 4)-ReLU-ReLU").layers]
    assert labels == ["Conv:1", "Conv:2", None, None]


def test_yaml_defaults_reach_every_copy_with_their_place(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text("input: 8x8x3\ndefaults:\n  conv: {padding: 1}\n"
                    'architecture: "Conv(3x3, 4)-ReLU-Conv(3x3, 4)-ReLU-Conv(3x3, 4)"\n')
    net = load(path)
    convs = [n for n in net.layers if n.kind == "conv"]
    assert [c.padding for c in convs] == [(1, 1)] * 3
    assert {c.source.arg("padding").line for c in convs} == {3}
    assert [c.source.loc.column for c in convs] == [16, 34, 52]


def test_copies_are_validated_models_sharing_their_reading() -> None:
    # the first two copies are read in full; from the third on, copies share one model's
    net = from_string("8x8x3-" + "-".join(["Conv(3x3, 4, p=1)", "ReLU"] * 4))
    convs = [n for n in net.layers if n.kind == "conv"]
    assert [c.model_dump() for c in convs] == [convs[0].model_dump()] * 4
    assert convs[0].padding == (1, 1) and convs[3].filters == 4
    assert convs[2].model_fields_set is convs[3].model_fields_set
    assert [c.source.loc.column for c in convs] == [7, 30, 53, 76]
    changed = convs[3].model_copy(update={"label": "Conv:9"})
    assert changed.label == "Conv:9" and "label" not in convs[2].model_fields_set


@pytest.mark.parametrize("before", ["Conv(3x3, 4)-ReLU-" * 40, "ReLU-" * 3, ""])
def test_a_stray_character_after_copies_is_named_at_its_column(before: str) -> None:
    text = before + "ReLU-$-ReLU"
    with pytest.raises(SpecError, match="unexpected character '\\$'") as info:
        from_string(text)
    assert info.value.loc is not None
    assert info.value.loc.column == len(before) + len("ReLU-") + 1
