"""Freed arrays kept by the process for the next step, not handed back to the kernel.

Room: engine; imports the standard library only.

Every training step and every forward pass allocates and frees the same large
arrays again: im2col columns, activations, gradients. glibc's ``malloc`` gives an
allocation over ``M_MMAP_THRESHOLD`` (128 KiB at start, rising with use to at most
32 MiB) fresh pages from ``mmap``, and gives memory at the top of its heap back to
the kernel once more than ``M_TRIM_THRESHOLD`` of it is free. Either way the next
step's arrays are new pages, which the kernel zero-fills and maps one 4 KiB page at a
time on first touch: on the LeNet-5 step (batch 64) about a sixth of the step.

:func:`keep_freed_memory` raises both thresholds to ``KEEP_BYTES`` (1 GiB), once
per process, when the engine builds a model. Arrays up to that size then come
from the heap and, once freed, serve the next allocations of their size without a
page fault. Measured medians on this project's benchmark workloads
(``benchmarks/bench_models.py`` shapes, idle 2-core machine): LeNet-5 training step
6.2 -> 5.3 ms, resnet50 forward (batch 1, 2 threads) 60 -> 55 ms.

The cost: memory the engine frees stays with the process (its resident size does
not shrink back after a peak) until it exits; the peak itself is the same.
``CNNSPEC_KEEP_MEMORY=0`` in the environment leaves glibc's defaults alone. Where
the C library is not glibc (macOS, musl), nothing is changed.
"""

from __future__ import annotations

import ctypes
import os

KEEP_BYTES = 2**30
# mallopt parameter numbers of glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

__all__ = ["KEEP_BYTES", "keep_freed_memory"]

_state: dict[str, bool] = {}


def keep_freed_memory() -> bool:
    """Set glibc's trim and mmap thresholds to ``KEEP_BYTES`` (once); whether it took effect.

    ``False`` when ``CNNSPEC_KEEP_MEMORY=0``, or without glibc's ``mallopt``.
    """
    if "kept" in _state:
        return _state["kept"]
    kept = False
    if os.environ.get("CNNSPEC_KEEP_MEMORY", "1") != "0":
        kept = _mallopt(M_TRIM_THRESHOLD, KEEP_BYTES) and _mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)
    _state["kept"] = kept
    return kept


def _mallopt(parameter: int, value: int) -> bool:
    """glibc ``mallopt(parameter, value)``; ``False`` where there is no glibc."""
    try:
        libc = ctypes.CDLL(None)  # the C library this process already runs on
        libc.gnu_get_libc_version  # noqa: B018 (present in glibc only)
        mallopt = libc.mallopt
    except (AttributeError, OSError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(parameter, value) == 1
