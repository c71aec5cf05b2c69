"""Measure a built network: time per layer and peak memory, beside the analysis.

Room: engine.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cnnspec.engine.budget import estimate
from cnnspec.engine.containers import fused_into
from cnnspec.engine.layers import Conv, RunContext
from cnnspec.engine.model import Model


@dataclass
class LayerTiming:
    """Measured seconds of one layer beside the analysis' MACs and output memory."""

    name: str
    type: str
    forward: float = 0.0
    backward: float = 0.0
    macs: int = 0
    activation_bytes: int = 0
    gemm_forward: float = 0.0
    gemm_backward: float = 0.0
    inside: str | None = None  # the conv (inference) or block this row runs inside

    def percent_of_limit(self) -> float | None:
        """``100 * (forward + backward) / (gemm_forward + gemm_backward)``; None without GEMMs.

        100% is the limit: the layer's matrix products alone, timed in NumPy.
        """
        limit = self.gemm_forward + self.gemm_backward
        return 100 * (self.forward + self.backward) / limit if limit > 0 else None


@dataclass
class Profile:
    """One profiled run: per-layer timings, totals and memory."""

    batch: int
    backward: bool
    layers: list[LayerTiming] = field(default_factory=list)
    forward_seconds: float = 0.0
    backward_seconds: float = 0.0
    peak_bytes: int = 0
    estimate_bytes: int = 0
    estimate_parts: dict[str, int] = field(default_factory=dict)
    gemm_seconds: float = 0.0

    def percent_of_limit(self) -> float | None:
        """The whole run's time as a percentage of its conv and FC products' time."""
        spent = self.forward_seconds + self.backward_seconds
        return 100 * spent / self.gemm_seconds if self.gemm_seconds > 0 else None


def _timed(method: Callable, slot: list[float], index: int) -> Callable:
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            slot[index] += time.perf_counter() - start

    return wrapper


def memory_estimate(model: Model, batch: int, backward: bool) -> dict[str, int]:
    """The analysis' bytes for this run (:func:`cnnspec.engine.budget.estimate`, the figure
    the memory check compares with the memory available).

    With backward: parameters, gradients and ``activations = batch * (input + every layer
    output) * b`` (all kept for the backward pass). Inference: parameters plus the largest
    set of activations alive at once (:func:`~cnnspec.analysis.memory.inference_memory`).
    """
    return estimate(model.report, batch=batch, optimizer=None, backward=backward,
                    bytes_per_value=model.dtype.itemsize)


def profile(model: Model, batch: int, *, backward: bool = True, seed: int = 0,
            repeats: int = 1, limit: bool = False) -> Profile:
    """Run forward (and backward) on random input; time each layer; trace peak memory.

    One untimed warm-up run comes first (the first pass allocates the engine's reused
    buffers and starts BLAS threads; timing it would charge that to the first layer).
    Timings are summed over ``repeats`` runs and divided by it. Peak memory is the
    largest traced allocation during the last run, parameters included. ``limit``
    also times each conv and FC layer's matrix products alone
    (:mod:`cnnspec.engine.gemm_limit`). The batch is not split into shards
    (:mod:`cnnspec.engine.shards`): each layer's time is that of one pass.
    """
    split, model.splits_batches = model.splits_batches, False  # one pass, layer by layer
    try:
        return _profile(model, batch, backward=backward, seed=seed, repeats=repeats,
                        limit=limit)
    finally:
        model.splits_batches = split


def _profile(model: Model, batch: int, *, backward: bool, seed: int, repeats: int,
             limit: bool) -> Profile:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *model.input_shape)).astype(model.dtype)
    out = model.forward(x, training=backward, rng=rng)  # the warm-up run
    if backward:
        model.backward(rng.standard_normal(out.shape).astype(out.dtype))
    slots: dict[str, list[float]] = {}
    originals = []
    for layer in model.layers:
        slot = slots.setdefault(layer.name, [0.0, 0.0])
        originals.append((layer, layer.forward, layer.backward))
        layer.forward = _timed(layer.forward, slot, 0)  # type: ignore[method-assign]
        layer.backward = _timed(layer.backward, slot, 1)  # type: ignore[method-assign]
        if isinstance(layer, Conv):  # inference: the conv with its batch norm and ReLU
            layer.forward_fused = _timed(layer.forward_fused, slot, 0)  # type: ignore[method-assign]
    result = Profile(batch=batch, backward=backward)
    try:
        for run in range(repeats):
            last = run == repeats - 1
            if last:
                tracemalloc.start()
            start = time.perf_counter()
            out = model.forward(x, training=backward, rng=rng)
            middle = time.perf_counter()
            if backward:
                # a random upstream gradient, like a loss's; a constant one makes the
                # backward GEMMs see many equal values, not what training sees
                model.backward(rng.standard_normal(out.shape).astype(out.dtype))
            end = time.perf_counter()
            result.forward_seconds += middle - start
            result.backward_seconds += end - middle
            if last:
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                params = sum(v.nbytes for v in model.params.values()) + sum(
                    v.nbytes for v in model.buffers.values())
                result.peak_bytes = peak + params
    finally:
        for layer, forward, back in originals:
            layer.forward = forward  # type: ignore[method-assign]
            layer.backward = back  # type: ignore[method-assign]
            layer.__dict__.pop("forward_fused", None)  # the class's method again
    result.forward_seconds /= repeats
    result.backward_seconds /= repeats
    fused = fused_into(model.root, RunContext(training=backward))
    for row in model.report.leaves():
        if row.name in slots:
            fwd, bwd = slots[row.name]
            result.layers.append(LayerTiming(row.name, row.type, fwd / repeats, bwd / repeats,
                                             row.macs * batch, row.activation_bytes * batch,
                                             inside=fused.get(row.name)))
    if limit:
        from cnnspec.engine.gemm_limit import network_limits

        by_name = {lim.name: lim for lim in network_limits(model, batch, backward=backward)}
        for timing in result.layers:
            if timing.name in by_name:
                timing.gemm_forward = by_name[timing.name].forward_seconds
                timing.gemm_backward = by_name[timing.name].backward_seconds
        result.gemm_seconds = sum(t.gemm_forward + t.gemm_backward for t in result.layers)
    result.estimate_parts = memory_estimate(model, batch, backward)
    result.estimate_bytes = sum(result.estimate_parts.values())
    return result
