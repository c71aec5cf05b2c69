"""``cnnspec import model.onnx``: an ONNX model read back into a cnnspec spec.

Room: consumers (export). ``onnx`` and NumPy are imported inside functions.

Each ONNX operation becomes the cnnspec layer it computes (``Conv``,
``MaxPool``, ``Gemm`` ...); a ``MatMul`` followed by the ``Add`` of a vector
is one FC layer, a ``Pad`` before a ``Conv`` is that conv's padding, and
``AveragePool`` x area x per-channel weight + bias is LeNet's subsampling
(the pattern :mod:`cnnspec.export.onnx_export` writes). Shape arithmetic
(``Shape``, ``Gather``, ``Concat`` of sizes ...) that feeds a ``Reshape`` is
skipped: a ``Reshape`` of a volume is read as a ``Flatten``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cnnspec.errors import ExportError, Location
from cnnspec.export.activation_bridges import activation_text, onnx_text
from cnnspec.export.graph_ir import INPUT, OpGraph, OpNode
from cnnspec.export.notation_text import (
    adaptive_text,
    batchnorm_text,
    conv_text,
    dropout_text,
    fc_text,
    lrn_text,
    pool_text,
    size_text,
    subsample_text,
)
from cnnspec.export.onnx_export import require_onnx
from cnnspec.export.onnx_patterns import OPS as ELEMENTWISE_OPS
from cnnspec.export.onnx_patterns import Match, find_activation
from cnnspec.export.onnx_shapes import value_shapes
from cnnspec.export.spec_yaml import Imported, write_spec

SIMPLE = {"Relu": "ReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Softmax": "SM",
          "Flatten": "Flatten", "Reshape": "Flatten", "GlobalAveragePool": "GAP",
          "GlobalMaxPool": "GMP"}


class _Reader:
    def __init__(self, model: Any, where: Location):
        from onnx import numpy_helper

        self.where = where
        graph = model.graph
        self.shapes = value_shapes(model)
        self.consts: dict[str, Any] = {t.name: numpy_helper.to_array(t)
                                       for t in graph.initializer}
        for node in graph.node:
            if node.op_type == "Constant":
                self.consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        inputs = [i for i in graph.input if i.name not in self.consts]
        if len(inputs) != 1:
            raise ExportError(f"the model has {len(inputs)} inputs; cnnspec reads one image input",
                              where, "export the model with a single (N, C, H, W) input")
        dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
        if len(dims) != 4 or not all(dims[1:]):
            raise ExportError(f"the model's input has shape {dims}, not (N, C, H, W)", where,
                              "export the model with a fixed C, H and W")
        self.nodes = list(graph.node)
        self.data = {inputs[0].name}
        self.alias = {inputs[0].name: INPUT}  # ONNX value -> the IR node that produces it
        self.consumers: dict[str, list[Any]] = {}
        self.producer = {out: node for node in self.nodes for out in node.output}
        for node in self.nodes:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.fused: set[int] = set()
        self.index_of = {id(node): i for i, node in enumerate(self.nodes)}
        self.activations: dict[str, Match | None] = {}  # x -> the activation spelled out on x
        self.ir = OpGraph((dims[2], dims[3], dims[1]))
        self.outputs = [o.name for o in graph.output]
        self.output_set = set(self.outputs)

    # -- helpers --------------------------------------------------------------------------
    def attrs(self, node: Any) -> dict[str, Any]:
        from onnx import helper

        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def const(self, name: str) -> Any:
        return self.consts.get(name)

    def only_user(self, value: str, op: str) -> Any | None:
        users = self.consumers.get(value, [])
        if len(users) == 1 and users[0].op_type == op and value not in self.outputs:
            return users[0]
        return None

    def fail(self, node: Any, message: str, hint: str) -> ExportError:
        return ExportError(f"{node.op_type} {node.name or node.output[0]!r}: {message}",
                           self.where, hint)

    # -- reading --------------------------------------------------------------------------
    def run(self) -> OpGraph:
        for index, node in enumerate(self.nodes):
            if index in self.fused or node.op_type == "Constant":
                continue
            sources = [n for n in node.input if n in self.data]
            if not sources:
                continue  # shape arithmetic on constants
            if node.op_type == "Shape":
                continue
            self.read(index, node, sources)
        main, *aux = self.outputs
        self.ir.output = self.alias.get(main, main)
        self.ir.aux_outputs = [self.alias.get(a, a) for a in aux]
        return self.ir

    def emit(self, node: Any, output: str, sources: list[str], layer: Any = None,
             merge: str | None = None, params: int = 0, buffers: int = 0) -> None:
        name = output
        self.ir.add(OpNode(name, [self.alias[s] for s in sources], layer, merge, params,
                           buffers))
        self.alias[output] = name
        self.data.add(output)

    def read(self, index: int, node: Any, sources: list[str]) -> None:
        op, out = node.op_type, node.output[0]
        a = self.attrs(node)
        if op == "Reshape" and self.shuffle(node, sources):
            return None
        if self.spelled_out_activation(node, sources):
            return None
        if op in SIMPLE:
            return self.emit(node, out, sources[:1], SIMPLE[op])
        if op == "Identity":
            return self.emit(node, out, sources[:1])
        activation = onnx_text(op, a, [self.const(n) if n else None for n in node.input[1:]])
        if activation is not None and node.input[0] in self.data:
            text, learned = activation
            return self.emit(node, out, [node.input[0]], text, params=learned)
        if op == "Dropout":
            ratio = self.const(node.input[1]) if len(node.input) > 1 and node.input[1] else None
            p = float(ratio) if ratio is not None else float(a.get("ratio", 0.5))
            return self.emit(node, out, sources[:1], dropout_text(p))
        if op == "Conv":
            return self.conv(node, a, sources)
        if op == "Pad":
            return self.pad(index, node, a, sources)
        if op in ("MaxPool", "AveragePool"):
            return self.pool(index, node, a, sources)
        if op == "Gemm":
            return self.gemm(node, a, sources)
        if op == "MatMul":
            return self.matmul(node, sources)
        if op == "BatchNormalization":
            return self.batchnorm(node, a, sources)
        if op == "LRN":
            m = int(a["size"])  # odd sizes match the lecture formula with alpha / m
            text = lrn_text(m, float(a.get("alpha", 1e-4)) / m, float(a.get("beta", 0.75)),
                            float(a.get("bias", 1.0)))
            return self.emit(node, out, sources, text)
        if op == "Mul" and self.stochastic_pool(node, sources):
            return None
        if op == "Add" and len(sources) == 2:
            return self.emit(node, out, sources, merge="add")
        if op == "Mul" and len(sources) == 2:
            return self.emit(node, out, sources, merge="mul")
        if op == "Slice":
            return self.channel_slice(node, sources)
        if op == "Concat":
            if int(a.get("axis", 1)) != 1:
                raise self.fail(node, "concatenates on an axis other than channels",
                                "cnnspec concatenates on channels (axis 1)")
            return self.emit(node, out, [n for n in node.input if n in self.data],
                             merge="concat")
        raise self.fail(node, f"cnnspec has no layer for ONNX {op} (on this data)",
                        "cnnspec reads Conv, pooling, Gemm/MatMul, BatchNormalization, LRN, "
                        "activations, Flatten, Dropout, Add (residual), Concat, Mul (gate), "
                        "channel Slice and shuffle")

    def spelled_out_activation(self, node: Any, sources: list[str]) -> bool:
        """Read an activation written as several element-wise operators as one layer.

        SiLU as ``x * Sigmoid(x)``, GELU as its erf or tanh arithmetic ...
        (:mod:`cnnspec.export.onnx_patterns`); True when ``node`` starts one.
        """
        if node.op_type not in ELEMENTWISE_OPS or len(set(sources)) != 1:
            return False  # the region reads one data value, x (x * x included)
        x = sources[0]
        if x not in self.activations:
            self.activations[x] = find_activation(x, self.index_of, self.consumers, self.consts,
                                                  self.attrs, self.output_set)
        match = self.activations[x]
        if match is None or match.nodes[0] is not node:
            return False
        self.fused.update(self.index_of[id(n)] for n in match.nodes)
        self.emit(node, match.output, [x], activation_text(match.kind, match.settings))
        return True

    def channel_slice(self, node: Any, sources: list[str]) -> None:
        """Slice(x, [start], [stop], [1]): a channel split."""
        bounds = [self.const(n) if n else None for n in node.input[1:4]]
        if len(bounds) != 3 or any(b is None or b.size != 1 for b in bounds) or \
                int(bounds[2].flat[0]) != 1 or (len(node.input) > 4 and node.input[4]):
            raise self.fail(node, "slices something other than a range of channels",
                            "cnnspec slices channels only (axis 1, step 1)")
        shape = self.shapes.get(node.input[0])
        start, stop = int(bounds[0].flat[0]), int(bounds[1].flat[0])
        if shape is not None and len(shape) == 4:
            stop = min(stop, int(shape[1]))
        self.emit(node, node.output[0], sources[:1], f"Split(start={start}, stop={stop})")

    def shuffle(self, node: Any, sources: list[str]) -> bool:
        """Reshape (N, g, C/g, H, W) -> Transpose [0, 2, 1, 3, 4] -> Reshape: a shuffle."""
        grouped = self.const(node.input[1])
        swap = self.only_user(node.output[0], "Transpose")
        back = swap and self.only_user(swap.output[0], "Reshape")
        if grouped is None or grouped.size != 5 or not back or \
                list(self.attrs(swap).get("perm", [])) != [0, 2, 1, 3, 4]:
            return False
        for part in (swap, back):
            self.fused.add(self.nodes.index(part))
        self.emit(node, back.output[0], sources[:1], f"Shuffle({int(grouped[1])})")
        self.alias[node.output[0]] = self.alias[back.output[0]]
        return True

    def conv(self, node: Any, a: dict[str, Any], sources: list[str],
             pre_pads: list[int] | None = None, pad_value: float = 0.0) -> None:
        weight = self.const(node.input[1])
        if weight is None and self.table_conv(node, a, sources):
            return
        if weight is None or weight.ndim != 4:
            raise self.fail(node, "its weight is not a 4-D initializer",
                            "export the model with its weights as initializers")
        k, _, kh, kw = weight.shape
        pads = list(a.get("pads", [0, 0, 0, 0]))
        if pre_pads is not None:
            pads = [p + q for p, q in zip(pads, pre_pads, strict=True)]
        strides = list(a.get("strides", [1, 1]))
        dilations = list(a.get("dilations", [1, 1]))
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        padding: tuple[int, int] | str = (pads[0], pads[1])
        if auto in ("SAME_UPPER", "SAME_LOWER") or self.is_same(node.input[0], pads, (kh, kw),
                                                                 strides, dilations):
            padding = "same"
        elif pads[0] != pads[2] or pads[1] != pads[3]:
            raise self.fail(node, f"its padding {pads} differs at the two ends",
                            "cnnspec pads both ends alike (or 'same')")
        has_bias = len(node.input) > 2 and bool(node.input[2])
        text = conv_text((kh, kw), int(k), stride=strides, padding=padding,
                         dilation=dilations, groups=int(a.get("group", 1)), bias=has_bias,
                         pad_value=pad_value)
        params = weight.size + (int(k) if has_bias else 0)
        self.emit(node, node.output[0], sources[:1], text, params=params)

    def table_conv(self, node: Any, a: dict[str, Any], sources: list[str]) -> bool:
        """Conv whose kernel is ScatterND(zeros, index, weight): a connection table."""
        scatter = self.producer.get(node.input[1])
        if scatter is None or scatter.op_type != "ScatterND":
            return False
        zeros, index, weight = (self.const(n) for n in scatter.input[:3])
        if zeros is None or index is None or weight is None or zeros.any():
            return False
        table: list[list[int]] = [[] for _ in range(zeros.shape[0])]
        for f, c in index.tolist():
            table[f].append(c)
        pads = list(a.get("pads", [0, 0, 0, 0]))
        if pads[0] != pads[2] or pads[1] != pads[3]:
            raise self.fail(node, f"its padding {pads} differs at the two ends",
                            "cnnspec pads both ends alike")
        has_bias = len(node.input) > 2 and bool(node.input[2])
        item: dict[str, Any] = {"kind": "table_conv", "kernel": size_text(zeros.shape[2:]),
                                "connections": table}
        strides = list(a.get("strides", [1, 1]))
        if strides != [1, 1]:
            item["stride"] = size_text(strides)
        if pads[:2] != [0, 0]:
            item["padding"] = size_text(pads[:2])
        if not has_bias:
            item["bias"] = False
        params = weight.size + (zeros.shape[0] if has_bias else 0)
        self.emit(node, node.output[0], sources[:1], item, params=params)
        return True

    def is_same(self, value: str, pads: list[int], kernel: tuple[int, int],
                strides: list[int], dilations: list[int]) -> bool:
        """True when uneven ``pads`` are TensorFlow's 'same' padding for this input."""
        from cnnspec.analysis.shapes import same_padding

        shape = self.shapes.get(value)
        if (pads[0] == pads[2] and pads[1] == pads[3]) or shape is None or len(shape) != 4:
            return False
        h, w = shape[2], shape[3]
        return (same_padding(h, kernel[0], strides[0], dilations[0]) == (pads[0], pads[2])
                and same_padding(w, kernel[1], strides[1], dilations[1]) == (pads[1], pads[3]))

    def pad(self, index: int, node: Any, a: dict[str, Any], sources: list[str]) -> None:
        import numpy as np

        conv = self.only_user(node.output[0], "Conv")
        amounts = self.const(node.input[1]) if len(node.input) > 1 else a.get("pads")
        mode = a.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if conv is None or amounts is None or mode != "constant":
            raise self.fail(node, "only constant padding right before a Conv can be read",
                            "fold the padding into the Conv's pads")
        amounts = [int(v) for v in np.asarray(amounts)]
        if any(amounts[i] for i in (0, 1, 4, 5)):
            raise self.fail(node, "pads the batch or channel axis", "pad only H and W")
        value = self.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        value = float(value) if value is not None else float(a.get("value", 0.0))
        self.fused.add(self.nodes.index(conv))
        self.conv(conv, self.attrs(conv), sources,
                  [amounts[2], amounts[3], amounts[6], amounts[7]], value)
        self.alias[node.output[0]] = self.alias[conv.output[0]]

    def pool(self, index: int, node: Any, a: dict[str, Any], sources: list[str]) -> None:
        kernel = list(a["kernel_shape"])
        strides = list(a.get("strides", [1, 1]))
        pads = list(a.get("pads", [0, 0, 0, 0]))
        if pads[0] != pads[2] or pads[1] != pads[3]:
            raise self.fail(node, f"its padding {pads} differs at the two ends",
                            "cnnspec pads both ends alike")
        if node.op_type == "AveragePool" and self.subsample(node, kernel, strides, sources):
            return
        mode = "max" if node.op_type == "MaxPool" else "avg"
        text = pool_text(mode, kernel, stride=strides, padding=pads[:2],
                         ceil=bool(a.get("ceil_mode", 0)))
        self.emit(node, node.output[0], sources, text)

    def subsample(self, node: Any, kernel: list[int], strides: list[int],
                  sources: list[str]) -> bool:
        """AveragePool -> Mul(area) -> Mul(weight) -> Add(bias): LeNet's subsampling."""
        area_mul = self.only_user(node.output[0], "Mul")
        scale_mul = area_mul and self.only_user(area_mul.output[0], "Mul")
        bias_add = scale_mul and self.only_user(scale_mul.output[0], "Add")
        if not bias_add:
            return False
        area = self.const(area_mul.input[1])
        weight, bias = self.const(scale_mul.input[1]), self.const(bias_add.input[1])
        if area is None or weight is None or bias is None or area.size != 1 or \
                float(area) != math.prod(kernel) or weight.size != bias.size:
            return False
        for part in (area_mul, scale_mul, bias_add):
            self.fused.add(self.nodes.index(part))
        self.emit(node, bias_add.output[0], sources, subsample_text(kernel, strides),
                  params=weight.size + bias.size)
        self.alias[node.output[0]] = self.alias[bias_add.output[0]]
        return True

    def stochastic_pool(self, node: Any, sources: list[str]) -> bool:
        """Mul(x, x) -> AveragePool, AveragePool(x) -> Max(tiny), Div: stochastic pooling."""
        x = node.input[0]
        if node.input[1] != x:
            return False
        num = self.only_user(node.output[0], "AveragePool")
        div = num and self.only_user(num.output[0], "Div")
        den = next((d for d in self.consumers.get(x, []) if d.op_type == "AveragePool"
                    and (m := self.only_user(d.output[0], "Max"))
                    and self.only_user(m.output[0], "Div") is div), None)
        if not div or den is None or self.attrs(num) != self.attrs(den):
            return False
        safe = self.consumers[den.output[0]][0]
        for part in (num, den, safe, div):
            self.fused.add(self.nodes.index(part))
        a = self.attrs(num)
        pads = list(a.get("pads", [0, 0, 0, 0]))
        text = pool_text("stochastic", list(a["kernel_shape"]), stride=list(a.get("strides",
                         [1, 1])), padding=pads[:2], ceil=bool(a.get("ceil_mode", 0)))
        self.emit(node, div.output[0], [x], text)
        return True

    def gemm(self, node: Any, a: dict[str, Any], sources: list[str]) -> None:
        weight = self.const(node.input[1])
        if weight is None or weight.ndim != 2 or a.get("transA", 0):
            raise self.fail(node, "its B is not a 2-D initializer",
                            "export the model with its weights as initializers")
        if float(a.get("alpha", 1.0)) != 1.0 or float(a.get("beta", 1.0)) != 1.0:
            raise self.fail(node, "alpha or beta is not 1", "fold the scale into the weights")
        units = weight.shape[0] if a.get("transB", 0) else weight.shape[1]
        bias = self.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        self.emit(node, node.output[0], sources[:1], fc_text(int(units), bias is not None),
                  params=weight.size + (bias.size if bias is not None else 0))

    def matmul(self, node: Any, sources: list[str]) -> None:
        if len(self.shapes.get(node.input[0], [])) == 4:
            return self.adaptive_pool(node, sources)
        weight = self.const(node.input[1])
        if weight is None or weight.ndim != 2:
            raise self.fail(node, "multiplies by something other than a weight matrix",
                            "cnnspec reads MatMul as an FC layer: x @ W with W (in, out)")
        add = self.only_user(node.output[0], "Add")
        bias = self.const(add.input[1]) if add is not None else None
        output, params, has_bias = node.output[0], weight.size, False
        if bias is not None and bias.size == weight.shape[1]:
            self.fused.add(self.nodes.index(add))
            output, params, has_bias = add.output[0], params + bias.size, True
        self.emit(node, output, sources[:1], fc_text(int(weight.shape[1]), has_bias),
                  params=params)
        self.alias[node.output[0]] = self.alias[output]

    def adaptive_pool(self, node: Any, sources: list[str]) -> None:
        """MatMul(x, A_w^T) -> MatMul(A_h, .): adaptive average pooling with uneven bins."""
        cols = self.const(node.input[1])
        rows_mul = self.only_user(node.output[0], "MatMul")
        rows = self.const(rows_mul.input[0]) if rows_mul is not None else None
        if cols is None or rows is None or cols.ndim != 2 or rows.ndim != 2:
            raise self.fail(node, "multiplies a volume by something other than pooling bins",
                            "cnnspec reads MatMul on a volume only as adaptive average pooling")
        self.fused.add(self.nodes.index(rows_mul))
        self.emit(node, rows_mul.output[0], sources[:1],
                  adaptive_text((rows.shape[0], cols.shape[1])))
        self.alias[node.output[0]] = self.alias[rows_mul.output[0]]

    def batchnorm(self, node: Any, a: dict[str, Any], sources: list[str]) -> None:
        scale = self.const(node.input[1])
        if scale is None:
            raise self.fail(node, "its scale is not an initializer",
                            "export the model in inference mode with its weights")
        text = batchnorm_text(float(a.get("epsilon", 1e-5)), 1.0 - float(a.get("momentum", 0.9)))
        c = int(scale.size)
        self.emit(node, node.output[0], sources[:1], text,
                  params=2 * c, buffers=2 * c)


def read_onnx(path: str | Path, name: str | None = None) -> Imported:
    """The cnnspec spec of the ONNX model at ``path`` (validated, analysed, counts checked)."""
    path = Path(path)
    where = Location(str(path))
    if not path.is_file():
        raise ExportError(f"no such file: {path}", where, "give the path of a .onnx model")
    onnx = require_onnx()
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError and others for a corrupt file
        raise ExportError(f"{path} is not a readable ONNX model ({exc})", where,
                          "check that the file is a .onnx model") from None
    graph = _Reader(model, where).run()
    # cnnspec names its graphs after the spec; other exporters use generic names
    name = name or (model.graph.name if model.producer_name == "cnnspec" else path.stem)
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    header = [f"Imported by `cnnspec import` from {path.name} "
              f"({model.producer_name or 'unknown producer'}, opset {opset}).",
              f"The ONNX model holds {graph.params:,} trainable parameters and "
              f"{graph.buffers:,} running statistics; this spec's analysis agrees."]
    return write_spec(graph, name, header)
