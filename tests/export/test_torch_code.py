"""`export --to pytorch`: the generated module against cnnspec's analysis and engine."""

from __future__ import annotations

import ast

import numpy as np
import pytest

import cnnspec
from cnnspec.spec import zoo

from .helpers import FIXTURES, module_namespace, output_nchw, varied_arrays

torch = pytest.importorskip("torch")

REAL_FORWARD_MACS = 1.2e9  # larger specs run their forward pass on the meta device (shapes only)


@pytest.mark.parametrize("name", zoo.names() + FIXTURES)
def test_parameters_and_output_shape_match_the_analysis(name: str) -> None:
    spec = cnnspec.load(name)
    report = spec.report(include_aux=True)
    ns = module_namespace(spec, report)
    big = report.totals.macs > REAL_FORWARD_MACS
    with torch.device("meta" if big else "cpu"):
        model = ns.Model().eval()
        assert sum(p.numel() for p in model.parameters()) == report.totals.trainable_params
        with torch.no_grad():
            out = model(torch.zeros(1, *ns.INPUT_SHAPE))
    assert tuple(out.shape) == output_nchw(report)


def test_generated_code_reads_like_a_module() -> None:
    ns = module_namespace(cnnspec.load("resnet18"))
    tree = ast.parse(ns.code)
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert classes == ["Residual", "Resnet18"]
    assert "x = self.conv_1(x)  # (N, 64, 112, 112)" in ns.code
    assert "# Conv:1  112x112x64  9,408 params" in ns.code
    assert ns.CNNSPEC_NAMES["FC:1"] == "fc_1"
    assert "import numpy" not in ns.code


def test_aux_heads_run_in_training_only() -> None:
    spec = cnnspec.load(FIXTURES[0])
    ns = module_namespace(spec)
    model = ns.Model()
    x = torch.zeros(2, *ns.INPUT_SHAPE)
    out, aux = model.train()(x)
    assert out.shape == (2, 10) and [a.shape for a in aux] == [(2, 10)]
    assert model.eval()(x).shape == (2, 10)


@pytest.mark.parametrize("name", ["lenet5", "cifar10-vgg", "lenet5-1998", *FIXTURES])
def test_cnnspec_weights_give_the_engines_outputs(name: str) -> None:
    spec = cnnspec.load(name)
    ns = module_namespace(spec)
    engine = spec.build(seed=0)
    arrays = {k: v for k, v in varied_arrays(spec).items() if k in engine.state_dict()}
    engine.load_state_dict(arrays)
    model = ns.Model().eval()
    ns.load_cnnspec_state(model, arrays)
    x = np.random.default_rng(0).uniform(0, 1, (3, *ns.INPUT_SHAPE)).astype(np.float32)
    with torch.no_grad():
        ours = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, engine.forward(x), rtol=1e-5, atol=1e-6)


def test_loading_rejects_missing_and_unknown_arrays() -> None:
    spec = cnnspec.load("lenet5")
    ns = module_namespace(spec)
    arrays = varied_arrays(spec)
    with pytest.raises(KeyError, match="no layer 'Conv:9'"):
        ns.load_cnnspec_state(ns.Model(), {**arrays, "Conv:9.weight": arrays["Conv:1.weight"]})
    del arrays["FC:3.bias"]
    with pytest.raises(KeyError, match=r"fc_3\.bias"):
        ns.load_cnnspec_state(ns.Model(), arrays)


def test_state_dict_transposes_fc_weights() -> None:
    from cnnspec.export.torch_code import torch_state_dict

    spec = cnnspec.load("lenet5")
    arrays = varied_arrays(spec)
    state = torch_state_dict(spec.network, spec.report(), arrays)
    assert tuple(state["fc_1.weight"].shape) == (120, 400)
    model = module_namespace(spec).Model()
    model.load_state_dict(state)  # strict: every key matches
