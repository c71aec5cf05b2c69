"""The table's activations in PyTorch and ONNX, both ways.

Room: consumers (export). Produces text and ONNX nodes; ``onnx`` and NumPy are
imported inside functions, torch never.

PyTorch has a module for each (``nn.ReLU6``, ``nn.LeakyReLU(slope)``,
``nn.PReLU(num_parameters, init)``, ``nn.GELU(approximate=...)`` ...). ONNX
opset 17 has operators for ReLU6 (``Clip`` to [0, 6]), LeakyReLU, PReLU, ELU,
Hardswish and Hardsigmoid (``alpha = 1/6, beta = 1/2``). SiLU, GELU, Mish and
Softplus with its ``beta``/``threshold`` are written as model-local ONNX
functions of the domain :data:`DOMAIN` (``SiLU(x) = Mul(x, Sigmoid(x))`` ...):
onnxruntime inlines them, and the importer reads the function's name back as
the layer, with its settings from the call's constant inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from cnnspec.spec.activation_table import BY_KIND, knob_values

DOMAIN = "cnnspec.activations"


def _num(value: float) -> str:
    return f"{value:g}"


TORCH_MODULES: dict[str, Callable[[dict[str, Any]], str]] = {
    "relu6": lambda s: "nn.ReLU6()",
    "leaky_relu": lambda s: f"nn.LeakyReLU({_num(s['slope'])})",
    "prelu": lambda s: f"nn.PReLU({s['num_parameters']}, init={_num(s['init'])})",
    "elu": lambda s: f"nn.ELU(alpha={_num(s['alpha'])})",
    "silu": lambda s: "nn.SiLU()",
    "gelu": lambda s: f"nn.GELU(approximate={s['approximate']!r})",
    "hardswish": lambda s: "nn.Hardswish()",
    "hardsigmoid": lambda s: "nn.Hardsigmoid()",
    "mish": lambda s: "nn.Mish()",
    "softplus": lambda s: f"nn.Softplus(beta={_num(s['beta'])}, "
                          f"threshold={_num(s['threshold'])})",
}
"""kind -> the ``nn`` constructor for the node's settings."""

TORCH_CLASSES: dict[str, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    "ReLU6": ("relu6", lambda m: {}),
    "LeakyReLU": ("leaky_relu", lambda m: {"slope": m.negative_slope}),
    "PReLU": ("prelu", lambda m: {"num_parameters": m.num_parameters,
                                  "init": float(m.init) if hasattr(m, "init") else 0.25}),
    "ELU": ("elu", lambda m: {"alpha": m.alpha}),
    "SiLU": ("silu", lambda m: {}),
    "GELU": ("gelu", lambda m: {"approximate": m.approximate}),
    "Hardswish": ("hardswish", lambda m: {}),
    "Hardsigmoid": ("hardsigmoid", lambda m: {}),
    "Mish": ("mish", lambda m: {}),
    "Softplus": ("softplus", lambda m: {"beta": float(m.beta), "threshold": float(m.threshold)}),
}
"""``nn`` class name -> (kind, settings read from the module)."""


def torch_module(node: Any) -> str:
    """``nn.LeakyReLU(0.1)`` for a LeakyReLU node."""
    return TORCH_MODULES[node.kind](knob_values(node))


def activation_text(kind: str, settings: dict[str, Any]) -> str:
    """The notation for an activation: ``LeakyReLU(slope=0.1)``; defaults are left out,
    except PReLU's slope count, which decides its parameters."""
    entry = BY_KIND[kind]
    args = []
    for knob in entry.knobs:
        value = settings.get(knob.name, knob.default)
        if value == knob.default and not (entry.learned and knob.name == "num_parameters"):
            continue
        args.append(f"{knob.name}={value if knob.choices else _num(value)}")
    return entry.display + (f"({', '.join(args)})" if args else "")


def torch_text(m: Any) -> tuple[str, int] | None:
    """(notation, learned values) for an ``nn`` activation module, or ``None``."""
    found = TORCH_CLASSES.get(type(m).__name__)
    if found is None:
        return None
    kind, read = found
    settings = read(m)
    if kind == "prelu":
        settings["init"] = float(m.weight.detach().flatten()[0])
    return activation_text(kind, settings), sum(p.numel() for p in m.parameters())


# -- ONNX -----------------------------------------------------------------------------------
def _functions() -> dict[str, tuple[list[str], list[tuple[str, list[str], str, dict]]]]:
    """name -> (inputs, nodes as (op, inputs, output, attributes)); output is ``y``."""
    half, root_half = 0.5, 1.0 / math.sqrt(2.0)
    return {
        "SiLU": (["x"], [("Sigmoid", ["x"], "s", {}), ("Mul", ["x", "s"], "y", {})]),
        "GELU": (["x"], [
            ("Constant", [], "c", {"value_float": root_half}),
            ("Constant", [], "one", {"value_float": 1.0}),
            ("Constant", [], "half", {"value_float": half}),
            ("Mul", ["x", "c"], "u", {}), ("Erf", ["u"], "e", {}),
            ("Add", ["e", "one"], "a", {}), ("Mul", ["x", "half"], "m", {}),
            ("Mul", ["m", "a"], "y", {})]),
        "GELUTanh": (["x"], [
            ("Constant", [], "k", {"value_float": math.sqrt(2.0 / math.pi)}),
            ("Constant", [], "cubic", {"value_float": 0.044715}),
            ("Constant", [], "one", {"value_float": 1.0}),
            ("Constant", [], "half", {"value_float": half}),
            ("Mul", ["x", "x"], "x2", {}), ("Mul", ["x2", "x"], "x3", {}),
            ("Mul", ["x3", "cubic"], "cx3", {}), ("Add", ["x", "cx3"], "inner", {}),
            ("Mul", ["inner", "k"], "u", {}), ("Tanh", ["u"], "t", {}),
            ("Add", ["t", "one"], "a", {}), ("Mul", ["x", "half"], "m", {}),
            ("Mul", ["m", "a"], "y", {})]),
        "Mish": (["x"], [("Softplus", ["x"], "sp", {}), ("Tanh", ["sp"], "t", {}),
                         ("Mul", ["x", "t"], "y", {})]),
        "SoftplusBeta": (["x", "beta", "threshold"], [
            ("Mul", ["x", "beta"], "bx", {}), ("Softplus", ["bx"], "sp", {}),
            ("Div", ["sp", "beta"], "soft", {}), ("Greater", ["bx", "threshold"], "linear", {}),
            ("Where", ["linear", "x", "soft"], "y", {})]),
    }


FUNCTION_KINDS = {"SiLU": "silu", "GELU": "gelu", "GELUTanh": "gelu", "Mish": "mish",
                  "SoftplusBeta": "softplus"}
"""Local function name -> kind (GELUTanh is GELU's tanh form)."""


def onnx_functions(used: set[str], opset: int) -> list[Any]:
    """The ``FunctionProto`` of each local function in ``used``."""
    from onnx import helper

    out = []
    for name, (inputs, body) in _functions().items():
        if name not in used:
            continue
        nodes = [helper.make_node(op, ins, [o], **attrs) for op, ins, o, attrs in body]
        out.append(helper.make_function(DOMAIN, name, inputs, ["y"], nodes,
                                        [helper.make_opsetid("", opset)]))
    return out


def onnx_activation(graph: Any, node: Any, row: Any, x: str) -> str:
    """Add the ONNX nodes of one activation to ``graph`` (the exporter's ``_Graph``)."""
    import numpy as np

    out, s = row.name, knob_values(node)
    kind = node.kind
    if kind == "relu6":
        lo = graph.constant(f"{out}/min", np.array(0.0, np.float32))
        hi = graph.constant(f"{out}/max", np.array(6.0, np.float32))
        return graph.node("Clip", [x, lo, hi], out)
    if kind == "leaky_relu":
        return graph.node("LeakyRelu", [x], out, alpha=float(s["slope"]))
    if kind == "elu":
        return graph.node("Elu", [x], out, alpha=float(s["alpha"]))
    if kind == "hardswish":
        return graph.node("HardSwish", [x], out)
    if kind == "hardsigmoid":
        return graph.node("HardSigmoid", [x], out, alpha=1.0 / 6.0, beta=0.5)
    if kind == "prelu":
        shape = (s["num_parameters"], 1, 1) if len(row.input) == 3 else (s["num_parameters"],)
        return graph.node("PRelu", [x, graph.param(row, "weight", shape)], out)
    if kind == "softplus":
        if s["beta"] == 1.0 and s["threshold"] == 20.0:
            return graph.node("Softplus", [x], out)  # exact to float32 below the threshold
        beta = graph.constant(f"{out}/beta", np.array(s["beta"], np.float32))
        threshold = graph.constant(f"{out}/threshold", np.array(s["threshold"], np.float32))
        return graph.call("SoftplusBeta", [x, beta, threshold], out)
    if kind == "gelu":
        return graph.call("GELUTanh" if s["approximate"] == "tanh" else "GELU", [x], out)
    return graph.call({"silu": "SiLU", "mish": "Mish"}[kind], [x], out)


def onnx_text(op: str, attrs: dict[str, Any], consts: list[Any]) -> tuple[str, int] | None:
    """(notation, learned values) for an ONNX activation node, or ``None`` if it is not one.

    ``consts`` are the node's constant inputs after ``x`` (``None`` where not constant).
    """
    if op == "Clip" and len(consts) == 2 and consts[0] is not None and consts[1] is not None \
            and float(consts[0]) == 0.0 and float(consts[1]) == 6.0:
        return activation_text("relu6", {}), 0
    if op == "LeakyRelu":
        return activation_text("leaky_relu", {"slope": float(attrs.get("alpha", 0.01))}), 0
    if op == "Elu":
        return activation_text("elu", {"alpha": float(attrs.get("alpha", 1.0))}), 0
    if op == "HardSwish":
        return activation_text("hardswish", {}), 0
    if op == "HardSigmoid" and math.isclose(float(attrs.get("alpha", 0.2)), 1 / 6, rel_tol=1e-6) \
            and float(attrs.get("beta", 0.5)) == 0.5:
        return activation_text("hardsigmoid", {}), 0
    if op == "Softplus":
        return activation_text("softplus", {}), 0
    if op == "Gelu":  # an ONNX operator from opset 20
        form = attrs.get("approximate", "none")
        form = form.decode() if isinstance(form, bytes) else str(form)
        return activation_text("gelu", {"approximate": form}), 0
    if op == "PRelu" and consts and consts[0] is not None:
        slopes = consts[0]
        return activation_text("prelu", {"num_parameters": int(slopes.size),
                                         "init": float(slopes.flatten()[0])}), int(slopes.size)
    if op == "SoftplusBeta" and len(consts) == 2 and None not in consts:
        return activation_text("softplus", {"beta": float(consts[0]),
                                            "threshold": float(consts[1])}), 0
    if op == "GELUTanh":
        return activation_text("gelu", {"approximate": "tanh"}), 0
    if op in FUNCTION_KINDS:
        return activation_text(FUNCTION_KINDS[op], {}), 0
    return None
