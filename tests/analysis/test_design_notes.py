"""Design notes: each rule on the pair it names, one note per rule, silence on the zoo."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import cnnspec
from cnnspec.cli.main import cli

SPECS = Path(__file__).resolve().parents[2] / "specs"


def design(spec: str, input_shape: str = "28x28x1", **kwargs) -> list[tuple[str | None, str]]:
    report = cnnspec.load(spec, input_shape=input_shape, **kwargs).report()
    return [(n.layer, n.message) for n in report.notes if n.kind == "design"]


def test_bias_before_batch_norm_is_one_note_with_the_biases_it_would_save():
    notes = design("[Conv(3x3,16)-BN-ReLU]*3-FC(10)")
    assert notes == [(None, "Conv:1 (before BN:1), Conv:2 (before BN:2), Conv:3 (before BN:3): "
                            "a bias right before batch norm learns nothing, since BN subtracts "
                            "each channel's mean, bias included; bias=false saves 48 parameters")]


def test_bias_false_or_a_layer_between_says_nothing():
    assert design("Conv(3x3,16,bias=false)-BN-ReLU-Conv(3x3,8)-ReLU-BN-FC(10)") == []


def test_fc_bias_before_batch_norm_counts_the_units():
    assert design("FC(100)-BN-ReLU-FC(10)") == [
        ("FC:1", "(before BN:1) a bias right before batch norm learns nothing, since BN "
                 "subtracts each channel's mean, bias included; bias=false saves 100 parameters")]


def test_one_note_on_the_row_when_the_rule_fires_once():
    assert design("Conv(3x3,8)-ReLU-ReLU-FC(10)") == [
        ("ReLU:2", "(after ReLU:1) the same activation twice in a row; f(f(x)) = f(x) for ReLU "
                   "and ReLU6, so one of the two can go")]


def test_relu_before_the_final_softmax_clips_the_scores():
    notes = design("Conv(3x3,8)-ReLU-FC(10)-ReLU-SM")
    assert [layer for layer, _ in notes] == ["ReLU:2"]
    assert notes[0][1].startswith("(before SM:1) a ReLU before the final softmax clips the class "
                                  "scores: every negative score becomes 0")


def test_a_layer_after_softmax():
    notes = design("Conv(3x3,8)-ReLU-FC(10)-SM-FC(5)-SM-SM")
    assert notes == [(None, "FC:2 (after SM:1), SM:3 (after SM:2): a layer after a softmax reads "
                            "probabilities, not scores; softmax belongs after the last layer "
                            "only")]


def test_fc_layers_without_an_activation_dropout_aside():
    notes = design("Conv(3x3,8)-ReLU-FC(100)-Dropout(0.5)-FC(10)-SM")
    assert notes == [("FC:2", "(after FC:1) two FC layers with no activation between them are "
                              "one linear map, W2 (W1 x) = (W2 W1) x; put an activation between "
                              "them or drop one")]
    assert design("Conv(3x3,8)-ReLU-FC(100)-ReLU-Dropout(0.5)-FC(10)-SM") == []


def test_a_table_of_weighted_layers_without_activations_stays_quiet():
    """The lecture's AlexNet table lists no activation; its FC6-FC7-FC8 is not a slip."""
    assert design("Conv(3x3,8)-Pool(2)-FC(100)-FC(10)") == []
    assert cnnspec.load(str(SPECS / "alexnet.yaml")).report().notes == \
        [n for n in cnnspec.load(str(SPECS / "alexnet.yaml")).report().notes if n.kind != "design"]


def test_stride_past_the_window_and_padding_as_wide_as_the_kernel():
    notes = dict(design("Conv(3x3,8,p=3)-ReLU-Pool(2,s=3)-Conv(1x1,4,s=2)-FC(10)",
                        input_shape="30x30x1", conventions="pytorch"))
    assert notes == {
        "Pool:1": "(stride 3, window 2) a stride longer than the window never reads the rows "
                  "and columns between windows; a stride of at most the window reads every one",
        "Conv:1": "(p=3 around 3x3; p=1 keeps a stride-1 output's size) padding as wide as the "
                  "kernel gives outermost outputs that see only padding, nothing of the input",
    }  # the 1x1 stride-2 conv (ResNet's shortcut) is not flagged


def test_notes_change_no_number():
    report = cnnspec.load("[Conv(3x3,16)-BN-ReLU-ReLU]*2-FC(10)-SM",
                          input_shape="28x28x1").report()
    assert len([n for n in report.notes if n.kind == "design"]) == 2
    # conv 9*16 + 16, BN 4*16, conv 9*16*16 + 16, BN 4*16, FC 24*24*16*10 + 10
    assert report.totals.params == 160 + 64 + 2320 + 64 + 92170


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_zoo_has_no_slips_but_vgg16_bn_s_biases(path):
    notes = [n for n in cnnspec.load(str(path)).report().notes if n.kind == "design"]
    if path.stem == "vgg16-bn":  # torchvision's vgg16_bn keeps a bias in every conv before BN
        assert len(notes) == 1 and notes[0].message.endswith("bias=false saves 4,224 parameters")
    else:
        assert notes == []


def test_validate_prints_the_notes():
    result = CliRunner().invoke(cli, ["validate", "Conv(3x3,8)-ReLU-ReLU-FC(10)", "--input",
                                      "28x28x1"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "network: valid",
        "  note: ReLU:2: (after ReLU:1) the same activation twice in a row; f(f(x)) = f(x) for "
        "ReLU and ReLU6, so one of the two can go"]


def test_notes_reach_json_with_their_kind():
    data = cnnspec.load("Conv(3x3,8)-ReLU-ReLU-FC(10)", input_shape="28x28x1").analyze()
    assert {"layer": "ReLU:2", "kind": "design",
            "message": "(after ReLU:1) the same activation twice in a row; f(f(x)) = f(x) for "
                       "ReLU and ReLU6, so one of the two can go"} in data["notes"]


def test_validate_leaves_the_notes_of_a_very_large_spec_to_analyze():
    from cnnspec.analysis.design import DESIGN_CHECK_LAYERS, layer_count

    spec = f"[Conv(3x3,8,p=1)-ReLU-ReLU] x {DESIGN_CHECK_LAYERS // 3 + 1}"
    loaded = cnnspec.load(spec, input_shape="8x8x1")
    assert layer_count(loaded.network.layers) == 3 * (DESIGN_CHECK_LAYERS // 3 + 1) + 1
    result = CliRunner().invoke(cli, ["validate", spec, "--input", "8x8x1"])
    assert result.exit_code == 0 and result.output == "network: valid\n"
    notes = [n for n in loaded.report().notes if n.kind == "design"]
    assert len(notes) == 1 and notes[0].message.startswith("ReLU:2 (after ReLU:1), ReLU:4 (after")
