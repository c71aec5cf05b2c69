"""The GEMM limit: each layer's products, their timing, and the profile's percentages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

import cnnspec
from cnnspec.cli.main import cli
from cnnspec.engine.gemm_limit import GemmShape, layer_gemms, network_limits, time_gemm
from cnnspec.engine.profile import profile

LENET = "Conv(5x5,6)-ReLU-MPool(2)-Conv(5x5,16)-ReLU-MPool(2)-FC(120)-ReLU-FC(84)-ReLU-FC(10)"


def lenet():
    return cnnspec.load(LENET, input_shape="32x32x1").build(seed=0)


def test_lenet_products_at_batch_64() -> None:
    model = lenet()
    by_name = {layer.name: layer for layer in model.layers}
    # conv 1: F=6, C*HH*WW=25 and the bias column, P=64*28*28; no input gradient for the
    # network input; the weight gradient's product carries the bias gradient as a row
    assert layer_gemms(by_name["Conv:1"], 64, need_dx=False) == (
        [GemmShape(6, 26, 50176)], [GemmShape(26, 50176, 6)])
    # conv 2: stride 1 but F=16 > C=6, so dx goes through col2im: (150, 16) @ (16, 6400)
    assert layer_gemms(by_name["Conv:2"], 64) == (
        [GemmShape(16, 151, 6400)], [GemmShape(151, 6400, 16), GemmShape(150, 16, 6400)])
    assert layer_gemms(by_name["FC:1"], 64) == (
        [GemmShape(64, 400, 120)], [GemmShape(400, 64, 120), GemmShape(64, 120, 400)])
    assert layer_gemms(by_name["ReLU:1"], 64) == ([], [])


def test_grouped_and_transposed_products() -> None:
    model = cnnspec.load("Conv(3x3,8,p=1,g=2)-Conv(3x3,4,p=1)-FC(2)",
                         input_shape="6x6x4").build(seed=0)
    grouped, narrowing = model.layers[0], model.layers[1]
    # G=2 products of (F/G=4, C/G*9=18) @ (18, P=2*36); a grouped bias is added after them
    assert layer_gemms(grouped, 2) == (
        [GemmShape(4, 18, 72, 2)], [GemmShape(18, 72, 4, 2), GemmShape(18, 4, 72, 2)])
    # stride 1, F=4 <= C=8: dx as a transposed convolution (C, F*9) @ (F*9, N*H*W)
    assert layer_gemms(narrowing, 2)[1] == [GemmShape(73, 72, 4), GemmShape(8, 36, 72)]


def test_timing_counts_repeated_products() -> None:
    one = time_gemm(GemmShape(32, 64, 128), np.dtype(np.float32), repeats=3)
    assert one > 0
    limits = network_limits(lenet(), 8, input_grad=False)
    assert [lim.name for lim in limits] == ["Conv:1", "Conv:2", "FC:1", "FC:2", "FC:3"]
    assert limits[0].backward == [GemmShape(26, 8 * 784, 6)]
    assert all(lim.forward_seconds > 0 and lim.backward_seconds > 0 for lim in limits)
    forward_only = network_limits(lenet(), 8, backward=False)
    assert all(lim.backward == [] and lim.backward_seconds == 0 for lim in forward_only)


def test_profile_reports_percent_of_limit() -> None:
    result = profile(lenet(), 4, limit=True)
    conv = next(t for t in result.layers if t.name == "Conv:1")
    relu = next(t for t in result.layers if t.name == "ReLU:1")
    assert conv.gemm_forward > 0 and conv.percent_of_limit() is not None
    assert relu.percent_of_limit() is None
    assert np.isclose(result.gemm_seconds,
                      sum(t.gemm_forward + t.gemm_backward for t in result.layers))
    expected = 100 * (result.forward_seconds + result.backward_seconds) / result.gemm_seconds
    assert np.isclose(result.percent_of_limit(), expected)
    assert profile(lenet(), 4).gemm_seconds == 0  # not measured unless asked


def test_run_profile_shows_the_limit() -> None:
    runner = CliRunner()
    shown = runner.invoke(cli, ["run", LENET, "--input", "32x32x1", "-b", "4", "--profile"])
    assert shown.exit_code == 0, shown.output
    assert "GEMM limit ms" in shown.output and "vs limit" in shown.output
    assert "GEMM limit: the conv and FC products alone take" in shown.output
    data = json.loads(runner.invoke(cli, ["run", LENET, "--input", "32x32x1", "-b", "4",
                                          "--profile", "-f", "json"]).output)
    assert data["gemm_seconds"] > 0
    assert data["layers"][0]["gemm_forward"] > 0


def test_profile_warms_up_before_timing() -> None:
    """One untimed pass first, then ``repeats`` timed ones: the first layer's one-time
    set-up is not charged to it."""
    import cnnspec
    from cnnspec.engine.profile import profile

    model = cnnspec.load("Conv(3x3,4)-ReLU-FC(3)", input_shape="8x8x1").build(seed=0)
    calls = []
    original = model.forward

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    model.forward = counting  # type: ignore[method-assign]
    result = profile(model, 2, repeats=3)
    assert len(calls) == 1 + 3
    assert [t.name for t in result.layers][:2] == ["Conv:1", "ReLU:1"]


def test_run_profile_names_the_rows_that_run_inside_another() -> None:
    """Inference: folded BN and fused ReLU show ``in Conv:n``; a block's merge row
    ``in Residual:n`` (training too), and the legend says why."""
    spec = str(Path(__file__).parent / "residual_block.yaml")
    runner = CliRunner()
    data = json.loads(runner.invoke(cli, ["run", spec, "-b", "4", "--forward-only", "--profile",
                                          "-f", "json"]).output)
    inside = {t["name"]: t["inside"] for t in data["layers"] if t["inside"]}
    assert inside == {"BN:1": "Conv:1", "BN:2": "Conv:2", "BN:3": "Conv:3", "BN:4": "Conv:4",
                      "Residual:1.add": "Residual:1", "Residual:2.add": "Residual:2"}
    shown = runner.invoke(cli, ["run", "Conv(3x3,4,p=1)-BN-ReLU-FC(2)", "--input", "6x6x2",
                                "-b", "64", "--forward-only", "--profile"]).output
    assert "in Conv:1" in shown and "in NAME: the row runs inside that layer" in shown
    trained = json.loads(runner.invoke(cli, ["run", spec, "-b", "4", "--profile", "-f",
                                             "json"]).output)
    assert {t["name"] for t in trained["layers"] if t["inside"]} == {"Residual:1.add",
                                                                      "Residual:2.add"}
