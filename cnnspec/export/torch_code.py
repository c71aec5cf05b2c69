"""``cnnspec export --to pytorch``: readable PyTorch source for a spec.

Room: consumers (export). Produces text; torch is never imported here.

The generated file holds one ``nn.Module`` class for the network. Top-level
layers are attributes called one per line in ``forward`` with the output
shape as a comment; blocks are sub-modules (``seq(...)`` groups, ``Residual``,
``Concat``); auxiliary heads run in training mode only and are returned as
``(output, [aux outputs])``. A final softmax stays part of the module, so it
returns probabilities (train it with ``nn.NLLLoss`` on ``log``, or replace
that layer by ``nn.Identity()`` and use ``nn.CrossEntropyLoss``).

The file also carries ``CNNSPEC_NAMES`` (analysis row name -> module path) and
``load_cnnspec_state(module, arrays)``, which loads weights keyed
``"{row name}.{param}"`` (see :mod:`cnnspec.export.naming`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cnnspec.analysis.records import LayerRecord, Report, shape_text
from cnnspec.errors import ExportError
from cnnspec.export.naming import attribute_name, class_name, leaf_params, split_key
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
from cnnspec.export.torch_layers import HELPERS, comment, leaf_entries
from cnnspec.spec.tree import Network

INDENT = "    "


def torch_names(network: Network, report: Report) -> dict[str, str]:
    """Row name -> dotted module path in the generated module, for every layer with params."""
    return _Generator(network, report).run().names


def torch_state_dict(network: Network, report: Report, arrays: dict[str, Any]) -> dict[str, Any]:
    """A PyTorch state dict for the generated module from cnnspec arrays (FC transposed)."""
    import torch

    gen = _Generator(network, report).run()
    state: dict[str, Any] = {}
    for key, value in arrays.items():
        row, param = split_key(key)
        tensor = torch.as_tensor(value)
        if row in gen.transposed and param == "weight":
            tensor = tensor.T  # (in, out) -> (out, in)
        state[f"{gen.names[row]}.{param}"] = tensor.contiguous()
    return state


def add_argument(lines: list[str], prefix: str, expr: list[str]) -> None:
    """Append a multi-line expression as one call argument: ``prefix`` + lines + ``,``."""
    lines.append(prefix + expr[0])
    lines.extend(expr[1:])
    lines[-1] += ","


@dataclass
class _Generator:
    network: Network
    report: Report
    taken: set[str] = field(default_factory=set)
    helpers: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)  # row name -> module path
    transposed: list[str] = field(default_factory=list)  # FC rows
    init_lines: list[str] = field(default_factory=list)
    forward_lines: list[str] = field(default_factory=list)
    aux_heads: list[str] = field(default_factory=list)  # attribute names of auxiliary heads

    def run(self) -> _Generator:
        plan = build_plan(self.network, self.report)
        self.taken.update({"seq", "aux"})
        for step in plan.steps:
            self.top_level(step)
        return self

    # -- naming ----------------------------------------------------------------------------
    def attr(self, row: LayerRecord, suffix: str = "") -> str:
        return attribute_name(row.name + suffix, self.taken)

    def record(self, leaf: Leaf, path: str) -> None:
        if leaf_params(leaf):
            self.names[leaf.row.name] = path
        if leaf.row.kind == "fc":
            self.transposed.append(leaf.row.name)

    # -- top level: attributes and forward lines --------------------------------------------
    def top_level(self, step: Step) -> None:
        if isinstance(step, Leaf):
            for name, expr, note, out in self.leaf_children(step, ""):
                self.init_lines.append(f"self.{name} = {expr}  # {note}")
                self.forward_lines.append(f"x = self.{name}(x)  # {nchw(out)}")
            return
        if isinstance(step, AuxStep):
            name = self.attr(step.row)
            self.aux_heads.append(name)
            self.add_attribute(name, self.chain_expr(step.head, name, 0, step.row))
            self.forward_lines.append("if self.training:")
            self.forward_lines.append(f"{INDENT}aux.append(self.{name}(x))  "
                                      f"# {nchw(step.row.output)}")
            return
        if isinstance(step, Chain) and holds_aux(step):
            for child in step.steps:  # a group holding an aux head is unrolled here
                self.top_level(child)
            return
        row = step.row
        name = self.attr(row) if row is not None else attribute_name("block", self.taken)
        self.add_attribute(name, self.block_expr(step, name, 0))
        out = row.output if row is not None else None
        self.forward_lines.append(f"x = self.{name}(x)  # {nchw(out)}")

    def add_attribute(self, name: str, expr: list[str]) -> None:
        first, *rest = expr
        self.init_lines.append(f"self.{name} = {first}")
        self.init_lines.extend(rest)

    def leaf_children(self, leaf: Leaf, prefix: str):
        """``(attribute, constructor, comment, output shape)`` of each module of one layer."""
        for entry in leaf_entries(leaf, self.network.conventions):
            name = self.attr(leaf.row, entry.suffix)
            if entry.helper:
                self.helpers.add(entry.helper)
            if entry.suffix:
                out = (sum_size(leaf.row.input),) if entry.suffix == "_flatten" else \
                    leaf.row.input
                yield name, entry.expr, f"{leaf.row.name} ({entry.suffix[1:]})", out
            else:
                self.record(leaf, prefix + name)
                yield name, entry.expr, comment(leaf.row), leaf.row.output

    # -- nested expressions ------------------------------------------------------------------
    def block_expr(self, step: Step, path: str, level: int) -> list[str]:
        """Source lines of a block constructor; the first line has no indent."""
        if isinstance(step, Chain):
            return self.chain_expr(step, path, level, step.row)
        if isinstance(step, ResidualStep):
            return self.two_path_expr("Residual", step, [], ("body", "shortcut"), path, level)
        if isinstance(step, DualPathStep):
            return self.two_path_expr("DualPath", step, [f"out={step.out},"],
                                      ("body", "projection"), path, level)
        if isinstance(step, GateStep):
            self.helpers.add("Gate")
            lines = [f"Gate(  # {block_comment(step.row)}"]
            add_argument(lines, INDENT * (level + 1),
                         self.chain_expr(step.body, f"{path}.body", level + 1))
            lines.append(f"{INDENT * level})")
            return lines
        if isinstance(step, ConcatStep):
            self.helpers.add("Concat")
            pad = INDENT * (level + 1)
            lines = [f"Concat(  # {block_comment(step.row)}"]
            for b, branch in enumerate(step.branches):
                if not branch.steps:
                    lines.append(f"{pad}nn.Identity(),")
                    continue
                add_argument(lines, f"{pad}",
                             self.chain_expr(branch, f"{path}.branches.{b}", level + 1))
            lines.append(f"{INDENT * level})")
            return lines
        if isinstance(step, AuxStep):
            raise ExportError(f"{step.row.name}: auxiliary heads are exported only at the top "
                              "level of the network",
                              hint="move the aux head out of its group")
        raise ExportError(f"cannot export {type(step).__name__}")  # pragma: no cover

    def two_path_expr(self, helper: str, step: ResidualStep | DualPathStep, extra: list[str],
                      names: tuple[str, str], path: str, level: int) -> list[str]:
        """A residual or dual-path sub-module: its main path and its (optional) skip path."""
        self.helpers.add(helper)
        pad = INDENT * (level + 1)
        lines = [f"{helper}(  # {block_comment(step.row)}", *(pad + e for e in extra)]
        for name, chain in zip(names, (step.body, step.shortcut), strict=True):
            if chain is step.shortcut and not chain.steps:
                continue
            add_argument(lines, f"{pad}{name}=",
                         self.chain_expr(chain, f"{path}.{name}", level + 1))
        lines.append(f"{INDENT * level})")
        return lines

    def chain_expr(self, chain: Chain, path: str, level: int,
                   row: LayerRecord | None = None) -> list[str]:
        """``seq(name=module, ...)`` lines for a chain."""
        self.helpers.add("seq")
        pad = INDENT * (level + 1)
        head = f"seq(  # {block_comment(row)}" if row is not None else "seq("
        lines = [head]
        for step in chain.steps:
            if isinstance(step, Leaf):
                for name, expr, note, _ in self.leaf_children(step, f"{path}."):
                    lines.append(f"{pad}{name}={expr},  # {note}")
                continue
            if isinstance(step, AuxStep):
                raise ExportError(f"{step.row.name}: auxiliary heads are exported only at the "
                                  "top level of the network",
                                  hint="move the aux head out of its group")
            name = self.attr(step.row) if step.row is not None else \
                attribute_name("block", self.taken)
            add_argument(lines, f"{pad}{name}=",
                         self.block_expr(step, f"{path}.{name}", level + 1))
        lines.append(f"{INDENT * level})")
        return lines


def holds_aux(chain: Chain) -> bool:
    """True when an auxiliary head sits in ``chain`` or in a group inside it."""
    return any(isinstance(s, AuxStep) or (isinstance(s, Chain) and holds_aux(s))
               for s in chain.steps)


def sum_size(shape: tuple[int, ...]) -> int:
    """Number of values in a shape (a flattened volume's length)."""
    return math.prod(shape)


def nchw(shape: tuple[int, ...] | None) -> str:
    """``(28, 28, 6)`` -> ``(N, 6, 28, 28)``; ``(10,)`` -> ``(N, 10)``."""
    if not shape:
        return ""
    if len(shape) == 3:
        return f"(N, {shape[2]}, {shape[0]}, {shape[1]})"
    return f"(N, {', '.join(map(str, shape))})"


def block_comment(row: LayerRecord | None) -> str:
    """``Group:1 x3  56x56x256  215,808 params`` for a block row."""
    if row is None:
        return ""
    text = f"{row.name}{' ' + row.hyper if row.hyper.startswith('x') else ''}  " \
           f"{shape_text(row.output)}"
    return text + (f"  {row.trainable:,} params" if row.trainable else "")


def generate_torch(network: Network, report: Report) -> str:
    """The Python source of a PyTorch module for ``network`` (analysed as ``report``)."""
    gen = _Generator(network, report).run()
    cls = class_name(network.name)
    h, w, c = report.input if len(report.input) == 3 else (None, None, report.input[0])
    input_shape = f"({c}, {h}, {w})" if h is not None else f"({c},)"
    trainable = sum(r.trainable for r in report.leaves())  # main network only
    aux_trainable = sum(r.trainable for r in report.leaves(main_only=False) if not r.main)
    last = report.leaves()[-1] if report.leaves() else None
    doc = [f'"""{cls}: the cnnspec spec {network.name!r} as a PyTorch module.', ""]
    if network.description:
        doc += [network.description, ""]
    doc += [
        "Generated by `cnnspec export --to pytorch`; shapes and counts are cnnspec's analysis.",
        f"Input (N, C, H, W) = (N, {', '.join(input_shape.strip('()').split(', '))}); "
        f"output {nchw(last.output if last else None)}.",
        f"Trainable parameters: {trainable:,}"
        + (f" (+{aux_trainable:,} in auxiliary heads, which run in training mode only and "
           "are returned as (output, [aux outputs]))" if gen.aux_heads else "") + ".",
        report.conventions_text[:1].upper() + report.conventions_text[1:] + ".",
    ]
    if last is not None and last.kind == "softmax":
        doc += ["", "The spec ends in a softmax, kept here: the module returns probabilities.",
                "To train with nn.CrossEntropyLoss, replace that layer by nn.Identity()."]
    doc += [
        "",
        "Weights trained with cnnspec load with ``load_cnnspec_state(model, arrays)``:",
        'arrays keyed "{row name}.{param}" (NCHW; FC weights (in, out), transposed on load).',
        '"""',
    ]
    parts = ["\n".join(doc), "", "from __future__ import annotations", ""]
    if "seq" in gen.helpers:
        parts += ["from collections import OrderedDict"]
    parts += ["from collections.abc import Mapping", "from typing import Any", "",
              "import torch", "from torch import nn", "", f"INPUT_SHAPE = {input_shape}"
              "  # (C, H, W) of one example", ""]
    for helper in ("seq", "Residual", "Concat", "Gate", "ChannelSlice", "DualPath", "TableConv",
                   "Subsample", "StochasticPool2d"):
        if helper in gen.helpers:
            parts.append(HELPERS[helper].rstrip() + "\n")
    parts.append(_class_source(cls, network, gen))
    parts.append(_names_source(gen))
    parts.append(LOADER.replace("CLS", cls))
    return "\n".join(parts).rstrip() + "\n"


def _class_source(cls: str, network: Network, gen: _Generator) -> str:
    body = [f"\nclass {cls}(nn.Module):",
            f'{INDENT}"""{network.name}: {len(gen.names)} layers with parameters."""', "",
            f"{INDENT}def __init__(self) -> None:", f"{INDENT * 2}super().__init__()"]
    body += [f"{INDENT * 2}{line}" for line in gen.init_lines]
    ret = "tuple[torch.Tensor, list[torch.Tensor]] | torch.Tensor" if gen.aux_heads \
        else "torch.Tensor"
    body += ["", f"{INDENT}def forward(self, x: torch.Tensor) -> {ret}:"]
    if gen.aux_heads:
        body.append(f"{INDENT * 2}aux: list[torch.Tensor] = []")
    body += [f"{INDENT * 2}{line}" for line in gen.forward_lines]
    body.append(f"{INDENT * 2}return (x, aux) if self.training else x" if gen.aux_heads
                else f"{INDENT * 2}return x")
    return "\n".join(body) + "\n"


def _names_source(gen: _Generator) -> str:
    lines = ["", "# analysis row name -> module path (the keys of cnnspec weights)",
             "CNNSPEC_NAMES: dict[str, str] = {"]
    lines += [f"{INDENT}{row!r}: {path!r}," for row, path in gen.names.items()]
    lines.append("}")
    lines.append("# FC rows: cnnspec stores their weight (in, out), PyTorch (out, in)")
    lines.append(f"TRANSPOSED: frozenset[str] = frozenset({sorted(gen.transposed)!r})")
    lines.append("# auxiliary heads: run in training mode only")
    lines.append(f"AUX_HEADS: tuple[str, ...] = {tuple(gen.aux_heads)!r}")
    return "\n".join(lines) + "\n"


LOADER = '''
Model = CLS


def cnnspec_state_dict(arrays: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """A PyTorch state dict from cnnspec arrays keyed "{row name}.{param}".

    ``arrays`` may also be a checkpoint of ``cnnspec train`` as ``np.load`` reads it:
    its ``param/`` and ``buffer/`` entries are the arrays, and ``meta/`` (the spec, the
    run's settings) and ``optim/`` (optimiser state) entries are skipped.
    """
    state: dict[str, torch.Tensor] = {}
    for key in list(arrays.keys()):
        if key.startswith(("meta/", "optim/")):
            continue
        name = key.split("/", 1)[1] if key.startswith(("param/", "buffer/")) else key
        row, _, param = name.rpartition(".")
        if row not in CNNSPEC_NAMES:
            raise KeyError(f"{key!r}: no layer {row!r} with parameters in this model")
        tensor = torch.as_tensor(arrays[key])
        if row in TRANSPOSED and param == "weight":
            tensor = tensor.T  # (in, out) -> (out, in)
        state[f"{CNNSPEC_NAMES[row]}.{param}"] = tensor.contiguous()
    return state


def load_cnnspec_state(module: nn.Module, arrays: Mapping[str, Any]) -> None:
    """Copy cnnspec weights into ``module``: ``load_cnnspec_state(model, np.load("best.npz"))``.

    Every parameter and running statistic must be given (auxiliary heads too: the
    engine trains them and checkpoints carry them).
    """
    result = module.load_state_dict(cnnspec_state_dict(arrays), strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise KeyError(f"missing {missing}, unexpected {result.unexpected_keys}")
'''
