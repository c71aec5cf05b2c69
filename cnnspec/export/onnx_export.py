"""``cnnspec export --to onnx``: an ONNX graph built from the spec and its analysis.

Room: consumers (export). ``onnx`` and NumPy are imported inside functions
(the ``onnx`` optional extra).

The graph is the inference graph: dropout is an ONNX ``Dropout`` (a no-op at
inference) and auxiliary heads are left out. Initializers carry the cnnspec
parameter names (``Conv:1.weight``, see :mod:`cnnspec.export.naming`) in the
engine's layout, so FC layers are ``Gemm`` with ``B`` = weight (in, out) and
no transpose; LeNet subsampling is ``AveragePool`` x area x ``weight`` +
``bias`` with ``weight``/``bias`` stored as (C, 1, 1) to broadcast. Values
are named after the analysis rows, the input ``input`` (N, C, H, W) and the
output ``output``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cnnspec.analysis.records import LayerRecord, Report
from cnnspec.errors import ExportError
from cnnspec.export.activation_bridges import DOMAIN, onnx_activation, onnx_functions
from cnnspec.export.naming import param_key
from cnnspec.export.padding import conv_window, pool_window
from cnnspec.export.plan import (
    AuxStep,
    Chain,
    ConcatStep,
    DualPathStep,
    GateStep,
    Leaf,
    ResidualStep,
    Step,
    build_plan,
)
from cnnspec.export.torch_layers import pool_ceil
from cnnspec.spec.activation_table import BY_KIND as ACTIVATION_ENTRIES
from cnnspec.spec.tree import Network

OPSET = 17
INSTALL_HINT = "install the extra: pip install 'cnnspec[onnx]'"


def require_onnx() -> Any:
    """The ``onnx`` module, or an :class:`ExportError` naming the extra to install."""
    try:
        import onnx
    except ImportError:
        raise ExportError("exporting to or importing from ONNX needs the onnx package",
                          hint=INSTALL_HINT) from None
    return onnx


@dataclass
class _Graph:
    network: Network
    arrays: dict[str, Any]
    nodes: list[Any] = field(default_factory=list)
    initializers: list[Any] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)  # local functions called

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def call(self, function: str, inputs: list[str], output: str) -> str:
        """A call of one of cnnspec's local ONNX functions (``SiLU``, ``GELU`` ...)."""
        from onnx import helper

        self.functions.add(function)
        self.nodes.append(helper.make_node(function, inputs, [output], name=output,
                                           domain=DOMAIN))
        return output

    def constant(self, name: str, value: Any) -> str:
        """An initializer that is not a parameter (shapes, scales)."""
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def param(self, row: LayerRecord, name: str, shape: tuple[int, ...] | None = None) -> str:
        """The initializer for parameter ``name`` of ``row`` (reshaped to ``shape``)."""
        import numpy as np
        from onnx import numpy_helper

        key = param_key(row.name, name)
        if key not in self.arrays:
            raise ExportError(f"no weights for {key!r}",
                              hint="give a checkpoint of this spec, or none for random weights")
        value = np.asarray(self.arrays[key], dtype=np.float32)
        if shape is not None:
            value = value.reshape(shape)
        self.initializers.append(numpy_helper.from_array(value, key))
        self.used.add(key)
        return key

    # -- walking the plan ------------------------------------------------------------------
    def chain(self, chain: Chain, x: str) -> str:
        for step in chain.steps:
            x = self.step(step, x)
        return x

    def step(self, step: Step, x: str) -> str:
        if isinstance(step, Leaf):
            return self.leaf(step, x)
        if isinstance(step, Chain):
            return self.chain(step, x)
        if isinstance(step, ResidualStep):
            body = self.chain(step.body, x)
            skip = self.chain(step.shortcut, x)
            return self.node("Add", [body, skip], step.add_row.name)
        if isinstance(step, ConcatStep):
            outs = [self.chain(branch, x) for branch in step.branches]
            return self.node("Concat", outs, step.merge_row.name, axis=1)
        if isinstance(step, DualPathStep):
            return self.dual_path(step, x)
        if isinstance(step, GateStep):
            return self.node("Mul", [x, self.chain(step.body, x)], step.merge_row.name)
        if isinstance(step, AuxStep):
            return x  # auxiliary heads are training-only; the inference graph leaves them out
        raise ExportError(f"cannot export {type(step).__name__} to ONNX")  # pragma: no cover

    def leaf(self, leaf: Leaf, x: str) -> str:
        import numpy as np

        node, row = leaf.node, leaf.row
        kind, out = row.kind, row.name
        simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}
        if kind in simple:
            return self.node(simple[kind], [x], out)
        if kind == "softmax":
            return self.node("Softmax", [x], out, axis=1)
        if kind == "flatten":
            return self.node("Flatten", [x], out, axis=1)
        if kind == "dropout":
            ratio = self.constant(f"{out}/ratio", np.array(node.p, dtype=np.float32))
            return self.node("Dropout", [x, ratio], out)
        if kind in ACTIVATION_ENTRIES:
            return onnx_activation(self, node, row, x)
        if kind == "split":
            start, stop = node.channel_range(row.input[-1])
            bounds = [self.constant(f"{out}/{what}", np.array([v], np.int64))
                      for what, v in (("start", start), ("stop", stop), ("axis", 1))]
            return self.node("Slice", [x, *bounds], out)
        if kind == "shuffle":
            return self.shuffle(node.groups, row, x)
        if kind == "conv":
            return self.conv(node, row, x)
        if kind == "table_conv":
            return self.table_conv(node, row, x)
        if kind == "pool":
            return self.pool(node, row, x)
        if kind == "global_pool":
            return self.node("GlobalAveragePool" if node.mode == "avg" else "GlobalMaxPool",
                             [x], out)
        if kind == "adaptive_pool":
            return self.adaptive_pool(row, x)
        if kind == "fc":
            if len(row.input) == 3:
                x = self.node("Flatten", [x], f"{out}/flatten", axis=1)
            weight = self.param(row, "weight")
            if row.biases:
                return self.node("Gemm", [x, weight, self.param(row, "bias")], out)
            return self.node("MatMul", [x, weight], out)
        if kind == "lrn":
            m = 2 * (node.size // 2) + 1  # the lecture's window as ONNX's odd size
            return self.node("LRN", [x], out, size=m, alpha=node.alpha * m, beta=node.beta,
                             bias=node.k)
        if kind == "batchnorm":
            names = [self.param(row, p) for p in ("weight", "bias", "running_mean",
                                                    "running_var")]
            return self.node("BatchNormalization", [x, *names], out, epsilon=node.eps,
                             momentum=1.0 - node.momentum)
        if kind == "subsample":
            win = pool_window(node)
            c = row.output[-1]
            pooled = self.node("AveragePool", [x], f"{out}/mean", kernel_shape=list(win.kernel),
                               strides=list(win.stride))
            area = self.constant(f"{out}/area", np.array(math.prod(win.kernel), np.float32))
            summed = self.node("Mul", [pooled, area], f"{out}/sum")
            scaled = self.node("Mul", [summed, self.param(row, "weight", (c, 1, 1))],
                               f"{out}/scaled")
            return self.node("Add", [scaled, self.param(row, "bias", (c, 1, 1))], out)
        raise ExportError(f"{row.name}: cannot export {row.type} layers to ONNX yet")

    def conv(self, node: Any, row: LayerRecord, x: str) -> str:
        import numpy as np

        win = conv_window(node, row)
        top, bottom, left, right = win.pads
        pads = [top, left, bottom, right]
        if node.pad_value != 0 and any(pads):
            amounts = self.constant(f"{row.name}/pads",
                                    np.array([0, 0, top, left, 0, 0, bottom, right], np.int64))
            value = self.constant(f"{row.name}/pad_value",
                                  np.array(node.pad_value, dtype=np.float32))
            x = self.node("Pad", [x, amounts, value], f"{row.name}/pad", mode="constant")
            pads = [0, 0, 0, 0]
        inputs = [x, self.param(row, "weight")]
        if row.biases:
            inputs.append(self.param(row, "bias"))
        return self.node("Conv", inputs, row.name, kernel_shape=list(win.kernel),
                         strides=list(win.stride), dilations=list(win.dilation), pads=pads,
                         group=node.groups)

    def table_conv(self, node: Any, row: LayerRecord, x: str) -> str:
        """ScatterND puts one kernel per connection into a zero (K, C, FH, FW) kernel."""
        import numpy as np

        win = pool_window(node)
        k, c = row.output[-1], row.input[-1]
        index = np.array([[f, i] for f, channels in enumerate(node.connections)
                          for i in channels], dtype=np.int64)
        zeros = self.constant(f"{row.name}/zeros", np.zeros((k, c, *win.kernel), np.float32))
        kernel = self.node("ScatterND", [zeros, self.constant(f"{row.name}/index", index),
                                         self.param(row, "weight")], f"{row.name}/kernel")
        inputs = [x, kernel] + ([self.param(row, "bias")] if row.biases else [])
        top, bottom, left, right = win.pads
        return self.node("Conv", inputs, row.name, kernel_shape=list(win.kernel),
                         strides=list(win.stride), pads=[top, left, bottom, right])

    def dual_path(self, step: DualPathStep, x: str) -> str:
        """``[s_res + y_res | s_dense | y_dense]``: Slice, Add and Concat."""
        import numpy as np

        y = self.chain(step.body, x)
        s = self.chain(step.shortcut, x)
        name = step.merge_row.name
        cut = {"res": (0, step.out), "dense": (step.out, np.iinfo(np.int64).max)}
        parts = {}
        for what, (start, end) in cut.items():
            starts = self.constant(f"{name}/{what}_start", np.array([start], np.int64))
            ends = self.constant(f"{name}/{what}_end", np.array([end], np.int64))
            axes = self.constant(f"{name}/{what}_axes", np.array([1], np.int64))
            for source, tag in ((y, "y"), (s, "x")):
                parts[tag + what] = self.node("Slice", [source, starts, ends, axes],
                                              f"{name}/{tag}_{what}")
        added = self.node("Add", [parts["xres"], parts["yres"]], f"{name}/res")
        return self.node("Concat", [added, parts["xdense"], parts["ydense"]], name, axis=1)

    def shuffle(self, groups: int, row: LayerRecord, x: str) -> str:
        """Reshape to (N, g, C/g, H, W), swap the group axes, reshape back."""
        import numpy as np

        h, w, c = row.input
        grouped = self.constant(f"{row.name}/grouped",
                                np.array([0, groups, c // groups, h, w], np.int64))
        flat = self.constant(f"{row.name}/flat", np.array([0, c, h, w], np.int64))
        x = self.node("Reshape", [x, grouped], f"{row.name}/groups")
        x = self.node("Transpose", [x], f"{row.name}/swap", perm=[0, 2, 1, 3, 4])
        return self.node("Reshape", [x, flat], row.name)

    def pool(self, node: Any, row: LayerRecord, x: str) -> str:
        win = pool_window(node)
        top, bottom, left, right = win.pads
        attrs = {"kernel_shape": list(win.kernel), "strides": list(win.stride),
                 "pads": [top, left, bottom, right],
                 "ceil_mode": int(pool_ceil(node, self.network.conventions))}
        if node.mode == "max":
            return self.node("MaxPool", [x], row.name, **attrs)
        if node.mode == "avg":
            return self.node("AveragePool", [x], row.name, count_include_pad=1, **attrs)
        # stochastic pooling at inference: sum(a_i^2) / sum(a_i) per window (0 for zeros)
        import numpy as np

        squares = self.node("Mul", [x, x], f"{row.name}/squares")
        num = self.node("AveragePool", [squares], f"{row.name}/num", count_include_pad=1,
                        **attrs)
        den = self.node("AveragePool", [x], f"{row.name}/den", count_include_pad=1, **attrs)
        tiny = self.constant(f"{row.name}/tiny", np.array(np.finfo(np.float32).tiny, np.float32))
        safe = self.node("Max", [den, tiny], f"{row.name}/safe")
        return self.node("Div", [num, safe], row.name)

    def adaptive_pool(self, row: LayerRecord, x: str) -> str:
        import numpy as np

        (h, w, _), (oh, ow, _) = row.input, row.output
        if h % oh == 0 and w % ow == 0:
            k = [h // oh, w // ow]
            return self.node("AveragePool", [x], row.name, kernel_shape=k, strides=k)
        # uneven bins: out = A_h @ x @ A_w^T with PyTorch's bins
        a_h = self.constant(f"{row.name}/rows", _bins(h, oh))
        a_wt = self.constant(f"{row.name}/cols", np.ascontiguousarray(_bins(w, ow).T))
        x = self.node("MatMul", [x, a_wt], f"{row.name}/width")
        return self.node("MatMul", [a_h, x], row.name)


def _bins(n: int, out: int) -> Any:
    """Averaging matrix (out, n): bin i covers floor(i*n/out) .. ceil((i+1)*n/out) - 1."""
    import numpy as np

    matrix = np.zeros((out, n), dtype=np.float32)
    for i in range(out):
        lo, hi = (i * n) // out, -(-(i + 1) * n // out)
        matrix[i, lo:hi] = 1.0 / (hi - lo)
    return matrix


def build_onnx(network: Network, report: Report, arrays: dict[str, Any]) -> Any:
    """The ``onnx.ModelProto`` of ``network`` with weights ``arrays`` (engine layout)."""
    onnx = require_onnx()
    from onnx import TensorProto, helper

    if len(report.input) != 3:
        raise ExportError("ONNX export needs an H x W x C input",
                          hint="give the spec an image input, e.g. --input 28x28x1")
    graph = _Graph(network, dict(arrays))
    plan = build_plan(network, report)
    last = graph.chain(plan, "input")
    graph.node("Identity", [last], "output")
    h, w, c = report.input
    out_shape = report.leaves()[-1].output if report.leaves() else report.input
    out_dims: list[Any] = ["N", *(
        [out_shape[2], out_shape[0], out_shape[1]] if len(out_shape) == 3 else list(out_shape))]
    model = helper.make_model(
        helper.make_graph(
            graph.nodes, network.name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", c, h, w])],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_dims)],
            graph.initializers,
            doc_string=network.description or "",
        ),
        opset_imports=[helper.make_opsetid("", OPSET)] + (
            [helper.make_opsetid(DOMAIN, 1)] if graph.functions else []),
        functions=onnx_functions(graph.functions, OPSET),
        producer_name="cnnspec",
        doc_string=report.conventions_text,
    )
    model.ir_version = min(model.ir_version, 8)  # readable by onnxruntime releases of opset 17
    onnx.checker.check_model(model, full_check=True)
    return model
