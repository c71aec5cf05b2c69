"""Weights for an export: a cnnspec checkpoint checked against the spec, or seeded random ones.

Room: consumers (export). NumPy and the engine's checkpoint reader are imported
inside functions. Arrays follow the contract of :mod:`cnnspec.export.naming`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cnnspec.analysis.records import Report
from cnnspec.errors import DataError, Location
from cnnspec.export.naming import ParamSpec, leaf_params
from cnnspec.export.plan import build_plan, leaves
from cnnspec.spec.tree import Network


def param_specs(network: Network, report: Report, *, aux: bool = True) -> list[ParamSpec]:
    """Every parameter array of the network, in layer order (auxiliary heads when ``aux``)."""
    return [spec for leaf in leaves(build_plan(network, report))
            if aux or leaf.row.main for spec in leaf_params(leaf)]


def initial_arrays(network: Network, report: Report, seed: int = 0) -> dict[str, Any]:
    """Seeded random weights in the engine's layout (used when no checkpoint is given).

    He (Kaiming normal, ``std = sqrt(2 / fan_in)``) for conv, table-conv and FC weights;
    zero biases; batch norm weight 1, bias 0, running mean 0, running variance 1; LeNet
    subsampling weight 1/area (a plain average), bias 0. Auxiliary heads are included.
    """
    import numpy as np

    from cnnspec.engine.init import he_normal

    rng = np.random.default_rng(seed)
    arrays: dict[str, Any] = {}
    for leaf in leaves(build_plan(network, report)):
        kind = leaf.row.kind
        for spec in leaf_params(leaf):
            param = spec.key.rpartition(".")[2]
            if param == "weight" and kind in ("conv", "fc", "table_conv"):
                fan_in = {"fc": spec.shape[0], "conv": math.prod(spec.shape[1:])}.get(
                    kind, spec.size // leaf.row.output[-1])  # table: mean kernel volume
                arrays[spec.key] = he_normal(spec.shape, fan_in=max(1, fan_in), rng=rng)
            elif param == "weight" and kind == "subsample":
                area = math.prod(leaf.node.kernel)
                arrays[spec.key] = np.full(spec.shape, 1.0 / area, np.float32)
            elif param in ("weight", "running_var"):
                arrays[spec.key] = np.ones(spec.shape, np.float32)
            else:
                arrays[spec.key] = np.zeros(spec.shape, np.float32)
    return arrays


def check_arrays(arrays: dict[str, Any], specs: list[ParamSpec], where: Location) -> None:
    """Raise a :class:`DataError` unless ``arrays`` holds exactly ``specs`` (names and shapes)."""
    wanted = {s.key: s.shape for s in specs}
    for key, value in arrays.items():
        if key not in wanted:
            raise DataError(f"the checkpoint has {key!r}, which this spec does not", where,
                            "export the spec the checkpoint was trained on")
        if tuple(value.shape) != wanted[key]:
            raise DataError(f"checkpoint array {key!r} has shape {tuple(value.shape)}, the "
                            f"spec needs {wanted[key]}", where,
                            "export the spec the checkpoint was trained on")
    missing = [k for k in wanted if k not in arrays]
    if missing:
        raise DataError(f"the checkpoint lacks {missing[0]!r}"
                        + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""),
                        where, "export the spec the checkpoint was trained on")


def checkpoint_arrays(path: str | Path, network: Network, report: Report) -> dict[str, Any]:
    """The parameters and running statistics of a cnnspec checkpoint, checked against the spec.

    Auxiliary heads included: the engine trains them and its checkpoints carry them.
    """
    from cnnspec.engine.checkpoint import load_checkpoint

    checkpoint = load_checkpoint(path)
    check_arrays(checkpoint.state, param_specs(network, report), Location(str(path)))
    return dict(checkpoint.state)
