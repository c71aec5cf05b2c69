"""Parameter names shared by the NumPy engine, checkpoints, PyTorch and ONNX.

Room: consumers (export).

The contract: every parameter array is keyed ``"{row name}.{param}"``, where
the row name is the analysis :class:`LayerRecord` ``name`` (unique within a
report: ``Conv:1``, ``FC:6``, ``bottleneck(64)#2``). Layout is NCHW and a
flatten orders values C, H, W (PyTorch's order). Per layer kind:

==========  ==========================================  ==============================
kind        params                                      shapes (cnnspec engine layout)
==========  ==========================================  ==============================
conv        ``weight``, ``bias`` (when counted)         (K, C_in/groups, FH, FW), (K,)
fc          ``weight``, ``bias`` (when counted)         (in, out), (out,)
batchnorm   ``weight``, ``bias``, ``running_mean``,     (C,) each
            ``running_var``
subsample   ``weight``, ``bias``                        (C,) each
table_conv  ``weight``, ``bias`` (when counted)         (links, FH, FW), (K,)
==========  ==========================================  ==============================

A ``table_conv`` (LeNet-5's C3) stores one FH x FW kernel per connection, in the
order of its table: filter 0's input channels first, then filter 1's, and so on.

PyTorch stores an FC weight as (out, in): exporters transpose it. Row names may
hold characters Python identifiers cannot (``:``, ``#``, ``(``); the
generated PyTorch module uses :func:`attribute_name` and ships a map from row
names to module paths.
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass

from cnnspec.export.plan import Leaf

BATCHNORM_PARAMS = ("weight", "bias", "running_mean", "running_var")
RUNNING_STATS = ("running_mean", "running_var")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter array of the contract: its key, shape and whether training updates it."""

    key: str
    shape: tuple[int, ...]
    trainable: bool = True

    @property
    def size(self) -> int:
        """Number of values."""
        return math.prod(self.shape)


def param_key(row_name: str, param: str) -> str:
    """``("Conv:1", "weight")`` -> ``"Conv:1.weight"``."""
    return f"{row_name}.{param}"


def split_key(key: str) -> tuple[str, str]:
    """``"Residual:1.add.weight"`` -> ``("Residual:1.add", "weight")`` (the last dot splits)."""
    row, _, param = key.rpartition(".")
    return row, param


def leaf_params(leaf: Leaf) -> list[ParamSpec]:
    """The parameter arrays of one layer, read from its analysis row."""
    row, node = leaf.row, leaf.node
    if row.kind == "conv":
        c_in, k = row.input[-1], row.output[-1]
        fh, fw = node.kernel
        specs = [ParamSpec(param_key(row.name, "weight"), (k, c_in // node.groups, fh, fw))]
        if row.biases:
            specs.append(ParamSpec(param_key(row.name, "bias"), (k,)))
        return specs
    if row.kind == "table_conv":
        fh, fw = node.kernel
        links = sum(len(channels) for channels in node.connections)
        specs = [ParamSpec(param_key(row.name, "weight"), (links, fh, fw))]
        if row.biases:
            specs.append(ParamSpec(param_key(row.name, "bias"), (row.output[-1],)))
        return specs
    if row.kind == "fc":
        n_in, n_out = math.prod(row.input), row.output[0]
        specs = [ParamSpec(param_key(row.name, "weight"), (n_in, n_out))]
        if row.biases:
            specs.append(ParamSpec(param_key(row.name, "bias"), (n_out,)))
        return specs
    if row.kind == "batchnorm":
        c = row.output[-1]
        return [ParamSpec(param_key(row.name, p), (c,), p not in RUNNING_STATS)
                for p in BATCHNORM_PARAMS]
    if row.kind == "prelu":
        return [ParamSpec(param_key(row.name, "weight"), (node.num_parameters,))]
    if row.kind == "subsample":
        c = row.output[-1]
        return [ParamSpec(param_key(row.name, p), (c,)) for p in ("weight", "bias")]
    return []


def attribute_name(row_name: str, taken: set[str]) -> str:
    """A Python identifier for a row name, unique among ``taken`` (which it joins).

    ``Conv:1`` -> ``conv_1``; ``bottleneck(64)#2`` -> ``bottleneck_64_2``;
    ``Inception(3a)`` -> ``inception_3a``.
    """
    base = re.sub(r"[^0-9a-zA-Z]+", "_", row_name).strip("_").lower() or "layer"
    if base[0].isdigit():
        base = f"layer_{base}"
    if keyword.iskeyword(base) or base in ("forward", "training"):
        base += "_"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def class_name(network_name: str) -> str:
    """A CamelCase class name for a network: ``resnet-50`` -> ``Resnet50``."""
    parts = re.split(r"[^0-9a-zA-Z]+", network_name)
    name = "".join(p[:1].upper() + p[1:] for p in parts if p)
    if not name or name[0].isdigit():
        name = f"Net{name}"
    return name
