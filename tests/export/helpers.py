"""Shared pieces of the export tests: fixture specs, generated modules, random weights."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

import cnnspec
from cnnspec.export.torch_code import generate_torch
from cnnspec.export.weights import initial_arrays

DATA = Path(__file__).parent / "data"
FIXTURES = [str(DATA / "blocks.yaml"), str(DATA / "rare_layers.yaml"),
            str(DATA / "activations.yaml"), str(DATA / "gates.yaml")]


def module_namespace(spec: cnnspec.Spec, report: Any = None) -> SimpleNamespace:
    """The generated PyTorch file of ``spec``, executed: ``.Model``, ``.load_cnnspec_state`` ..."""
    namespace: dict[str, Any] = {}
    code = generate_torch(spec.network, report or spec.report())
    exec(compile(code, f"<generated {spec.name}>", "exec"), namespace)
    return SimpleNamespace(code=code, **namespace)


def varied_arrays(spec: cnnspec.Spec, seed: int = 1) -> dict[str, np.ndarray]:
    """Seeded weights with non-trivial biases and batch-norm statistics."""
    arrays = initial_arrays(spec.network, spec.report(), seed)
    rng = np.random.default_rng(seed)
    for key, value in arrays.items():
        if key.endswith("running_var"):
            arrays[key] = rng.uniform(0.5, 2.0, value.shape).astype(np.float32)
        elif key.endswith(("running_mean", "bias")):
            arrays[key] = rng.normal(0.0, 0.1, value.shape).astype(np.float32)
    return arrays


def output_nchw(report: Any, batch: int = 1) -> tuple[int, ...]:
    """The report's output shape as PyTorch lays it out."""
    out = report.leaves()[-1].output
    return (batch, out[2], out[0], out[1]) if len(out) == 3 else (batch, *out)
