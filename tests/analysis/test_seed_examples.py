"""The worked examples of SEEDS.md, through the analysis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnnspec
from cnnspec.analysis.counts import conv_params
from cnnspec.analysis.shapes import SizeError, conv_output_size, same_padding, window_positions
from cnnspec.conventions import Rounding
from cnnspec.errors import AnalysisError


def out(spec: str, shape: str, conventions: str | None = None):
    return cnnspec.load(spec, input_shape=shape, conventions=conventions).report()


@pytest.mark.parametrize(("stride", "size"), [(1, 5), (2, 3)])
def test_7x7_with_3x3(stride: int, size: int) -> None:
    report = out(f"Conv(3x3, 1, s={stride})", "7x7x1")
    assert report.layers[0].output == (size, size, 1)


def test_7x7_stride_3_is_an_error_with_the_arithmetic() -> None:
    with pytest.raises(AnalysisError) as info:
        out("Conv(3x3, 1, s=3)", "7x7x1")
    assert "(7 + 2*0 - 3)/3 + 1 = 2.33 is not a whole number" in info.value.message
    assert info.value.loc is not None and info.value.loc.column == 16
    assert "floor" in (info.value.hint or "")


def test_floor_and_ceil_rounding() -> None:
    assert conv_output_size(7, 3, 3, 0, 1, Rounding.FLOOR).size == 2
    assert conv_output_size(7, 3, 3, 0, 1, Rounding.CEIL).size == 3
    report = out("Conv(3x3, 1, s=3)", "7x7x1", "pytorch")
    assert report.layers[0].output == (2, 2, 1)
    assert "(7 + 2*0 - 3)/3 + 1 = 2.33" in report.layers[0].formulas["output"]
    # pytorch floors by design: one note for the network, none per layer
    assert [(n.layer, n.kind) for n in report.notes] == [(None, "rounding")]
    assert "rounded as pytorch does by design" in report.notes[0].message
    assert "Conv:1" in report.notes[0].message
    # the lecture's sizes are exact: the per-layer note stays
    lecture = out("Conv(3x3, 1, s=3)", "7x7x1", "lecture")
    assert [n.layer for n in lecture.notes] == ["Conv:1"] and "2.33" in lecture.notes[0].message


@pytest.mark.parametrize(("stride", "size"), [(1, 5), (2, 3)])
def test_5_wide_pad_1(stride: int, size: int) -> None:
    assert conv_output_size(5, 3, stride, 1).size == size
    with pytest.raises(SizeError):
        conv_output_size(5, 3, 3, 1)


def test_small_maps() -> None:
    assert out("Conv(3x3, 1)", "5x5x1").layers[0].output == (3, 3, 1)
    assert out("Conv(3x3, 1)", "4x4x1").layers[0].output == (2, 2, 1)
    # padding keeps the size: 5x5 padded back to 7x7 then 3x3 -> 5x5 ... and 6 filters -> depth 6
    assert out("Conv(3x3, 6, p=1)", "5x5x1").layers[0].output == (5, 5, 6)


def test_cifar_walkthrough() -> None:
    report = out("INPUT - CONV(3x3, 12, p=1) - RELU - POOL(2) - FC(10)", "32x32x3")
    assert [r.output for r in report.layers] == [(32, 32, 12), (32, 32, 12), (16, 16, 12), (10,)]


def test_filter_parameters() -> None:
    assert conv_params(5, 5, 3, 1) == 76
    assert out("Conv(5x5, 1)", "32x32x3").layers[0].params == 76
    assert out("Conv(3x3, 1)", "16x16x20").layers[0].weights == 180


def test_one_by_one_at_notation() -> None:
    report = cnnspec.load("224 x 224 x 500 => (1 x 1 x 500) @ 120 => 224 x 224 x 120").report()
    assert report.layers[0].output == (224, 224, 120)
    assert report.layers[0].params == 60_120
    with pytest.raises(AnalysisError, match="says the data is 224x224x121"):
        cnnspec.load("224x224x500 => (1x1x500)@120 => 224x224x121").report()
    with pytest.raises(AnalysisError, match="written with depth 500"):
        cnnspec.load("(1x1x500)@120", input_shape="8x8x3").report()


def test_non_square() -> None:
    row = out("Conv(3x5, 4, s=2, p=1)", "9x11x2").layers[0]
    # OH = (9 + 2 - 3)/2 + 1 = 5; OW = (11 + 2 - 5)/2 + 1 = 5
    assert row.output == (5, 5, 4)
    row = out("Conv(3x3, 4, p=1)", "8x12x2").layers[0]
    assert row.output == (8, 12, 4)


def test_dilation_groups_bias() -> None:
    row = out("Conv(3x3, 8, d=2, g=2, bias=false)", "9x9x4").layers[0]
    assert row.output == (5, 5, 8)  # (9 - 2*(3-1) - 1)/1 + 1
    assert row.params == 3 * 3 * 2 * 8
    assert row.macs == 5 * 5 * 8 * 3 * 3 * 2


def test_same_padding() -> None:
    assert same_padding(224, 7, 2) == (2, 3)
    assert out("Conv(4x4, 2, s=2, p=same)", "9x9x1").layers[0].output == (5, 5, 2)


def test_batchnorm_counts() -> None:
    report = out("Conv(3x3, 16, bias=false)-BN-ReLU", "8x8x3")
    bn = report.layers[1]
    assert (bn.trainable, bn.non_trainable, bn.params) == (32, 32, 64)
    assert report.totals.trainable_params == 3 * 3 * 3 * 16 + 32
    assert report.totals.non_trainable_params == 32


def test_vgg_receptive_fields() -> None:
    report = out("Conv(3x3,1,p=1)-Conv(3x3,1,p=1)-Conv(3x3,1,p=1)", "32x32x1")
    assert [r.rf_size for r in report.layers] == [(3, 3), (5, 5), (7, 7)]
    assert sum(r.weights for r in report.layers) == 27  # vs 49 for one 7x7


def test_kernel_larger_than_input() -> None:
    with pytest.raises(AnalysisError, match="larger than the padded input"):
        out("Conv(5x5, 1)", "4x4x1")


def test_missing_sizes_are_named() -> None:
    with pytest.raises(AnalysisError) as info:
        cnnspec.load("Conv-ReLU-Pool-FC-SM").report()
    message = info.value.message
    assert "the input shape" in message
    assert "Conv needs kernel and filters" in message
    assert "Pool needs kernel" in message and "FC needs units" in message


def test_fc_before_input_known() -> None:
    with pytest.raises(AnalysisError, match="the input shape"):
        cnnspec.load("FC(10)").report()


def test_memory_and_training_estimate() -> None:
    report = cnnspec.load("Conv(3x3, 4, p=1)-ReLU-FC(10)", input_shape="8x8x1").report(
        batch=32, optimizer="momentum")
    t = report.totals
    params = (9 + 1) * 4 + (256 + 1) * 10
    assert t.params == params
    assert t.nodes == 256 + 256 + 10
    assert t.activation_bytes_batch == 32 * 522 * 4
    assert t.training_breakdown == {
        "parameters": params * 4, "gradients": params * 4, "optimizer_state": params * 4,
        "activations": 32 * (64 + 522) * 4}
    assert t.macs == 8 * 8 * 4 * 9 + 256 * 10
    assert t.flops == 2 * t.macs


def test_dtype_and_input_nodes() -> None:
    from cnnspec.spec import Network

    net = cnnspec.load("Conv(3x3, 4, p=1)", input_shape="8x8x1").network
    conventions = net.conventions.model_copy(update={"dtype": "float16",
                                                     "count_input_nodes": True})
    report = cnnspec.load(Network.model_validate(
        {**net.model_dump(), "conventions": conventions})).report()
    assert report.totals.nodes == 256 + 64
    assert report.totals.param_bytes == 40 * 2


@given(n=st.integers(1, 60), f=st.integers(1, 9), s=st.integers(1, 6), p=st.integers(0, 5),
       d=st.integers(1, 4))
def test_formula_counts_window_positions(n: int, f: int, s: int, p: int, d: int) -> None:
    positions = window_positions(n, f, s, p, d)
    if d * (f - 1) + 1 > n + 2 * p:
        with pytest.raises(SizeError):
            conv_output_size(n, f, s, p, d, Rounding.FLOOR)
        return
    assert conv_output_size(n, f, s, p, d, Rounding.FLOOR).size == positions
    exact = (n + 2 * p - d * (f - 1) - 1) % s == 0
    if exact:
        assert conv_output_size(n, f, s, p, d).size == positions
    else:
        with pytest.raises(SizeError):
            conv_output_size(n, f, s, p, d)
