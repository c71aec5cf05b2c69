"""The networks after 2016: exact torchvision counts, and each one runs in every room.

The reference parameter counts are torchvision's published figures (``num_params`` of each
weights entry). torchvision itself is not needed: the exported PyTorch module is
instantiated and its parameters counted, so the comparison is with what PyTorch builds from
the same spec, and with the published figure.
"""

from __future__ import annotations

import numpy as np
import pytest

import cnnspec
from cnnspec.export.weights import initial_arrays
from cnnspec.spec import zoo

from .conftest import zoo_network, zoo_report

TORCHVISION_PARAMS = {
    "mobilenet_v2": 3_504_872,
    "mobilenet_v3_large": 5_483_032,
    "efficientnet_b0": 5_288_548,
    "shufflenet_v2_x1_0": 2_278_604,
    "squeezenet1_0": 1_248_424,
    "inception_v3": 23_834_568,
    "mnasnet1_0": 4_383_312,
}
# weight MACs (conv and FC multiply-accumulates per image); torchvision publishes them
# rounded as GFLOPS: 0.30, 0.22, 0.39, 0.14, 0.82, 5.71, 0.31
WEIGHT_MACS = {
    "mobilenet_v2": 300_774_272,
    "mobilenet_v3_large": 216_589_760,
    "efficientnet_b0": 385_814_752,
    "shufflenet_v2_x1_0": 144_907_992,
    "squeezenet1_0": 818_924_576,
    "inception_v3": 5_713_216_096,
    "mnasnet1_0": 314_415_872,
}
PUBLISHED_GFLOPS = {"mobilenet_v2": 0.30, "mobilenet_v3_large": 0.22, "efficientnet_b0": 0.39,
                    "shufflenet_v2_x1_0": 0.14, "squeezenet1_0": 0.82, "inception_v3": 5.71,
                    "mnasnet1_0": 0.31}
NAMES = sorted(TORCHVISION_PARAMS)


def test_the_zoo_lists_them() -> None:
    assert set(zoo.names()) >= set(NAMES)
    assert zoo.find("mobilenet-v2") == zoo.find("mobilenet_v2") is not None


@pytest.mark.parametrize("name", NAMES)
def test_parameters_equal_torchvision(name: str) -> None:
    assert zoo_report(name).totals.trainable_params == TORCHVISION_PARAMS[name]


def test_inception_v3_with_its_auxiliary_head() -> None:
    assert zoo_report("inception_v3", include_aux=True).totals.trainable_params == 27_161_264


@pytest.mark.parametrize("name", NAMES)
def test_weight_macs(name: str) -> None:
    macs = zoo_report(name).totals.macs
    assert macs == WEIGHT_MACS[name]
    assert round(macs / 1e9, 2) == PUBLISHED_GFLOPS[name]


@pytest.mark.parametrize("name", NAMES)
def test_the_exported_pytorch_module_counts_the_same(name: str) -> None:
    pytest.importorskip("torch")
    from tests.export.helpers import module_namespace

    spec = cnnspec.Spec(zoo_network(name))
    net = module_namespace(spec, zoo_report(name, include_aux=True)).Model()
    counted = sum(p.numel() for p in net.parameters())
    expected = 27_161_264 if name == "inception_v3" else TORCHVISION_PARAMS[name]
    assert counted == expected


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_engine_pytorch_and_onnx_agree(name: str) -> None:
    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    from cnnspec.export.onnx_export import build_onnx
    from tests.export.helpers import module_namespace, varied_arrays

    spec = cnnspec.Spec(zoo_network(name))
    report = zoo_report(name)
    engine = spec.build(seed=0)
    arrays = {k: v for k, v in varied_arrays(spec).items() if k in engine.state_dict()}
    engine.load_state_dict(arrays)
    c, h, w = engine.input_shape
    x = np.random.default_rng(0).uniform(0, 1, (1, c, h, w)).astype(np.float32)
    ours = engine.forward(x)
    net = module_namespace(spec, report).Model().eval()
    module_namespace(spec, report).load_cnnspec_state(net, arrays)
    with torch.no_grad():
        theirs = net(torch.from_numpy(x)).numpy()
    scale = np.abs(theirs).max()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5 * scale)
    model = build_onnx(spec.network, report, arrays)
    onnx_out = ort.InferenceSession(model.SerializeToString()).run(None, {"input": x})[0]
    np.testing.assert_allclose(onnx_out, theirs, rtol=1e-5, atol=1e-5 * scale)
    # a training step: forward and backward through every layer (and the auxiliary head,
    # whose batch norm after a 1x1 map needs more than one image)
    x2 = np.concatenate([x, x[:, :, ::-1]])
    loss, grads = engine.loss_and_grads(x2, np.array([3, 5]))
    assert np.isfinite(loss)
    assert set(grads) == set(engine.params)
    assert all(np.isfinite(g).all() for g in grads.values())


def test_initial_arrays_cover_every_parameter() -> None:
    report = zoo_report("mobilenet_v3_large")
    arrays = initial_arrays(zoo_network("mobilenet_v3_large"), report)
    assert sum(v.size for k, v in arrays.items() if "running" not in k) == 5_483_032


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "shufflenet_v2_x1_0", "efficientnet_b0"])
def test_onnx_round_trip_reads_gates_activations_split_and_shuffle(name: str, tmp_path) -> None:
    onnx = pytest.importorskip("onnx")
    from cnnspec.export.onnx_export import build_onnx
    from cnnspec.export.onnx_import import read_onnx

    report = zoo_report(name)
    network = zoo_network(name)
    onnx.save(build_onnx(network, report, initial_arrays(network, report)),
              str(tmp_path / "m.onnx"))
    back = read_onnx(tmp_path / "m.onnx").report
    assert back.totals.trainable_params == TORCHVISION_PARAMS[name]
    assert back.totals.macs == WEIGHT_MACS[name]
    kinds = {r.kind for r in back.layers}
    assert kinds >= ({"gate", "hardswish", "hardsigmoid"} if name == "mobilenet_v3_large" else
                     {"split", "shuffle"} if name == "shufflenet_v2_x1_0" else {"gate", "silu"})


@pytest.mark.parametrize("name", ["shufflenet_v2_x1_0", "mobilenet-digits"])
def test_pytorch_import_reads_the_exported_module_back(name: str, tmp_path) -> None:
    pytest.importorskip("torch")
    from cnnspec.export.torch_code import generate_torch
    from cnnspec.export.torch_import import read_torch

    network = zoo_network(name)
    report = zoo_report(name)
    path = tmp_path / "net.py"
    path.write_text(generate_torch(network, report))
    back = read_torch(f"{path}:Model", report.input).report
    assert back.totals.trainable_params == report.totals.trainable_params
    assert back.totals.macs == report.totals.macs
    assert [r.output for r in back.leaves()] == [r.output for r in report.leaves()]
