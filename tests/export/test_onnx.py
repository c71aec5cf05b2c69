"""`export --to onnx` and `import model.onnx`: checker, onnxruntime parity, round trips."""

from __future__ import annotations

import numpy as np
import pytest

import cnnspec
from cnnspec.errors import ExportError
from cnnspec.export.onnx_export import build_onnx
from cnnspec.export.onnx_import import read_onnx
from cnnspec.export.weights import initial_arrays, param_specs

from .helpers import FIXTURES, module_namespace, varied_arrays

onnx = pytest.importorskip("onnx")


def save(spec: cnnspec.Spec, path, arrays=None) -> None:
    report = spec.report()
    onnx.save(build_onnx(spec.network, report, arrays if arrays is not None else
                         initial_arrays(spec.network, report)), str(path))


@pytest.mark.parametrize("name", ["lenet5", "lenet5-1998", "googlenet", "dpn68", *FIXTURES])
def test_the_graph_passes_the_checker(name: str) -> None:
    spec = cnnspec.load(name)
    report = spec.report()
    model = build_onnx(spec.network, report, initial_arrays(spec.network, report))
    onnx.checker.check_model(model, full_check=True)
    params = {i.name for i in model.graph.initializer if "/" not in i.name}
    # the inference graph: every parameter but those of auxiliary heads, named as cnnspec does
    assert params == {s.key for s in param_specs(spec.network, report, aux=False)}


@pytest.mark.parametrize("name", ["lenet5", "resnet18", *FIXTURES])
def test_onnxruntime_equals_the_engine_and_torch(name: str) -> None:
    ort = pytest.importorskip("onnxruntime")
    spec = cnnspec.load(name)
    report = spec.report()
    engine = spec.build(seed=0)
    arrays = {k: v for k, v in varied_arrays(spec).items() if k in engine.state_dict()}
    engine.load_state_dict(arrays)
    model = build_onnx(spec.network, report, arrays)
    c, h, w = engine.input_shape
    x = np.random.default_rng(0).uniform(0, 1, (2, c, h, w)).astype(np.float32)
    ours = ort.InferenceSession(model.SerializeToString()).run(None, {"input": x})[0]
    np.testing.assert_allclose(ours, engine.forward(x), rtol=1e-5, atol=1e-6)
    torch = pytest.importorskip("torch")
    ns = module_namespace(spec, report)
    net = ns.Model().eval()
    ns.load_cnnspec_state(net, arrays)
    with torch.no_grad():
        np.testing.assert_allclose(ours, net(torch.from_numpy(x)).numpy(), rtol=1e-5,
                                   atol=1e-6)


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "resnet18", "lenet5-1998", "googlenet",
                                  "densenet121", *FIXTURES])
def test_round_trip_keeps_parameters_and_shapes(name: str, tmp_path) -> None:
    spec = cnnspec.load(name)
    report = spec.report()
    arrays = initial_arrays(spec.network, report) if name != "alexnet" else {
        s: np.zeros(v.shape, np.float32) for s, v in initial_arrays(spec.network, report).items()}
    save(spec, tmp_path / "m.onnx", arrays)
    imported = read_onnx(tmp_path / "m.onnx")
    back = imported.report
    assert back.totals.trainable_params == report.totals.trainable_params
    assert back.totals.non_trainable_params == report.totals.non_trainable_params
    assert back.leaves()[-1].output == report.leaves()[-1].output
    volumes = [r.output for r in report.leaves() if r.kind in ("conv", "pool", "fc")]
    assert [r.output for r in back.leaves() if r.kind in ("conv", "pool", "fc")] == volumes
    assert cnnspec.load(str(_write(tmp_path, imported.text))).report().totals.params == \
        back.totals.params


def _write(tmp_path, text: str):
    path = tmp_path / "back.yaml"
    path.write_text(text)
    return path


def test_imported_spec_reads_like_the_zoo(tmp_path) -> None:
    save(cnnspec.load("resnet18"), tmp_path / "r18.onnx")
    text = read_onnx(tmp_path / "r18.onnx").text
    assert text.startswith("# Imported by `cnnspec import` from r18.onnx")
    assert "- Conv(7x7, 64, s=2, p=3, bias=false)" in text
    assert "body: Conv(3x3, 64, p=1, bias=false)-BN-ReLU-Conv(3x3, 64, p=1, bias=false)-BN" in text
    assert "shortcut: Conv(1x1, 128, s=2, bias=false)-BN" in text
    assert "conventions: pytorch" in text


def test_unknown_operations_are_named(tmp_path) -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Selu", ["input"], ["y"])], "selu",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 8, 8])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              str(tmp_path / "selu.onnx"))
    with pytest.raises(ExportError, match="no layer for ONNX Selu") as info:
        read_onnx(tmp_path / "selu.onnx")
    assert info.value.loc is not None and str(info.value.loc).endswith("selu.onnx")
    assert "cnnspec reads Conv" in (info.value.hint or "")


def test_unreadable_files_are_reported(tmp_path) -> None:
    with pytest.raises(ExportError, match="no such file"):
        read_onnx(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ExportError, match="not a readable ONNX model"):
        read_onnx(tmp_path / "junk.onnx")


def test_missing_weights_are_an_error() -> None:
    spec = cnnspec.load("lenet5")
    with pytest.raises(ExportError, match=r"no weights for 'Conv:1\.weight'"):
        build_onnx(spec.network, spec.report(), {})
