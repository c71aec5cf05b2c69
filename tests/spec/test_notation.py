"""Every network string of SEEDS.md parses and validates; the notation's forms."""

from __future__ import annotations

import pytest

from cnnspec.analysis.missing import iter_nodes
from cnnspec.errors import SpecError
from cnnspec.spec import from_string

SEED_STRINGS = [
    "Conv-ReLU-Pool-Conv-ReLU-Pool-Conv-ReLU-Pool-FC-SM",
    "Conv-Pool-Conv-Pool-Conv-FC-FC-SM",
    "Conv-Pool-Conv-Pool-Conv-Conv-Conv-Pool-FC-FC-SM",
    "Conv-ReLU-Pool-Conv-ReLU-Pool-Conv-ReLU-Pool-FC-FC-SM",
    "Conv:1-Pool:1-Conv:2-Pool:2-Conv:3-Conv:4-Conv:5-Pool:4-FC:6-FC:7-FC:8",
    "Conv-Pool-Conv-Pool-Conv-FC-FC (SM)",
    "Conv-Pool-Norm-Conv-Pool-Norm-Conv-Conv-Conv-Pool-FC-FC-FC (SM)",
    "Conv-MPool-Conv-Incept-Incept-MPool-Incept-Incept-Incept-Incept-Incept-MPool-Incept-Incept-"
    "APool-FC-SM",
    "Conv-Mpool-[Conv-ReLU-Conv-ReLU-Conv-ReLU] x 3-[...] x 8-[...] x 36-[...] x 3-APool-FC-SM",
    "BN-ReLU-(1x1 conv)-BN-ReLU-(3x3 conv)",
    "224 x 224 x 500 => (1 x 1 x 500) @ 120 => 224 x 224 x 120",
    "INPUT - CONV - RELU - POOL - FC",
    "[Conv-ReLU-Conv-ReLU-Conv-ReLU] x 3",
]


def kinds(text: str) -> list[str]:
    """The kinds of every node of a parsed string, depth first."""
    return [n.kind for n in iter_nodes(from_string(text).layers)]


@pytest.mark.parametrize("text", SEED_STRINGS)
def test_every_seed_string_validates(text: str) -> None:
    assert from_string(text).layers


def test_lenet_string_kinds() -> None:
    assert kinds("Conv-Pool-Conv-Pool-Conv-FC-FC (SM)") == [
        "conv", "pool", "conv", "pool", "conv", "fc", "fc", "softmax"]


def test_alexnet_string_has_norm_as_lrn() -> None:
    text = "Conv-Pool-Norm-Conv-Pool-Norm-Conv-Conv-Conv-Pool-FC-FC-FC (SM)"
    assert kinds(text).count("lrn") == 2


def test_googlenet_aliases() -> None:
    net = from_string(SEED_STRINGS[7])
    names = [n.type_name for n in net.layers]
    assert names.count("Incept") == 9
    assert names[1] == "MPool" and names[-3] == "APool" and names[-1] == "SM"
    pools = [n for n in net.layers if n.kind == "pool"]
    assert [p.mode for p in pools] == ["max", "max", "max", "avg"]


def test_resnet152_groups_and_ellipsis() -> None:
    net = from_string(SEED_STRINGS[8])
    groups = [n for n in net.layers if n.kind == "sequence"]
    assert [g.repeat for g in groups] == [3, 8, 36, 3]
    # '[...]' repeats the previous group's layers
    assert all([c.kind for c in g.layers] == ["conv", "relu"] * 3 for g in groups)
    # 2 + (3 + 8 + 36 + 3) * 3 convs + FC = 152 weighted layers
    convs = sum(g.repeat * 3 for g in groups) + 1
    assert convs + 1 == 152


def test_labels() -> None:
    net = from_string(SEED_STRINGS[4])
    assert [n.label for n in net.layers][:3] == ["Conv:1", "Pool:1", "Conv:2"]


def test_densenet_paren_layers() -> None:
    net = from_string("BN-ReLU-(1x1 conv)-BN-ReLU-(3x3 conv)")
    convs = [n for n in net.layers if n.kind == "conv"]
    assert [c.kernel for c in convs] == [(1, 1), (3, 3)]


def test_at_notation_and_shapes() -> None:
    net = from_string("224 x 224 x 500 => (1 x 1 x 500) @ 120 => 224 x 224 x 120")
    assert net.input == (224, 224, 500)
    conv, expect = net.layers
    assert (conv.kernel, conv.in_channels, conv.filters) == ((1, 1), 500, 120)
    assert expect.shape == (224, 224, 120)


def test_cs231n_input_form() -> None:
    net = from_string("INPUT(32x32x3) -> CONV(3x3, 12, p=1) -> RELU -> POOL(2) -> FC(10)")
    assert net.input == (32, 32, 3)
    assert kinds("INPUT - CONV - RELU - POOL - FC") == ["conv", "relu", "pool", "fc"]


@pytest.mark.parametrize("text", ["[Conv]x3", "[Conv] x 3", "[Conv]*3", "[Conv] * 3", "[Conv]×3"])
def test_repeat_spellings(text: str) -> None:
    (group,) = from_string(text).layers
    assert group.repeat == 3


def test_nested_groups() -> None:
    (outer,) = from_string("[[Conv(3x3,8,p=1)-ReLU] x 2-Pool(2)] x 3").layers
    assert outer.repeat == 3
    assert outer.layers[0].repeat == 2


def test_inline_arguments() -> None:
    (conv,) = from_string("Conv(3x5, 8, s=2, p=1, d=2, g=2, bias=false)").layers
    assert conv.kernel == (3, 5)
    assert (conv.filters, conv.stride, conv.padding) == (8, (2, 2), (1, 1))
    assert (conv.dilation, conv.groups, conv.bias) == ((2, 2), 2, False)
    (same,) = from_string("Conv(3x3, 8, p=same)").layers
    assert same.padding == "same"
    text = "AvgPool(3, s=2)-Dense(10)-Dropout(0.25)-LRN(5, 2, 1e-4, 0.75)"
    pool, fc, drop, lrn = from_string(text).layers
    assert (pool.mode, pool.kernel, pool.stride) == ("avg", (3, 3), (2, 2))
    assert fc.units == 10 and drop.p == 0.25
    assert (lrn.size, lrn.k, lrn.alpha, lrn.beta) == (5, 2.0, 1e-4, 0.75)
    (stoch,) = from_string("StochPool(2)").layers
    assert stoch.mode == "stochastic"


def test_names_are_case_insensitive() -> None:
    assert kinds("conv-RELU-mpool-fc-softmax-linear-dense-bn") == [
        "conv", "relu", "pool", "fc", "softmax", "fc", "fc", "batchnorm"]


def test_separators() -> None:
    assert kinds("Conv -> ReLU => Pool FC") == ["conv", "relu", "pool", "fc"]


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("Conv-Mpool2-FC", "unknown layer 'Mpool2'; did you mean 'MPool'?", 6),
        ("Conv-[ReLU-Pool", "never closed", 6),
        ("Conv-ReLU]-Pool", "no matching '\\['", 10),
        ("[Conv] x0", "repeat count 0", 8),
        ("[Conv] x -1", "repeat count -1", 8),
        ("Conv(3x3, 0)", "filters must be greater than 0", 11),
        ("Conv(3x3, 4, s=-2)", "stride must be greater than 0", 17),
        ("Conv(3x3, 4, q=2)", "no argument 'q'", 14),
        ("Conv(3x3, 4, s=1, s=2)", "given twice", 19),
        ("Conv(3x3, 4", "never closed", 5),
        ("Conv-ReLU-%", "unexpected character", 11),
        ("[...] x 2", "previous group", 2),
        ("Dropout(1.5)", "p must be less than 1", 9),
    ],
)
def test_errors_name_the_column(text: str, message: str, column: int) -> None:
    with pytest.raises(SpecError, match=message) as info:
        from_string(text)
    assert info.value.loc is not None
    assert info.value.loc.column == column
    assert info.value.hint
    caret = info.value.render().splitlines()
    assert caret[1].strip() == text.strip()
    assert caret[2].index("^") - 2 == column - 1


def test_repeat_limit() -> None:
    with pytest.raises(SpecError, match="more than the limit of 100,000"):
        from_string("[[Conv(3x3,4,p=1)] x 1000] x 101")
    assert from_string("[[ReLU] x 1000] x 100")
