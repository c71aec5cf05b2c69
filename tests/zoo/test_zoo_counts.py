"""The zoo against published figures: parameter counts, MACs, LeNet-5's table, depth."""

from __future__ import annotations

import re

import pytest

from cnnspec.analysis.depth import longest_path, weighted_layers
from cnnspec.spec import zoo

from .conftest import zoo_network, zoo_report

# torchvision's published parameter counts (the `num_params` of each weights entry); these
# are trainable parameters: batch-norm running statistics are buffers, not parameters.
TORCHVISION_PARAMS = {
    "alexnet-torchvision": 61_100_840,
    "vgg11": 132_863_336,
    "vgg16": 138_357_544,
    "vgg19": 143_667_240,
    "vgg16-bn": 138_365_992,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "resnext50-32x4d": 25_028_904,
    "densenet121": 7_978_856,
    "googlenet": 6_624_904,
}

# torchvision's published GFLOPS (which are multiply-accumulates of conv and FC layers),
# printed to three decimals.
TORCHVISION_GMACS = {
    "alexnet-torchvision": 0.714,
    "vgg16": 15.470,
    "resnet50": 4.089,
    "densenet121": 2.834,
    "vgg19": 19.632,
    "resnet18": 1.814,
    "resnet152": 11.514,
    "resnext50-32x4d": 4.230,
}

EXPECTED_ZOO = {
    "lenet5", "lenet5-1998", "alexnet", "alexnet-2012", "alexnet-torchvision", "vgg11",
    "vgg16", "vgg19", "vgg16-bn", "googlenet", "googlenet-paper", "resnet18", "resnet34",
    "resnet50", "resnet101", "resnet152", "resnext50-32x4d", "densenet121", "dpn68", "dpn92",
    "cifar10-cs231n", "cifar10-vgg",
}


def test_the_zoo_has_every_network_of_the_notes() -> None:
    assert set(zoo.names()) >= EXPECTED_ZOO


@pytest.mark.parametrize(("name", "params"), sorted(TORCHVISION_PARAMS.items()))
def test_trainable_parameters_equal_torchvision(name: str, params: int) -> None:
    assert zoo_report(name).totals.trainable_params == params


@pytest.mark.parametrize(("name", "gmacs"), sorted(TORCHVISION_GMACS.items()))
def test_macs_equal_torchvision_gflops(name: str, gmacs: float) -> None:
    assert round(zoo_report(name).totals.macs / 1e9, 3) == gmacs


def test_exact_macs_of_the_reference_networks() -> None:
    assert zoo_report("alexnet-torchvision").totals.macs == 714_188_480
    assert zoo_report("resnet50").totals.macs == 4_089_184_256


@pytest.mark.parametrize(("name", "running"), [("resnet50", 53_120), ("densenet121", 83_648),
                                               ("googlenet", 14_560), ("vgg16", 0)])
def test_params_add_the_batch_norm_running_statistics(name: str, running: int) -> None:
    totals = zoo_report(name).totals
    assert totals.non_trainable_params == running
    assert totals.params == totals.trainable_params + running


def test_lenet5_1998_rows_match_the_paper() -> None:
    report = zoo_report("lenet5-1998")
    rows = {name: report.row(name).params for name in ("C1", "S2", "C3", "S4", "C5", "F6")}
    assert rows == {"C1": 156, "S2": 12, "C3": 1_516, "S4": 32, "C5": 48_120, "F6": 10_164}
    assert sum(rows.values()) == 60_000
    assert report.totals.trainable_params == 60_000 + 850  # OUTPUT as FC(10), see the file
    c3 = report.row("C3")
    assert c3.output == (10, 10, 16) and c3.weights == 25 * 60 and c3.macs == 10 * 10 * 25 * 60
    assert c3.formulas["params"] == "(5*5*3 + 1)*6 + (5*5*4 + 1)*9 + (5*5*6 + 1)*1 = 1,516"
    assert [report.row(n).output for n in ("S2", "S4", "C5")] == [(14, 14, 6), (5, 5, 16),
                                                                  (1, 1, 120)]


def test_lenet5_modern() -> None:
    report = zoo_report("lenet5")
    assert report.totals.params == 156 + 2_416 + 48_120 + 10_164 + 850 == 61_706
    assert report.leaves()[-1].kind == "softmax"


def test_alexnet_variants() -> None:
    assert zoo_report("alexnet").totals.params == 62_369_152  # the lecture table, unchanged
    paper = zoo_report("alexnet-2012")
    assert paper.totals.params == 60_965_224  # Caffe's bvlc_alexnet
    assert paper.layers[0].output == (55, 55, 96)
    assert not [n for n in paper.notes if n.kind == "rounding"]  # 227 makes every size exact
    grouped = [r for r in paper.leaves() if r.kind == "conv" and "g=2" in r.hyper]
    assert [r.weights for r in grouped] == [5 * 5 * 48 * 256, 3 * 3 * 192 * 384,
                                            3 * 3 * 192 * 256]


def test_googlenet_auxiliary_heads_are_apart() -> None:
    main = zoo_report("googlenet")
    both = zoo_report("googlenet", include_aux=True)
    assert both.totals.trainable_params == 13_004_888  # torchvision with aux_logits=True
    assert main.totals.aux_params == both.totals.params - main.totals.params
    assert main.totals.aux_params - 2 * 2 * 128 == 6_379_984  # trainable, without BN stats
    aux_rows = [r for r in main.leaves(main_only=False) if not r.main]
    assert aux_rows and all(r.name not in {x.name for x in main.leaves()} for r in aux_rows)


def test_googlenet_torchvision_and_paper_variants_differ_as_documented() -> None:
    tv, paper = zoo_report("googlenet"), zoo_report("googlenet-paper")
    tv_kernels = {r.hyper.split(",")[0] for r in tv.leaves() if ".b3." in r.path
                  and r.kind == "conv"}
    paper_kernels = {r.hyper.split(",")[0] for r in paper.leaves() if ".b3." in r.path
                     and r.kind == "conv"}
    assert any(k.startswith("3x3") for k in tv_kernels)
    assert not any(k.startswith("5x5") for k in tv_kernels)
    assert any(k.startswith("5x5") for k in paper_kernels)
    assert paper.totals.params == 6_998_552  # the BVLC Caffe model
    assert tv.row("inception_module:5b").output == paper.row("inception_module:5b").output \
        == (7, 7, 1024)


def test_dual_path_networks_match_the_released_models() -> None:
    # the released models' counts (pretrainedmodels/timm: 12.61 M and 37.67 M), checked
    # against a PyTorch re-implementation of the authors' DualPathBlock
    assert zoo_report("dpn68").totals.trainable_params == 12_611_602
    assert zoo_report("dpn92").totals.trainable_params == 37_668_392
    assert zoo_report("dpn92").row("FC:1").input == (1, 1, 2688)
    assert zoo_report("dpn68").row("FC:1").input == (1, 1, 832)


def test_resnet_v1_would_do_fewer_macs_with_the_same_parameters() -> None:
    from cnnspec.analysis import analyze
    from cnnspec.spec.load import from_yaml

    text = (zoo.find("resnet50").read_text()
            .replace("Conv(1x1, planes, bias=false)-BN-ReLU-Conv(3x3, planes, s=stride, p=1",
                     "Conv(1x1, planes, s=stride, bias=false)-BN-ReLU-Conv(3x3, planes, p=1"))
    v1 = analyze(from_yaml(text, "resnet50-v1.yaml")).totals
    assert v1.trainable_params == 25_557_032
    assert v1.macs == 3_857_973_248  # the file's "3.858 G for v1"


@pytest.mark.parametrize(("name", "depth"), [
    ("lenet5", 5), ("alexnet-2012", 8), ("vgg16", 16), ("vgg19", 19), ("googlenet", 22),
    ("resnet18", 18), ("resnet50", 50), ("resnet152", 152), ("resnext50-32x4d", 50),
    ("densenet121", 121), ("dpn68", 68), ("dpn92", 92),
])
def test_depth_is_the_number_in_the_name(name: str, depth: int) -> None:
    assert longest_path(zoo_network(name).layers) == depth


def test_weighted_layers_count_every_conv_and_fc() -> None:
    # ResNet-50: 49 convolutions on the main path, 4 projections, 1 FC
    assert weighted_layers(zoo_report("resnet50")) == 54
    assert weighted_layers(zoo_report("googlenet")) == 3 + 9 * 6 + 1  # aux heads apart


def test_small_nets() -> None:
    cs231n = zoo_report("cifar10-cs231n")
    assert [r.output for r in cs231n.leaves()] == [(32, 32, 12), (32, 32, 12), (16, 16, 12),
                                                   (10,)]
    assert cs231n.totals.params == (3 * 3 * 3 + 1) * 12 + (16 * 16 * 12 + 1) * 10
    small = zoo_report("cifar10-vgg").totals
    assert 300_000 <= small.params <= 1_000_000 and small.params == 337_050
    assert small.macs < 20_000_000


@pytest.mark.parametrize("name", sorted(EXPECTED_ZOO))
def test_every_file_names_its_source_and_variant(name: str) -> None:
    path = zoo.find(name)
    assert path is not None
    head = path.read_text().split("\nname:")[0]
    assert head.startswith("# ")
    assert re.search(r"(19|20)\d\d", head), "the header cites a paper or a source with its year"
    assert "Variant" in head or name == "alexnet"  # alexnet.yaml is the lecture's own table
    network = zoo_network(name)
    assert network.name == name and network.description


@pytest.mark.parametrize("name", ["resnet50", "googlenet", "densenet121", "dpn92"])
def test_row_names_are_unique(name: str) -> None:
    names = [r.name for r in zoo_report(name).layers]
    assert len(names) == len(set(names))
    if name == "resnet50":
        assert [n for n in names if n.startswith("bottleneck(64)")] == ["bottleneck(64)",
                                                                         "bottleneck(64)#2"]
