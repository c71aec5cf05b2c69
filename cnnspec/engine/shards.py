"""Data-parallel shards: one batch split across the cores, each part on its own replica.

Room: engine; imports :mod:`cnnspec.engine.blas` only.

Two BLAS threads speed up a network's matrix products, but nothing else in a step:
im2col, col2im, activations and pooling are passes over memory that NumPy runs on one
thread, and two threads of one product meet at a barrier once per product. Splitting
the batch instead runs *everything* on every core: shard ``i`` takes the examples
``[N*i/k, N*(i+1)/k)``, runs forward and backward on a replica of the network (its own
caches and workspaces; the parameter and buffer arrays are the model's own, shared),
with one BLAS thread per shard, and the shards' gradients are summed:

    L = sum_i (n_i / N) * L_i              (L_i the mean loss over shard i's n_i examples)
    dL/dtheta = sum_i (n_i / N) * dL_i/dtheta

Each shard scales its loss gradient by ``n_i / N`` before its backward pass, so the
parameter gradients only need adding. The shard count (:func:`shard_count`) is

    k = min(threads, N, floor(N * M / SHARD_MACS))   (at least 1)

with ``M`` the network's multiply-adds per example (the analysis' total) and
``threads`` the engine's thread limit (``--threads``; default: the cores this process
may run on): every shard does at least ``SHARD_MACS`` multiply-adds of forward work,
below which the threads' hand-over costs more than the second core gains. The count
depends on these settings only, never on the machine's load, so the same seed and
settings give the same run. A different shard count changes results at float rounding
only (gradients are summed in another order), except that dropout and stochastic
pooling draw each shard's masks from a generator of its own, seeded from the step's.

A network that mixes examples in training (batch norm's batch statistics) is not
split in training; in inference every layer treats examples apart, and it is. Memory:
the shards' activations add up to the whole batch's; in training each replica's
parameter gradients exist beside the model's until they are added, at the end of the
step (one more set of gradients per replica at the peak).

Measured on 2 idle cores (OpenBLAS 0.3.31 AVX-512 kernels, float32, medians), split
against whole on the same process's workload: the VGG-style CIFAR step of
``benchmarks/bench_models.py`` (batch 64, 1.9 Gi multiply-adds) 70 -> 56-60 ms;
resnet18 inference on 8 images 125-131 -> 91-97 ms; LeNet-5's step (27 Mi) 4.8 ms
either way. Below the bound the threads' hand-over costs more than the second core
gains: the VGG-style step on 4 images (119 Mi) took 6.6-7.5 ms split against 5.7-5.9
ms whole, on 8 images (238 Mi) the same either way, on 16 (476 Mi) 15.2 against 18.5
ms. ``SHARD_MACS = 2**27`` (134 Mi) splits the last and keeps the first two whole. The
bound is cautious for networks of few multiply-adds per value moved: LeNet-5 on 256
images (108 Mi, kept whole) took 13.0 ms split against 18.1 whole.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from cnnspec.engine.blas import BLAS, threads_limit

if TYPE_CHECKING:  # the model imports this module; only its type is needed here
    from cnnspec.engine.model import Model

SHARD_MACS = 2**27

__all__ = ["SHARD_MACS", "replicate", "run_shards", "shard_bounds", "shard_count"]

T = TypeVar("T")

_threads: dict[str, Any] = {"pool": None, "workers": 0}  # the process's shard threads
_threads_lock = threading.Lock()


def shard_count(batch: int, macs_per_example: int, threads: int) -> int:
    """``min(threads, batch, floor(batch * macs_per_example / SHARD_MACS))``, at least 1."""
    return max(1, min(threads, batch, batch * macs_per_example // SHARD_MACS))


def shard_bounds(batch: int, shards: int) -> list[tuple[int, int]]:
    """The examples of each shard: ``[(floor(N*i/k), floor(N*(i+1)/k)) for i < k]``."""
    return [(batch * i // shards, batch * (i + 1) // shards) for i in range(shards)]


def replicate(model: Model) -> Model:
    """A copy of ``model`` that shares its parameters and buffers, for another shard.

    Everything a pass writes (caches, workspaces, gradients) is the replica's own; the
    ``params`` and ``buffers`` dictionaries of every layer are the model's, so an
    optimizer step or a loaded checkpoint reaches both. The network, the analysis and
    its rows are shared read-only. Scratch memory the model holds is not copied.
    """
    memo: dict[int, Any] = {id(model.network): model.network, id(model.report): model.report}
    for row in model.report.layers:
        memo[id(row)] = row
    for layer in model.layers:
        memo[id(layer.params)] = layer.params
        memo[id(layer.buffers)] = layer.buffers
        for name in layer.scratch:
            value = getattr(layer, name, None)
            if value is not None:
                memo[id(value)] = None
    memo[id(model.replicas)] = []
    replica = copy.deepcopy(model, memo)
    for layer in replica.layers:
        layer.grads = {}
    return replica


def _executor(workers: int) -> ThreadPoolExecutor:
    """The process's pool of at least ``workers`` shard threads (replaced when too small)."""
    with _threads_lock:
        if _threads["workers"] < workers:
            if _threads["pool"] is not None:
                _threads["pool"].shutdown(wait=True)
            _threads["pool"] = ThreadPoolExecutor(max_workers=workers,
                                                  thread_name_prefix="cnnspec-shard")
            _threads["workers"] = workers
        return _threads["pool"]


def run_shards(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Run ``tasks`` at once, one per thread, each with one BLAS thread; their results.

    The first task runs in the calling thread. Every task is finished before this
    returns or raises (the first task's error, else the first failed shard's).
    """
    if len(tasks) == 1:
        return [tasks[0]()]
    with threads_limit(1):
        BLAS.use(1)  # set once here, not by the shards at the same moment
        futures = [_executor(len(tasks) - 1).submit(task) for task in tasks[1:]]
        try:
            first = tasks[0]()
        finally:
            for future in futures:  # wait for every shard, whatever happened here
                future.exception()
        return [first] + [future.result() for future in futures]

