"""Data-parallel shards: one batch split across the cores, each part in its own process.

Room: engine; imports :mod:`cnnspec.engine.blas` and :mod:`cnnspec.errors` only.

Two BLAS threads speed up a network's matrix products, but nothing else in a step:
im2col, col2im, activations and pooling are passes over memory that NumPy runs on one
thread, and two threads of one product meet at a barrier once per product. Splitting
the batch instead runs *everything* on every core: shard ``i`` takes the examples
``[N*i/k, N*(i+1)/k)`` and runs forward and backward with one BLAS thread, shard 0 in
the calling process and each other one in a worker process forked from it, and the
shards' gradients are summed:

    L = sum_i (n_i / N) * L_i              (L_i the mean loss over shard i's n_i examples)
    dL/dtheta = sum_i (n_i / N) * dL_i/dtheta

Each shard scales its loss gradient by ``n_i / N`` before its backward pass, so the
parameter gradients only need adding. The shard count (:func:`shard_count`) is

    k = min(threads, N, floor(N * M / SHARD_MACS))   (at least 1)

with ``M`` the network's multiply-adds per example (the analysis' total) and
``threads`` the engine's thread limit (``--threads``; default: the cores this process
may run on): every shard does at least ``SHARD_MACS`` multiply-adds of forward work.
The count depends on these settings only, never on the machine's load, so the same
seed and settings give the same run. A different shard count changes results at float
rounding only (gradients are summed in another order), except that dropout and
stochastic pooling draw each shard's masks from a generator of its own, seeded from
the step's.

Why processes, not threads: a NumPy call releases Python's lock only while it runs,
and a thread that wants it back waits for the other thread's next call. Half a LeNet-5
step (32 images) took 2.1 ms alone and 4.2 ms beside a second thread doing the same,
but 2.5 ms beside a second *process*; half the VGG-style step 50 ms alone, 57-60 beside
a thread, 52.5 beside a process.

Sharing: every parameter and buffer array of a model lives in one anonymous shared
memory map (:func:`share_arrays`, at build time), so a worker forked from the process
reads the very arrays the optimizer updates in place and a loaded checkpoint
overwrites. Each worker is a copy of the model as it was at the first split pass (its
own caches and workspaces); it writes its parameter gradients into a shared map of its
own, which the calling process adds to the model's. The examples and outputs travel
through a pipe. A worker ignores Ctrl-C (the calling process handles it) and ends
with the model, or with the process.

A network that mixes examples in training (batch norm's batch statistics) is not
split in training; in inference every layer treats examples apart, and it is. Where
processes cannot be forked safely (not Linux), nothing is split.

Measured on 2 idle cores (OpenBLAS 0.3.31 AVX-512 kernels, float32, medians), split
against whole in the same process: the VGG-style CIFAR step of
``benchmarks/bench_models.py`` (batch 64, 1.9 Gi multiply-adds) 69-70 -> 57 ms; the
LeNet-5 step (batch 64, 25 Mi) 4.2 -> 2.7-2.9 ms, on 16 images (6.4 Mi) 1.20 -> 1.01
ms; resnet18 inference on 8 images 125-131 -> 91-97 ms. Below ``SHARD_MACS = 2**21``
per shard the hand-over costs more than the second core gains: LeNet-5 on 8 images (3.3
Mi) took 1.00 ms split against 0.77 ms whole, on 4 images 1.00 against 0.58 ms.
"""

from __future__ import annotations

import mmap
import multiprocessing
import pickle
import signal
import sys
import warnings
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from cnnspec.engine.blas import BLAS
from cnnspec.errors import EngineError

if TYPE_CHECKING:  # the model imports this module; only its type is needed here
    from cnnspec.engine.model import Model

SHARD_MACS = 2**21
ALIGN = 64  # bytes: every shared array starts on a cache line
T = TypeVar("T")

__all__ = ["SHARD_MACS", "ShardWorkers", "can_fork", "shard_bounds", "shard_count",
           "share_arrays"]


def can_fork() -> bool:
    """Whether worker processes are forked here: Linux only (macOS's frameworks and
    Windows do not survive a fork)."""
    return sys.platform.startswith("linux") and \
        "fork" in multiprocessing.get_all_start_methods()


def shard_count(batch: int, macs_per_example: int, threads: int) -> int:
    """``min(threads, batch, floor(batch * macs_per_example / SHARD_MACS))``, at least 1."""
    return max(1, min(threads, batch, batch * macs_per_example // SHARD_MACS))


def shard_bounds(batch: int, shards: int) -> list[tuple[int, int]]:
    """The examples of each shard: ``[(floor(N*i/k), floor(N*(i+1)/k)) for i < k]``."""
    return [(batch * i // shards, batch * (i + 1) // shards) for i in range(shards)]


def _shared_like(arrays: Iterable[np.ndarray]) -> list[np.ndarray]:
    """Uninitialised arrays of the same shapes and dtypes, in one shared memory map."""
    arrays = list(arrays)
    offsets, size = [], 0
    for a in arrays:
        offsets.append(size)
        size += -(-a.nbytes // ALIGN) * ALIGN
    if size == 0:
        return [np.empty_like(a) for a in arrays]
    block = mmap.mmap(-1, size, flags=mmap.MAP_SHARED)  # anonymous: inherited by a fork
    return [np.frombuffer(block, dtype=a.dtype, count=a.size, offset=o).reshape(a.shape)
            for a, o in zip(arrays, offsets, strict=True)]


def share_arrays(tables: Iterable[dict[str, np.ndarray]]) -> None:
    """Move every array of the given ``{name: array}`` tables into one shared memory map.

    In place: each entry becomes a view of the map with the same values. The arrays
    stay ordinary NumPy arrays (C-ordered, writeable) to everything else.
    """
    tables = list(tables)
    entries = [(table, name) for table in tables for name in table]
    if not can_fork() or not entries:
        return
    shared = _shared_like(table[name] for table, name in entries)
    for (table, name), target in zip(entries, shared, strict=True):
        target[...] = table[name]
        table[name] = target


class ShardWorkers:
    """Worker processes forked from a model, each running one shard of a split pass.

    Requests (:meth:`run`): ``("train", x, y, loss, seed, input_grad, aux_weight,
    weight)`` runs the model's ``_train_shard`` and writes its gradients to the
    worker's shared map (:meth:`add_grads` adds them); ``("forward", x, logits)``
    returns the output.
    """

    def __init__(self, model: Model, workers: int):
        self.names = [(i, name) for i, layer in enumerate(model.layers)
                      for name in layer.params]
        shapes = [model.layers[i].params[name] for i, name in self.names]
        self.grads = [_shared_like(shapes) for _ in range(workers)]
        context = multiprocessing.get_context("fork")
        self.pipes = []
        self.processes = []
        for grads in self.grads:
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, daemon=True, name="cnnspec-shard",
                                      args=(model, theirs, self.names, grads, [*self.pipes, ours]))
            with warnings.catch_warnings():  # Python 3.12+ warns of forking with threads
                # alive; the child runs NumPy on one BLAS thread and takes no lock of theirs
                warnings.simplefilter("ignore", DeprecationWarning)
                process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)
        self._finalizer = weakref.finalize(self, _stop, self.pipes, self.processes)

    def __len__(self) -> int:
        return len(self.processes)

    def run(self, requests: list[tuple[Any, ...]], own: Callable[[], T]) -> tuple[T, list[Any]]:
        """Send ``requests`` to the first ``len(requests)`` workers, run ``own()`` here
        meanwhile, then collect the replies: ``(own result, replies)``.

        Raises ``own``'s error, else the first worker's, once every worker has answered.
        An interruption (Ctrl-C) while they work stops the workers: their replies would
        answer the next request.
        """
        pipes = self.pipes[:len(requests)]
        answered = False
        try:
            for pipe, request in zip(pipes, requests, strict=True):
                try:
                    pipe.send(request)
                except OSError:  # the worker is gone
                    self.stop()
                    raise _lost() from None
            try:
                mine = own()
            finally:
                replies = [_receive(pipe) for pipe in pipes]
                answered = True
        except BaseException:
            if not answered:
                self.stop()
            raise
        if any(value is _GONE for _, value in replies):
            self.stop()
            raise _lost()
        for status, value in replies:
            if status == "error":
                raise value
        return mine, [value for _, value in replies]

    @property
    def alive(self) -> bool:
        """Whether the workers still serve (not stopped, none lost)."""
        return self._finalizer.alive

    def add_grads(self, model: Model, workers: int) -> None:
        """``model.grads += worker grads`` over the first ``workers`` workers (after a
        training request)."""
        for grads in self.grads[:workers]:
            for (i, name), grad in zip(self.names, grads, strict=True):
                model.layers[i].grads[name] += grad

    def stop(self) -> None:
        """End the worker processes (also done when this object is collected)."""
        self._finalizer()


_GONE = object()  # the reply of a worker that is no longer there


def _lost() -> EngineError:
    return EngineError("a shard worker process ended before answering (killed, or out of "
                       "memory?)", hint="run again (new workers are started); --threads 1 "
                       "splits no batch")


def _receive(pipe: Any) -> tuple[str, Any]:
    """One worker's reply, or ``("error", _GONE)`` when it is gone."""
    try:
        return pipe.recv()
    except (EOFError, OSError):
        return "error", _GONE


def _stop(pipes: list[Any], processes: list[Any]) -> None:
    for pipe in pipes:
        pipe.close()  # the worker's recv ends: it exits
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.terminate()


def _serve(model: Model, pipe: Any, names: list[tuple[int, str]], grads: list[np.ndarray],
           inherited: list[Any]) -> None:
    """A worker's loop: one request in, one ``(status, value)`` reply out, until EOF.

    ``inherited``: the calling process's ends of this and the earlier workers' pipes, which the
    fork copied here; closed, so that those workers see EOF when the caller closes them.
    """
    for other in inherited:
        other.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the calling process's
    BLAS.set_limit(1)
    BLAS.current = None  # the library's state after a fork is not this copy's to trust
    BLAS.use(1)
    model.shard_workers = None  # a worker never splits again
    while True:
        try:
            request = pipe.recv()
        except (EOFError, OSError):
            return
        try:
            reply = ("ok", _handle(model, request, names, grads))
        except Exception as error:
            reply = ("error", error)
        try:
            try:
                pipe.send(reply)
            except (pickle.PicklingError, TypeError, AttributeError):  # an error object
                pipe.send(("error", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))
        except OSError:  # the calling process stopped listening
            return


def _handle(model: Model, request: tuple[Any, ...], names: list[tuple[int, str]],
            grads: list[np.ndarray]) -> Any:
    kind, *args = request
    if kind == "forward":
        x, logits = args
        return model._forward(x, training=False, rng=None, logits=logits)
    x, y, loss, seed, input_grad, aux_weight, weight = args
    rng = None if seed is None else np.random.default_rng(seed)
    result = model._train_shard(x, y, loss, rng, input_grad, aux_weight, weight)
    for (i, name), target in zip(names, grads, strict=True):
        grad = model.layers[i].grads.get(name)
        if grad is None:
            target[...] = 0
        else:
            np.copyto(target, grad)
    return result
