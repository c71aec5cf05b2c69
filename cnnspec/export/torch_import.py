"""``cnnspec import --from-torch FILE_OR_MODULE:NAME``: a PyTorch module read into a spec.

Room: consumers (export). torch is imported inside functions.

The module is traced with ``torch.fx`` (in training mode, so auxiliary heads
show) and run once on zeros of the given input shape to learn every tensor's
shape, as torchinfo does. Each call of a standard layer (``nn.Conv2d``,
``nn.Linear``, ``nn.BatchNorm2d`` ...) becomes the cnnspec layer it computes;
``+`` and ``torch.cat`` become residual and concat blocks. Modules the
exporter generates (``Subsample``, ``StochasticPool2d``) are read whole.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import operator
import sys
from pathlib import Path
from typing import Any

from cnnspec.errors import ExportError, Location
from cnnspec.export.activation_bridges import torch_text
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
from cnnspec.export.spec_yaml import Imported, write_spec


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def load_module(target: str) -> Any:
    """The ``nn.Module`` named by ``path/to/file.py:Name`` or ``package.module:Name``.

    ``Name`` may be a module instance, a class or a function; the latter two are called
    without arguments.
    """
    where = Location(target)
    source, sep, attr = target.rpartition(":")
    if not sep or not source or not attr:
        raise ExportError(f"{target!r} does not name a module attribute", where,
                          "write FILE.py:NAME or package.module:NAME, e.g. model.py:Model")
    try:
        if source.endswith(".py"):
            path = Path(source).expanduser()
            if not path.is_file():
                raise ExportError(f"no such file: {path}", where, "give the path of a .py file")
            # a private module name: the file must not shadow an importable module
            name = f"_cnnspec_import_{abs(hash(str(path.resolve())))}_{path.stem}"
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # dataclasses and pickling look the module up
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(source)
    except ImportError as exc:
        raise ExportError(f"cannot import {source!r}: {exc}", where,
                          "check the module path and that its packages are installed") from None
    if not hasattr(module, attr):
        raise ExportError(f"{source!r} has no attribute {attr!r}", where,
                          "name the model class, a function returning it, or an instance")
    import torch

    value = getattr(module, attr)
    if not isinstance(value, torch.nn.Module):
        value = value()
    if not isinstance(value, torch.nn.Module):
        raise ExportError(f"{target} is not a torch.nn.Module", where,
                          "name the model class, a function returning it, or an instance")
    return value


class _Reader:
    def __init__(self, module: Any, input_shape: tuple[int, int, int], where: Location):
        import torch
        from torch import fx

        class Tracer(fx.Tracer):
            def is_leaf_module(self, m: Any, qualified_name: str) -> bool:
                return hasattr(m, "cnnspec_kind") or super().is_leaf_module(m, qualified_name)

        self.where = where
        self.torch = torch
        was_training = module.training
        module.train()  # auxiliary heads run in training mode only
        try:
            graph = Tracer().trace(module)
            self.gm = fx.GraphModule(module, graph)
            h, w, c = input_shape
            self.propagate(torch.zeros(2, c, h, w))
        except ExportError:
            raise
        except Exception as exc:  # fx raises many kinds for code it cannot trace
            raise ExportError(f"cannot trace the module with torch.fx: {exc}", where,
                              "the forward must not branch on tensor values; "
                              "export it to ONNX and import that instead") from None
        finally:
            module.train(was_training)
        self.ir = OpGraph(input_shape)
        self.alias: dict[Any, str] = {}
        self.fused: set[Any] = set()

    def propagate(self, x: Any) -> None:
        """Record every tensor's shape: on the meta device (no arithmetic) when it can."""
        from torch.fx.passes.shape_prop import ShapeProp

        meta = copy.deepcopy(self.gm).to("meta")
        try:
            with self.torch.no_grad():
                ShapeProp(meta).propagate(x.to("meta"))
            for mine, theirs in zip(self.gm.graph.nodes, meta.graph.nodes, strict=True):
                mine.meta.update(theirs.meta)
        except (RuntimeError, NotImplementedError, TypeError):  # an op without a meta kernel
            with self.torch.no_grad():
                ShapeProp(self.gm).propagate(x)

    def shape(self, node: Any) -> tuple[int, ...] | None:
        meta = node.meta.get("tensor_meta")
        return tuple(meta.shape) if hasattr(meta, "shape") else None

    def fail(self, node: Any, message: str, hint: str) -> ExportError:
        return ExportError(f"{node.name} ({node.target}): {message}", self.where, hint)

    def run(self) -> OpGraph:
        for node in self.gm.graph.nodes:
            if node in self.fused:
                continue
            if node.op == "placeholder":
                self.alias[node] = INPUT
            elif node.op == "output":
                self.outputs(node.args[0])
            elif node.op in ("call_module", "call_function", "call_method"):
                self.read(node)
        return self.ir

    def outputs(self, value: Any) -> None:
        flat: list[Any] = []

        def collect(v: Any) -> None:
            if isinstance(v, (list, tuple)):
                for item in v:
                    collect(item)
            elif v is not None and hasattr(v, "op"):
                flat.append(v)

        collect(value)
        main, *aux = flat
        self.ir.output = self.alias[main]
        self.ir.aux_outputs = [self.alias[a] for a in aux]

    def data_inputs(self, node: Any) -> list[Any]:
        found: list[Any] = []

        def collect(v: Any) -> None:
            if isinstance(v, (list, tuple)):
                for item in v:
                    collect(item)
            elif hasattr(v, "op") and v in self.alias:
                found.append(v)

        collect(node.args)
        collect(list(node.kwargs.values()))
        return found

    def emit(self, node: Any, sources: list[Any], layer: Any = None, merge: str | None = None,
             params: int = 0, buffers: int = 0) -> None:
        self.ir.add(OpNode(node.name, [self.alias[s] for s in sources], layer, merge, params,
                           buffers))
        self.alias[node] = node.name

    def read(self, node: Any) -> None:
        sources = self.data_inputs(node)
        if not sources or self.shape(node) is None:
            return  # sizes and other non-tensor values
        if node.op == "call_module":
            module = self.gm.get_submodule(node.target)
            return self.module(node, module, sources)
        name = node.target if isinstance(node.target, str) else \
            getattr(node.target, "__name__", str(node.target))
        if node.target in (operator.add, operator.iadd, self.torch.add) or name in ("add",
                                                                                   "add_"):
            if len(sources) == 2:
                return self.emit(node, sources, merge="add")
            raise self.fail(node, "adds a constant", "cnnspec adds only two branches")
        if node.target in (operator.mul, operator.imul, self.torch.mul) or name in ("mul",
                                                                                   "mul_"):
            if len(sources) == 2:
                return self.emit(node, sources, merge="mul")
            raise self.fail(node, "multiplies by a constant",
                            "cnnspec multiplies only in gates: x * g(x)")
        if node.target is self.torch.cat or name == "cat":
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
            if dim not in (1, -3):
                raise self.fail(node, f"concatenates on dim {dim}",
                                "cnnspec concatenates on channels (dim 1)")
            return self.emit(node, sources, merge="concat")
        functional = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "SM",
                      "flatten": "Flatten", "view": "Flatten", "reshape": "Flatten",
                      "contiguous": None, "clone": None}
        if name in functional:
            if name in ("flatten", "view", "reshape") and len(self.shape(node) or ()) != 2:
                raise self.fail(node, "reshapes to something other than (N, features)",
                                "flatten only right before FC layers")
            return self.emit(node, sources[:1], functional[name])
        raise self.fail(node, f"cnnspec has no layer for {name}",
                        "use nn modules (Conv2d, MaxPool2d, Linear, BatchNorm2d, ReLU ...)")

    def module(self, node: Any, m: Any, sources: list[Any]) -> None:
        nn = self.torch.nn
        kind = getattr(m, "cnnspec_kind", None)
        trainable = sum(p.numel() for p in m.parameters() if p.requires_grad)
        out = self.shape(node)
        simple = {nn.ReLU: "ReLU", nn.Sigmoid: "Sigmoid", nn.Tanh: "Tanh", nn.Softmax: "SM",
                  nn.Flatten: "Flatten", nn.Identity: None}
        if type(m) in simple:
            return self.emit(node, sources, simple[type(m)])
        activation = torch_text(m)
        if activation is not None:
            return self.emit(node, sources, activation[0], params=activation[1])
        if isinstance(m, nn.Conv2d):
            return self.conv(node, m, sources)
        if isinstance(m, (nn.ZeroPad2d, nn.ConstantPad2d)):
            return self.pad(node, m, sources)
        if isinstance(m, nn.Linear):
            return self.emit(node, sources, fc_text(m.out_features, m.bias is not None),
                             params=trainable)
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if not m.affine or not m.track_running_stats:
                raise self.fail(node, "batch norm without weights or running statistics",
                                "cnnspec's BN has both (affine=True, track_running_stats=True)")
            return self.emit(node, sources, batchnorm_text(m.eps, m.momentum or 0.1),
                             params=trainable, buffers=2 * m.num_features)
        if isinstance(m, nn.Dropout):
            return self.emit(node, sources, dropout_text(m.p))
        if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) or kind == "stochastic_pool":
            mode = "max" if isinstance(m, nn.MaxPool2d) else \
                "avg" if isinstance(m, nn.AvgPool2d) else "stochastic"
            if getattr(m, "dilation", 1) not in (1, (1, 1)):
                raise self.fail(node, "dilated pooling", "cnnspec pools with dense windows")
            stride = m.stride if m.stride is not None else m.kernel_size
            text = pool_text(mode, _pair(m.kernel_size), stride=_pair(stride),
                             padding=_pair(m.padding), ceil=bool(m.ceil_mode))
            return self.emit(node, sources, text)
        if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            assert out is not None
            if out[2:] == (1, 1):
                return self.emit(node, sources, "GAP" if isinstance(m, nn.AdaptiveAvgPool2d)
                                 else "GMP")
            if isinstance(m, nn.AdaptiveMaxPool2d):
                raise self.fail(node, "adaptive max pooling to more than 1x1",
                                "cnnspec has adaptive average pooling only")
            return self.emit(node, sources, adaptive_text(out[2:]))
        if isinstance(m, nn.LocalResponseNorm):
            if m.size % 2 == 0:
                raise self.fail(node, f"an even LRN size ({m.size}) spans channels unevenly",
                                "use an odd size; the lecture's window is symmetric")
            return self.emit(node, sources, lrn_text(m.size, m.alpha / m.size, m.beta, m.k))
        if kind == "table_conv":
            return self.emit(node, sources, table_conv_item(m), params=trainable)
        if kind == "split":
            return self.emit(node, sources, f"Split(start={m.start}, stop={m.stop})")
        if isinstance(m, nn.ChannelShuffle):
            return self.emit(node, sources, f"Shuffle({m.groups})")
        if kind == "dual_path":
            return self.emit(node, sources, dual_path_text(m), params=trainable,
                             buffers=sum(b.numel() for n, b in m.named_buffers()
                                         if n.endswith(("running_mean", "running_var"))))
        if kind == "subsample":
            return self.emit(node, sources, subsample_text(m.kernel_size, m.stride),
                             params=trainable)
        raise self.fail(node, f"cnnspec has no layer for {type(m).__name__}",
                        "cnnspec reads Conv2d, pooling, Linear, BatchNorm, LocalResponseNorm, "
                        "activations, Flatten, Dropout, + (residual) and torch.cat")

    def conv(self, node: Any, m: Any, sources: list[Any],
             extra: tuple[int, int, int, int] = (0, 0, 0, 0), pad_value: float = 0.0) -> None:
        if m.padding_mode != "zeros":
            raise self.fail(node, f"padding mode {m.padding_mode!r}",
                            "cnnspec pads with zeros (or a constant value)")
        padding: tuple[int, int] | str
        if isinstance(m.padding, str):
            padding = m.padding
        else:
            top, bottom, left, right = (m.padding[0] + extra[0], m.padding[0] + extra[1],
                                        m.padding[1] + extra[2], m.padding[1] + extra[3])
            padding = (top, left)
            if top != bottom or left != right:
                if not self.is_same(sources[0], m, (top, bottom, left, right)):
                    raise self.fail(node, "pads the two ends differently",
                                    "cnnspec pads both ends alike (or 'same')")
                padding = "same"
        params = sum(p.numel() for p in m.parameters() if p.requires_grad)
        text = conv_text(m.kernel_size, m.out_channels, stride=m.stride, padding=padding,
                         dilation=m.dilation, groups=m.groups, bias=m.bias is not None,
                         pad_value=pad_value)
        self.emit(node, sources, text, params=params)

    def is_same(self, source: Any, m: Any, pads: tuple[int, int, int, int]) -> bool:
        """True when uneven ``pads`` are TensorFlow's 'same' padding for this input."""
        from cnnspec.analysis.shapes import same_padding

        shape = self.shape(source)
        if shape is None or len(shape) != 4:
            return False
        (kh, kw), (sh, sw), (dh, dw) = m.kernel_size, m.stride, m.dilation
        return (same_padding(shape[2], kh, sh, dh) == pads[:2]
                and same_padding(shape[3], kw, sw, dw) == pads[2:])

    def pad(self, node: Any, m: Any, sources: list[Any]) -> None:
        users = list(node.users)
        conv = self.gm.get_submodule(users[0].target) if len(users) == 1 and \
            users[0].op == "call_module" else None
        if not isinstance(conv, self.torch.nn.Conv2d) or len(m.padding) != 4:
            raise self.fail(node, "padding that does not feed a Conv2d",
                            "cnnspec reads padding only as part of a convolution")
        left, right, top, bottom = m.padding
        self.fused.add(users[0])
        self.conv(users[0], conv, sources, (top, bottom, left, right), float(m.value))
        self.alias[node] = self.alias[users[0]]


def table_conv_item(m: Any) -> dict[str, Any]:
    """The YAML item of a generated ``TableConv`` module."""
    item: dict[str, Any] = {"kind": "table_conv", "kernel": size_text(m.kernel_size),
                            "connections": [list(c) for c in m.connections]}
    if tuple(m.stride) != (1, 1):
        item["stride"] = size_text(m.stride)
    if tuple(m.padding) != (0, 0):
        item["padding"] = size_text(m.padding)
    if m.bias is None:
        item["bias"] = False
    return item


def dual_path_text(m: Any) -> str:
    """``DualPath(width, out, inc, groups, ...)`` of a generated ``DualPath`` module."""
    import torch

    convs = [c for c in m.body.modules() if isinstance(c, torch.nn.Conv2d)]
    norms = [b for b in m.body.modules() if isinstance(b, torch.nn.BatchNorm2d)]
    if len(convs) != 3 or not norms:
        raise ExportError("a DualPath module whose body is not BN-ReLU-Conv x 3",
                          hint="export DPN blocks with `cnnspec export --to pytorch`")
    width, groups, stride = convs[0].out_channels, convs[1].groups, convs[1].stride[0]
    args = [str(width), str(m.out), str(convs[2].out_channels - m.out), str(groups)]
    if stride != 1:
        args.append(f"s={stride}")
    if m.projection is not None:
        args.append("proj=true")
    if abs(norms[0].eps - 1e-3) > 1e-12:
        args.append(f"eps={norms[0].eps:g}")
    return f"DualPath({', '.join(args)})"


def read_torch(target: str, input_shape: tuple[int, ...], name: str | None = None) -> Imported:
    """The cnnspec spec of the PyTorch module ``target`` (``file.py:Name`` or ``pkg.mod:Name``)."""
    where = Location(target)
    if len(input_shape) != 3:
        raise ExportError("reading a PyTorch module needs an H x W x C input", where,
                          "give --input, e.g. --input 224x224x3")
    module = load_module(target)
    graph = _Reader(module, tuple(input_shape), where).run()  # type: ignore[arg-type]
    params = sum(p.numel() for p in module.parameters() if p.requires_grad)
    buffers = sum(b.numel() for n, b in module.named_buffers()
                  if n.endswith(("running_mean", "running_var")))
    if (params, buffers) != (graph.params, graph.buffers):
        raise ExportError(
            f"the traced layers hold {graph.params:,} parameters but the module has "
            f"{params:,}", where, "the module has layers its forward does not use")
    name = name or type(module).__name__.lower()
    header = [f"Imported by `cnnspec import --from-torch {target}` "
              f"(torch.fx trace on a {'x'.join(map(str, input_shape))} input).",
              f"The module holds {params:,} trainable parameters and {buffers:,} running "
              "statistics; this spec's analysis agrees."]
    return write_spec(graph, name, header)
