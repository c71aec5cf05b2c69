"""Activations that exporters spell out in several ONNX operators are read back as one layer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnnspec.export.onnx_import import read_onnx

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _model(tmp_path, body: list, consts: dict[str, float], out: str = "y", opset: int = 17):
    """conv (3 -> 4 channels) -> ``body`` on value ``x`` -> 1x1 conv; saved, then read back."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w1"),
             numpy_helper.from_array(rng.standard_normal((2, 4, 1, 1)).astype(np.float32), "w2")]
    inits += [numpy_helper.from_array(np.array(v, np.float32), k) for k, v in consts.items()]
    nodes = [helper.make_node("Conv", ["input", "w1"], ["x"], pads=[1, 1, 1, 1])]
    nodes += [helper.make_node(op, ins, [o], **attrs) for op, ins, o, attrs in body]
    nodes.append(helper.make_node("Conv", [out, "w2"], ["output"]))
    graph = helper.make_graph(
        nodes, "m", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 2, 8, 8])], inits)
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return read_onnx(path).text


def _layers(text: str) -> list[str]:
    return [line[2:] for line in text.splitlines() if line.startswith("- ")]


SQRT2 = math.sqrt(2.0)
CASES = {
    "SiLU": ([("Sigmoid", ["x"], "s", {}), ("Mul", ["x", "s"], "y", {})], {}),
    "SiLU, operands swapped": ([("Sigmoid", ["x"], "s", {}), ("Mul", ["s", "x"], "y", {})], {}),
    "GELU as PyTorch writes it": ([
        ("Div", ["x", "r2"], "d", {}), ("Erf", ["d"], "e", {}), ("Add", ["e", "one"], "a", {}),
        ("Mul", ["x", "a"], "m", {}), ("Mul", ["m", "half"], "y", {})],
        {"r2": SQRT2, "one": 1.0, "half": 0.5}),
    "GELU, halved first": ([
        ("Mul", ["half", "x"], "h", {}), ("Mul", ["x", "inv"], "d", {}), ("Erf", ["d"], "e", {}),
        ("Add", ["one", "e"], "a", {}), ("Mul", ["h", "a"], "y", {})],
        {"inv": 1 / SQRT2, "one": 1.0, "half": 0.5}),
    "GELU(approximate=tanh)": ([
        ("Mul", ["x", "x"], "x2", {}), ("Mul", ["x", "x2"], "x3", {}),
        ("Mul", ["c", "x3"], "cx3", {}), ("Add", ["x", "cx3"], "i", {}),
        ("Mul", ["k", "i"], "u", {}), ("Tanh", ["u"], "t", {}), ("Add", ["one", "t"], "a", {}),
        ("Mul", ["x", "a"], "m", {}), ("Mul", ["half", "m"], "y", {})],
        {"c": 0.044715, "k": math.sqrt(2 / math.pi), "one": 1.0, "half": 0.5}),
    "Mish": ([("Softplus", ["x"], "sp", {}), ("Tanh", ["sp"], "t", {}),
              ("Mul", ["x", "t"], "y", {})], {}),
    "Hardswish": ([("HardSigmoid", ["x"], "h", {"alpha": 1 / 6, "beta": 0.5}),
                   ("Mul", ["x", "h"], "y", {})], {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_spelled_out_activation_is_one_layer(case: str, tmp_path) -> None:
    body, consts = CASES[case]
    expected = case.split(" as ")[0].split(",")[0]  # "GELU, halved first" -> "GELU"
    assert _layers(_model(tmp_path, body, consts)) == [
        "Conv(3x3, 4, p=1, bias=false)", expected, "Conv(1x1, 2, bias=false)"]


def test_gelu_operator_of_opset_20(tmp_path) -> None:
    text = _model(tmp_path, [("Gelu", ["x"], "y", {"approximate": "tanh"})], {}, opset=20)
    assert _layers(text)[1] == "GELU(approximate=tanh)"


def test_other_arithmetic_is_not_taken_for_an_activation(tmp_path) -> None:
    """x * sigmoid(2x) is no SiLU: the Mul by 2 then has no layer, and the error says so."""
    from cnnspec.errors import ExportError

    body = [("Mul", ["x", "two"], "x2", {}), ("Sigmoid", ["x2"], "s", {}),
            ("Mul", ["x", "s"], "y", {})]
    with pytest.raises(ExportError, match="no layer for ONNX Mul"):
        _model(tmp_path, body, {"two": 2.0})


def test_a_value_read_elsewhere_keeps_the_operators_apart() -> None:
    """sigmoid(x) also read by another operator: taking x * sigmoid(x) as SiLU would drop it."""
    from cnnspec.export.onnx_patterns import find_activation

    def search(extra: list) -> object:
        nodes = [helper.make_node("Sigmoid", ["x"], ["s"]),
                 helper.make_node("Mul", ["x", "s"], ["g"]), *extra]
        consumers: dict[str, list] = {}
        for node in nodes:
            for name in node.input:
                consumers.setdefault(name, []).append(node)
        order = {id(node): i for i, node in enumerate(nodes)}
        return find_activation("x", order, consumers, {}, lambda node: {}, {"g"})

    found = search([])
    assert found is not None and (found.kind, found.output, len(found.nodes)) == ("silu", "g", 2)
    assert search([helper.make_node("Relu", ["s"], ["r"])]) is None  # s is read outside


@pytest.mark.parametrize("opset", [13, 17, 20])
def test_pytorch_exports_read_back_with_their_activations(opset: int, tmp_path) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1), nn.GELU(), nn.Conv2d(8, 8, 3, padding=1),
                nn.SiLU(), nn.Conv2d(8, 8, 1), nn.Hardswish(), nn.Conv2d(8, 8, 1), nn.Mish(),
                nn.Conv2d(8, 8, 1), nn.GELU(approximate="tanh"), nn.Conv2d(8, 2, 1))

        def forward(self, x):
            return self.body(x)

    path = tmp_path / f"net{opset}.onnx"
    torch.onnx.export(Net().eval(), torch.randn(1, 3, 8, 8), str(path), opset_version=opset,
                      dynamo=False)
    layers = _layers(read_onnx(path).text)
    assert [layer for layer in layers if not layer.startswith("Conv")] == [
        "GELU", "SiLU", "Hardswish", "Mish", "GELU(approximate=tanh)"]
    assert len(layers) == 11


def test_a_value_read_once_is_not_searched() -> None:
    """Every candidate is x * g(x): a chain of single reads (ReLU after ReLU) is passed over."""
    from cnnspec.export.onnx_patterns import find_activation

    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Sigmoid", ["r"], ["s"])]
    consumers = {"x": [nodes[0]], "r": [nodes[1]]}
    order = {id(node): i for i, node in enumerate(nodes)}

    def no_attributes(node) -> dict:
        raise AssertionError("nothing should be evaluated")

    assert find_activation("x", order, consumers, {}, no_attributes, set()) is None
