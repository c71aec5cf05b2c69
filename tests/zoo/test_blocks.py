"""Blocks in the analysis: residual, concat, transition, dual path, connection tables, aux."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from cnnspec.analysis import analyze
from cnnspec.analysis.block_counts import dual_path_channels, transition_filters
from cnnspec.cli.main import cli
from cnnspec.errors import AnalysisError, SpecError
from cnnspec.render.columns import visible_rows
from cnnspec.spec import from_string
from cnnspec.spec.blocks import TableConv
from cnnspec.spec.load import from_yaml

from .conftest import zoo_report


def yaml_report(text: str, **options):
    return analyze(from_yaml(textwrap.dedent(text), "b.yaml"), **options)


# -- residual and concat ---------------------------------------------------------------------
def test_residual_shape_mismatch_names_both_shapes_and_suggests_a_projection() -> None:
    with pytest.raises(AnalysisError) as info:
        yaml_report("""\
            input: 8x8x4
            architecture:
              - residual: {body: "Conv(3x3, 8, p=1)"}
            """)
    err = info.value
    assert err.message == ("Residual:1: cannot add the residual branch's 8x8x8 to the "
                           "shortcut's 8x8x4")
    assert err.hint == "give the shortcut a projection, e.g. shortcut: [Conv(1x1, 8, s=STRIDE), BN]"
    assert err.loc is not None and err.loc.line == 3


def test_a_projection_fixes_it() -> None:
    report = yaml_report("""\
        input: 8x8x4
        architecture:
          - residual: {body: "Conv(3x3, 8, s=2, p=1)", shortcut: "Conv(1x1, 8, s=2)"}
        conventions: pytorch
        """)
    assert report.row("Residual:1.add").output == (4, 4, 8)


def test_concat_spatial_mismatch_names_the_branch() -> None:
    with pytest.raises(AnalysisError) as info:
        yaml_report("""\
            input: 8x8x4
            architecture:
              - concat:
                  branches: ["Conv(1x1, 2)", "Conv(1x1, 3)", "Conv(3x3, 2)"]
            """)
    assert info.value.message == ("Concat:1: branch 3 ends at 6x6x2 but branch 1 ends at 8x8x2; "
                                  "concatenation needs equal H x W")
    assert "change branch 3's stride or padding" in info.value.hint


def test_incept_without_branches_says_what_is_missing() -> None:
    with pytest.raises(AnalysisError, match=r"Incept:1: Incept has no branches, so its output "
                                            r"cannot be known") as info:
        analyze(from_string("8x8x3 Conv(3x3, 8, p=1)-Incept-FC(10)"))
    assert info.value.loc.column == 25


def test_dense_layer_concatenates_the_input_with_k_new_channels() -> None:
    report = zoo_report("densenet121")
    assert report.row("dense_block(6)").output == (56, 56, 64 + 6 * 32)
    assert report.row("dense_block(24)").output == (14, 14, 256 + 24 * 32)
    merges = [r for r in report.leaves() if r.kind == "concat_merge"]
    assert len(merges) == 6 + 12 + 24 + 16
    assert merges[0].hyper == "C = 64 + 32"


# -- transition ------------------------------------------------------------------------------
def test_transition_compresses_channels_and_halves_the_size() -> None:
    report = analyze(from_string("16x16x10 Transition(0.3)"))
    block = report.layers[0]
    assert block.is_block and block.output == (8, 8, 3)
    assert block.hyper == "theta=0.3: floor(0.3*10) = 3"
    assert [r.type for r in report.layers[1:]] == ["BN", "ReLU", "Conv", "APool"]
    assert report.layers[3].weights == 10 * 3 and report.layers[3].biases == 0
    assert transition_filters(10, 0.3) == 3 and transition_filters(1024, 0.5) == 512
    assert zoo_report("densenet121").row("Transition:3").output == (7, 7, 512)


def test_transition_that_leaves_no_filter_is_an_error() -> None:
    with pytest.raises(AnalysisError, match=r"compression 0.1 of 5 channels leaves "
                                            r"floor\(0.1\*5\) = 0 filters"):
        analyze(from_string("8x8x5 Transition(0.1)"))
    with pytest.raises(SpecError, match=r"compression must be at most 1"):
        from_string("8x8x5 Transition(1.5)")


# -- dual path -----------------------------------------------------------------------------
def test_dual_path_channel_arithmetic() -> None:
    assert dual_path_channels(64, 256, 16, projection=True) == (32, 256 + 32 + 16)
    assert dual_path_channels(304, 256, 16, projection=False) == (48, 320)
    report = analyze(from_string(
        "8x8x64 DualPath(32, 256, 16, 8, proj=true)-DualPath(32, 256, 16, 8)"), )
    first, second = (r for r in report.layers if r.kind == "dual_path")
    assert first.output == (8, 8, 304) and second.output == (8, 8, 320)
    merge = report.row("DualPath:2.merge")
    assert merge.hyper == "res 256 (added); dense 48 + 16; C = 256 + 48 + 16 = 320"
    grouped = [r for r in report.leaves() if "g=8" in r.hyper]
    assert [r.weights for r in grouped] == [3 * 3 * 4 * 32] * 2
    projection = report.row("Conv:4")
    assert projection.path.endswith("skip.3") and projection.output == (8, 8, 256 + 32)


def test_dual_path_errors() -> None:
    with pytest.raises(AnalysisError, match=r"the input has 64 channels, fewer than the "
                                            r"residual path's 256") as info:
        analyze(from_string("8x8x64 DualPath(32, 256, 16)"))
    assert info.value.hint == "the first block of a stage needs a projection: write proj=true"
    with pytest.raises(AnalysisError, match=r"the bottleneck ends at 4x4x272 but the shortcut "
                                            r"stays at 7x7x304"):
        analyze(from_string("7x7x304 DualPath(32, 256, 16, s=2)"))


def test_dpn92_stage_widths() -> None:
    report = zoo_report("dpn92")
    dual = [r for r in report.layers if r.kind == "dual_path"]
    assert len(dual) == 3 + 4 + 20 + 3
    assert dual[2].output == (56, 56, 256 + 3 * 16 + 2 * 16)
    assert dual[3].output == (28, 28, 512 + 3 * 32)
    assert dual[-1].output == (7, 7, 2048 + 5 * 128)


# -- connection tables --------------------------------------------------------------------
def test_table_conv_counts_follow_the_table() -> None:
    report = analyze(from_yaml(textwrap.dedent("""\
        input: 6x6x3
        architecture:
          - table_conv: {kernel: 3, connections: [[0], [1, 2], [0, 1, 2]], bias: false}
        """), "t.yaml"))
    row = report.layers[0]
    assert row.output == (4, 4, 3) and row.weights == 9 * 6 and row.biases == 0
    assert row.macs == 4 * 4 * 9 * 6
    assert row.formulas["params"] == "(3*3*1)*1 + (3*3*2)*1 + (3*3*3)*1 = 54"


def test_table_conv_errors() -> None:
    with pytest.raises(AnalysisError, match=r"filter 1 reads input channel 3, but the input has "
                                            r"3 channels \(0 to 2\)"):
        analyze(from_yaml("input: 6x6x3\narchitecture:\n  - table_conv: {kernel: 3, "
                          "connections: [[0], [3]]}\n", "t.yaml"))
    with pytest.raises(ValidationError, match="filter 0 reads no input channel"):
        TableConv(kernel=3, connections=[[]])
    with pytest.raises(ValidationError, match="filter 0 lists an input channel twice"):
        TableConv(kernel=3, connections=[[1, 1]])


# -- auxiliary heads and depth ----------------------------------------------------------------
def test_aux_head_block_is_auxiliary() -> None:
    report = zoo_report("googlenet")
    aux1 = report.row("aux_head:aux1")
    assert not aux1.main and aux1.is_block
    assert aux1.params == 65_536 + 4 * 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000
    assert report.totals.aux_params == aux1.params + report.row("aux_head:aux2").params


@pytest.mark.parametrize("name", ["resnet50", "googlenet", "densenet121", "dpn92",
                                  "resnext50-32x4d", "vgg16-bn", "lenet5-1998"])
def test_rows_at_every_depth_add_up_to_the_totals(name: str) -> None:
    report = zoo_report(name)
    deepest = max(r.depth for r in report.layers)
    for depth in range(deepest + 1):
        cut = [r for r in visible_rows(report, depth)
               if r.main and (r.depth == depth or not r.is_block)]
        assert sum(r.params for r in cut) == report.totals.params, depth
        assert sum(r.macs for r in cut) == report.totals.macs, depth
        assert sum(r.nodes for r in cut) == report.totals.nodes, depth


def test_depth_option_hides_deeper_rows_but_not_the_totals() -> None:
    runner = CliRunner()
    shallow = runner.invoke(cli, ["analyze", "resnet50", "--depth", "0", "-f", "csv"])
    deep = runner.invoke(cli, ["analyze", "resnet50", "-f", "csv"])
    assert shallow.exit_code == deep.exit_code == 0
    assert len(shallow.stdout.splitlines()) == 1 + 4 + 4 + 3  # header, stem, stages, head
    assert len(deep.stdout.splitlines()) == 1 + len(zoo_report("resnet50").layers) == 216
    tables = [runner.invoke(cli, ["analyze", "resnet50", "--depth", str(d)]).stdout
              for d in (0, 1, 4)]
    for table in tables:
        assert ("Parameters: 25,557,032 (25.56 M) trainable (weights 25,529,472 + biases 27,560)"
                " + 53,120 non-trainable (running statistics) = 25,610,152 (25.61 M)") in table
        assert "MACs: 4,089,184,256 (4.089 G)" in table
    assert "Conv:2 " not in tables[0] and "Conv:2 " in tables[2]


# -- the VGG observation -----------------------------------------------------------------------
def test_stacked_3x3_convolutions_see_5x5_and_7x7() -> None:
    report = analyze(from_string("32x32x16 [Conv(3x3, 16, p=1)] x 3"))
    assert [r.rf_size for r in report.leaves()] == [(3, 3), (5, 5), (7, 7)]
    three = sum(r.weights for r in report.leaves())
    seven = analyze(from_string("32x32x16 Conv(7x7, 16, p=3)"))
    assert seven.leaves()[0].rf_size == (7, 7)
    assert three == 27 * 16 * 16 and seven.totals.weights == 49 * 16 * 16


def test_vgg16_receptive_fields() -> None:
    convs = [r for r in zoo_report("vgg16").leaves() if r.kind == "conv"]
    assert [r.rf_size[0] for r in convs[:4]] == [3, 5, 10, 14]
    assert convs[-1].rf_size == (196, 196)  # conv5_3, the figure usually quoted
    table = CliRunner().invoke(cli, ["analyze", "vgg16", "--depth", "2"]).stdout
    assert "3 / 1" in table and "5 / 1" in table


def test_row_index_is_the_row_position() -> None:
    report = zoo_report("resnet18")
    assert [r.index for r in report.layers] == list(range(len(report.layers)))
