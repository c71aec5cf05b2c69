"""The parameter contract: names, shapes and counts agree with the analysis."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cnnspec
from cnnspec.export.naming import attribute_name, class_name, split_key
from cnnspec.export.plan import build_plan, leaves
from cnnspec.export.weights import param_specs
from cnnspec.spec import zoo

from .helpers import FIXTURES


@pytest.mark.parametrize("name", zoo.names() + FIXTURES)
def test_parameter_arrays_add_up_to_the_analysis(name: str) -> None:
    spec = cnnspec.load(name)
    report = spec.report(include_aux=True)
    specs = param_specs(spec.network, report)
    assert len({s.key for s in specs}) == len(specs)
    assert sum(s.size for s in specs if s.trainable) == report.totals.trainable_params
    assert sum(s.size for s in specs if not s.trainable) == report.totals.non_trainable_params


def test_plan_pairs_every_leaf_row_once() -> None:
    spec = cnnspec.load("googlenet")
    report = spec.report()
    paired = [leaf.row.name for leaf in leaves(build_plan(spec.network, report))]
    expected = [r.name for r in report.layers
                if not r.is_block and r.kind not in ("add", "concat_merge")]
    assert paired == expected


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "cifar10-vgg", "lenet5-1998", "dpn68",
                                  "densenet121"])
def test_the_numpy_engine_follows_the_contract(name: str) -> None:
    spec = cnnspec.load(name)
    model = spec.build(seed=0)
    wanted = {s.key: s.shape for s in param_specs(spec.network, spec.report(), aux=False)}
    assert {k: v.shape for k, v in model.state_dict().items()} == wanted


def test_fc_weights_are_stored_in_out() -> None:
    spec = cnnspec.load("alexnet")
    shapes = {s.key: s.shape for s in param_specs(spec.network, spec.report())}
    assert shapes["FC:6.weight"] == (6 * 6 * 256, 4096)
    assert shapes["Conv:1.weight"] == (96, 3, 11, 11)
    assert "FC:6.bias" not in shapes  # the lecture table counts no FC bias


def test_table_conv_stores_one_kernel_per_connection() -> None:
    spec = cnnspec.load("lenet5-1998")
    shapes = {s.key: s.shape for s in param_specs(spec.network, spec.report())}
    assert shapes["C3.weight"] == (60, 5, 5)  # 6*3 + 9*4 + 6 connections
    assert shapes["S2.weight"] == (6,)
    assert math.prod(shapes["C3.weight"]) + 16 == 1516


@pytest.mark.parametrize(("row", "expected"), [
    ("Conv:1", "conv_1"), ("bottleneck(64)#2", "bottleneck_64_2"),
    ("inception_module:3a", "inception_module_3a"), ("3x3", "layer_3x3"), ("lambda", "lambda_"),
])
def test_attribute_names_are_identifiers(row: str, expected: str) -> None:
    assert attribute_name(row, set()) == expected


def test_attribute_names_stay_unique() -> None:
    taken: set[str] = set()
    names = [attribute_name(n, taken) for n in ("Conv:1", "conv-1", "CONV 1")]
    assert names == ["conv_1", "conv_1_2", "conv_1_3"]


def test_class_and_key_helpers() -> None:
    assert class_name("resnext50-32x4d") == "Resnext5032x4d"
    assert class_name("2012 net") == "Net2012Net"
    assert split_key("Residual:1.add.weight") == ("Residual:1.add", "weight")


def test_initial_arrays_are_seeded() -> None:
    from cnnspec.export.weights import initial_arrays

    spec = cnnspec.load("lenet5")
    a = initial_arrays(spec.network, spec.report(), 3)
    b = initial_arrays(spec.network, spec.report(), 3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    std = float(a["Conv:1.weight"].std())
    assert std == pytest.approx(math.sqrt(2 / 25), rel=0.2)  # He: sqrt(2 / fan_in)
