"""BLAS threads chosen per matrix product, not inherited from the environment.

Room: engine; imports NumPy, threadpoolctl and :mod:`cnnspec.engine.cpu_load` only.

NumPy's BLAS (OpenBLAS in the wheels) starts as many threads as there are cores
and keeps them for every product, however small. Two threads split a GEMM in
halves that must meet at a barrier; on a busy machine one half waits for a core
and the whole product stalls for a scheduler tick (several milliseconds) or
more, which for the small and skinny products of a training step is many times
the product's own time. The engine therefore picks the thread count of every
product it runs, with one documented rule (:func:`gemm_threads`):

    threads(M, N, K) = 1          if M*N*K < PARALLEL_MACS or M*N < PARALLEL_OUTPUT
                       limit      otherwise

for an (M, K) @ (K, N) product, where ``limit`` is the ``--threads`` setting
(default: the cores this process may run on) further capped by the cores that are
free: ``round(cores - others)``, with ``others`` the cores other processes used
over the last quarter second or more, from /proc/stat's CPU time minus this
process's own (:mod:`cnnspec.engine.cpu_load`; unlike in the load average, this
process's own threads and finished processes never count).

Measured on 2 idle cores (OpenBLAS 0.3.31, float32, medians of 31), two threads
against one, each product alone in a loop: (32, 288) @ (288, 65536) 1.86x faster,
(6, 25) @ (25, 50176) 1.54x, (16, 150) @ (150, 6400) 1.54x, (2048, 512) @ (512, 49)
1.85x, (64, 400) @ (400, 120) (2.9 Mi multiply-adds, 33 us) 1.65x. Inside a training
step, where each product follows single-threaded passes, the small ones lose that gain:
with the bound at 2**21 multiply-adds LeNet-5's step (batch 64, largest product 15 Mi)
took 5.08 ms on two threads, at 2**24 4.26 ms, and on one thread throughout 4.07 ms,
while the VGG-style CIFAR step and the resnet50 forward pass were the same at 2**21 and
2**24 and slower from 2**26 on (medians of 300, 60 and 6 steps, the bounds taking turns
step by step in one process). What two threads cannot split at all is a long sum into a
tiny output: (25, 50176) @ (50176, 6), LeNet's first weight gradient, 150 outputs, runs
0.75x as fast on two threads; hence the bound on the outputs, ``M*N``. On a busy
machine the free cores, not the shape, keep a product on one thread: a thread
waiting for a core another process holds stalls the whole product.

The thread count is process state of the BLAS library, so one
:class:`BlasThreads` per process (:data:`BLAS`) mirrors it; changing it costs one
C call and happens only when the count differs from the current one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from cnnspec.engine.cpu_load import CpuLoad, free_cores

PARALLEL_MACS = 2**24
PARALLEL_OUTPUT = 1024
# Rows of a GEMM operand that lie a multiple of ALIASING_BYTES apart are padded by
# ROW_PAD_BYTES (see row_stride).
ALIASING_BYTES = 1024
ROW_PAD_BYTES = 64

__all__ = ["BLAS", "PARALLEL_MACS", "PARALLEL_OUTPUT", "BlasThreads", "gemm_operand",
           "gemm_threads", "has_unit_rows", "matmul", "row_stride", "threads_limit"]


def row_stride(length: int, itemsize: int) -> int:
    """Elements from one row to the next of a GEMM operand with rows of ``length`` elements.

    ``length + ROW_PAD_BYTES / itemsize`` when ``length * itemsize`` is a multiple of
    ``ALIASING_BYTES`` (1024), else ``length``. Rows a multiple of 1 KiB apart fall in the
    same few cache sets, and a GEMM that reads down a column of such a matrix evicts its
    own data: OpenBLAS 0.3.31 (SkylakeX kernels, float32, one thread) ran (32, 288) @
    (288, 65536) in 12.6 ms with the right operand's rows 65536 apart and in 10.1 ms with
    them 65552 apart; (64, 576) @ (576, 16384) 8.0 -> 7.0 ms, LeNet-5's (6, 25) @ (25,
    50176) 0.48 -> 0.38 ms; rows of 3136 values (12,544 bytes) gained nothing. The same
    holds for the output of ``W^T @ dout``, the column gradient. With OpenBLAS's AVX2
    (Haswell) kernels the padding neither gained nor lost (0.99-1.01 on the same shapes).
    """
    if (length * itemsize) % ALIASING_BYTES == 0:
        return length + ROW_PAD_BYTES // itemsize
    return length


def gemm_operand(rows: int, length: int, dtype: np.dtype | type) -> np.ndarray:
    """An uninitialised (rows, length) array whose rows lie :func:`row_stride` apart.

    A view of a (rows, row_stride) block; NumPy hands it to BLAS with that leading
    dimension, no copy. Reshapes that split the row axis or the length axis stay views.
    """
    dtype = np.dtype(dtype)
    stride = row_stride(length, dtype.itemsize)
    return np.empty((rows, stride), dtype=dtype)[:, :length]


def has_unit_rows(a: np.ndarray) -> bool:
    """Whether a 2-D array's rows are contiguous and lie at least one row apart, in order.

    True for C-contiguous arrays and for :func:`gemm_operand`'s padded ones: the
    layouts a GEMM reads as a matrix with a leading dimension, and that reshapes of
    either axis keep as views.
    """
    return (a.ndim == 2
            and (a.shape[1] <= 1 or a.strides[1] == a.itemsize)
            and (a.shape[0] <= 1 or a.strides[0] >= a.shape[1] * a.itemsize))


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def gemm_threads(m: int, n: int, k: int, limit: int) -> int:
    """Threads for an (M, K) @ (K, N) product under a cap of ``limit`` threads.

    ``1`` when ``M*N*K < PARALLEL_MACS`` or ``M*N < PARALLEL_OUTPUT``, else ``limit``
    (the module docstring gives the measurements behind both bounds).
    """
    if limit <= 1 or m * n * k < PARALLEL_MACS or m * n < PARALLEL_OUTPUT:
        return 1
    return limit


class BlasThreads:
    """The BLAS library's thread count, set through threadpoolctl.

    ``limit`` is the most threads any product may use (``--threads``); ``current``
    the count last set in the library. Without threadpoolctl, or without a BLAS it
    knows, nothing is set and NumPy keeps its own threads.
    """

    def __init__(self) -> None:
        self.limit = available_cores()
        self.current: int | None = None
        self._libraries: list[Any] | None = None
        self.load = CpuLoad()

    def free_cores(self) -> int:
        """Cores other processes leave free, in ``[1, cores]`` (:mod:`.cpu_load`)."""
        return free_cores(available_cores(), self.load.others())

    def libraries(self) -> list[Any]:
        """threadpoolctl's controllers of the BLAS libraries loaded (found once)."""
        if self._libraries is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:
                self._libraries = []
            else:
                found = ThreadpoolController().select(user_api="blas")
                self._libraries = list(found.lib_controllers)
        return self._libraries

    def set_limit(self, threads: int | None) -> None:
        """Cap every product at ``threads`` (``None``: the cores available)."""
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self.limit = available_cores() if threads is None else threads

    def use(self, threads: int) -> None:
        """Set the library to ``threads`` threads (a no-op when it already is)."""
        if threads == self.current:
            return
        for library in self.libraries():
            library.set_num_threads(threads)
        self.current = threads

    def for_product(self, m: int, n: int, k: int) -> None:
        """Set the threads :func:`gemm_threads` picks for an (M, K) @ (K, N) product."""
        threads = gemm_threads(m, n, k, self.limit)
        if threads > 1:
            threads = min(threads, self.free_cores())
        self.use(threads)

    def library_threads(self) -> int | None:
        """The thread count the BLAS library reports now (``None`` without one)."""
        counts = [library.num_threads for library in self.libraries()]
        return max(counts) if counts else None


BLAS = BlasThreads()


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` (``np.matmul``, stacks included) with the threads :func:`gemm_threads` picks.

    For a stack (G, M, K) @ (G, K, N) the rule sees one (M, K) @ (K, N) product:
    NumPy runs the stack as G separate BLAS calls.
    """
    m, k = (a.shape[-2], a.shape[-1]) if a.ndim >= 2 else (1, a.shape[-1])
    n = b.shape[-1] if b.ndim >= 2 else 1
    BLAS.for_product(m, n, k)
    return np.matmul(a, b, out=out)


@contextmanager
def threads_limit(threads: int | None) -> Iterator[None]:
    """Within the block, no product uses more than ``threads`` threads (``None``: all cores)."""
    before = BLAS.limit
    BLAS.set_limit(threads)
    try:
        yield
    finally:
        BLAS.limit = before
