"""Memory-bound array work split into slabs that run side by side on the free cores.

Room: engine; imports the standard library and :mod:`cnnspec.engine.blas` (whose
thread limit and count of free cores it shares) only.

NumPy runs a copy or a ufunc on one core, and lets go of the GIL while it runs.
An im2col copy, col2im's plane adds or a ReLU over a batch of feature maps move
tens of megabytes at a few GB/s: on two free cores, two halves run side by side
1.4-2x faster (im2col of 64x32x32x32 for a 3x3 kernel: 4.95 ms in one copy, 2.80
ms in two). The rule, for work that touches ``nbytes`` bytes:

    workers = min(limit, free cores)    if nbytes >= PARALLEL_BYTES
              1                          otherwise

with ``limit`` the ``--threads`` setting and the free cores those other processes
leave (:meth:`cnnspec.engine.blas.BlasThreads.free_cores`), as for the BLAS
products. Below ``PARALLEL_BYTES`` handing work to a thread costs more than it saves.

Each worker receives one slice of a single axis, the slices disjoint and covering
it, so every element is computed by exactly one worker in the same way as by a
single call: the result is the same bit for bit whatever the worker count.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cnnspec.engine.blas import BLAS

PARALLEL_BYTES = 2**22

__all__ = ["PARALLEL_BYTES", "along", "for_slabs", "outer_axis", "slab_workers", "slabs"]

_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def slab_workers(nbytes: int) -> int:
    """Workers for memory-bound work over ``nbytes`` bytes (the module docstring's rule)."""
    if nbytes < PARALLEL_BYTES or BLAS.limit <= 1:
        return 1
    return min(BLAS.limit, BLAS.free_cores())


def slabs(length: int, workers: int) -> list[slice]:
    """``workers`` (at most ``length``) disjoint slices covering ``range(length)``.

    Their lengths differ by at most 1.
    """
    workers = max(1, min(workers, length))
    bounds = [length * k // workers for k in range(workers + 1)]
    return [slice(start, stop) for start, stop in itertools.pairwise(bounds)]


def outer_axis(a: np.ndarray) -> int:
    """The axis of ``a`` outermost in memory: the largest stride among axes longer than 1.

    Slabs of that axis are whole blocks of memory, which each worker then reads and
    writes in order. 0 when every axis has length 1.
    """
    longer = [axis for axis in range(a.ndim) if a.shape[axis] > 1]
    return max(longer, key=lambda axis: abs(a.strides[axis]), default=0)


def along(a: np.ndarray, axis: int, part: slice) -> np.ndarray:
    """``a[..., part, ...]`` with ``part`` on ``axis``: a view."""
    return a[(slice(None),) * axis + (part,)]


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size < workers:
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cnnspec-slab")
        _pool_size = workers
    return _pool


def for_slabs(length: int, nbytes: int, body: Callable[[slice], object]) -> None:
    """Call ``body(s)`` for disjoint slices ``s`` covering ``range(length)``, side by side.

    ``length`` is the size of the axis the caller splits; ``nbytes`` the bytes the whole
    work touches (it decides the worker count, :func:`slab_workers`). With one worker,
    ``body(slice(0, length))`` runs in the calling thread. ``body`` must write only
    the part of its output that its slice selects. The first exception a worker
    raises is raised here, after every worker has finished.
    """
    parts = slabs(length, slab_workers(nbytes))
    if len(parts) == 1:
        body(parts[0])
        return
    futures = [_executor(len(parts) - 1).submit(body, part) for part in parts[1:]]
    try:
        body(parts[0])  # the calling thread takes the first slab
    finally:
        for future in futures:
            future.exception()  # wait for every slab before anything is read or freed
    for future in futures:
        future.result()
