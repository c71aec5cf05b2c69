"""``macs: torchinfo`` reproduces torchinfo's total_mult_adds; the default stays weight MACs."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import cnnspec
from cnnspec.cli.main import cli

# torchinfo.summary(model, (1, 3, 224, 224)).total_mult_adds for torchvision's models
TORCHINFO = {"resnet34": 3_663_779_432, "densenet121": 2_834_246_312,
             "vgg16-bn": 15_483_829_480}
# torchinfo 1.8.0's total_mult_adds of the modules `cnnspec export --to pytorch` writes
TORCHINFO_ZOO = {"mobilenet_v2": 300_809_384, "mobilenet_v3_large": 216_621_520,
                 "efficientnet_b0": 385_867_108, "shufflenet_v2_x1_0": 144_925_172,
                 "squeezenet1_0": 823_270_824, "mnasnet1_0": 314_454_792,
                 "inception_v3": 5_713_251_528, "mobilenet-digits": 1_707_036,
                 "lenet5-1998": 333_082}
WEIGHT_MACS = {"resnet34": 3_663_761_408, "densenet121": 2_834_161_664,
               "vgg16-bn": 15_470_264_320}


@pytest.mark.parametrize("name", sorted(TORCHINFO))
def test_torchinfo_totals_are_reproduced_exactly(name: str) -> None:
    spec = cnnspec.load(name)
    assert spec.report().totals.macs == WEIGHT_MACS[name]
    assert spec.with_conventions(macs="torchinfo").report().totals.macs == TORCHINFO[name]


def test_the_rule_layer_by_layer() -> None:
    report = cnnspec.load("8x8x3 Conv(3x3, 4)-BN-ReLU-MPool(2)-FC(5)-PReLU").with_conventions(
        macs="torchinfo").report()
    macs = {r.kind: r.macs for r in report.leaves()}
    # conv: (3*3*3*4 weights + 4 biases) * 6*6 positions; BN 2C; FC 3*3*4*5 + 5; PReLU 1
    assert macs == {"conv": (108 + 4) * 36, "batchnorm": 8, "relu": 0, "pool": 0,
                    "fc": 180 + 5, "prelu": 1}
    conv = report.leaves()[0]
    assert conv.formulas["macs"] == "112*6*6 = 4,032"


def test_the_convention_is_stated_in_the_header_and_read_from_yaml(tmp_path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text("input: 8x8x3\nconventions: {preset: pytorch, macs: torchinfo}\n"
                    "architecture: Conv(3x3, 4)-BN\n")
    report = cnnspec.load(str(path)).report()
    assert "MACs: torchinfo's total_mult_adds" in report.conventions_text
    assert report.totals.macs == 112 * 36 + 8
    assert "MACs" not in cnnspec.load("8x8x3 Conv(3x3,4)").report().conventions_text


def test_cli_option() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["analyze", "resnet34", "--macs", "torchinfo", "-f", "json"])
    assert result.exit_code == 0, result.output
    import json

    assert json.loads(result.output)["totals"]["macs"] == 3_663_779_432
    bad = runner.invoke(cli, ["analyze", "resnet34", "--macs", "flops"])
    assert bad.exit_code == 2


@pytest.mark.parametrize("name", sorted(TORCHINFO_ZOO))
def test_torchinfo_totals_of_the_zoo(name: str) -> None:
    report = cnnspec.load(name).with_conventions(macs="torchinfo").report()
    assert report.totals.macs == TORCHINFO_ZOO[name]


@pytest.mark.parametrize("name", ["mobilenet-digits", "lenet5-1998", "squeezenet1_0"])
def test_torchinfo_itself_agrees(name: str) -> None:
    torchinfo = pytest.importorskip("torchinfo")
    pytest.importorskip("torch")
    from tests.export.helpers import module_namespace

    spec = cnnspec.load(name)
    h, w, c = spec.report().input
    net = module_namespace(spec).Model().eval()
    measured = torchinfo.summary(net, (1, c, h, w), verbose=0).total_mult_adds
    assert spec.with_conventions(macs="torchinfo").report().totals.macs == measured
