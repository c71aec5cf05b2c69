"""Memory before work: compare what a step will allocate with what the machine has free.

Room: engine; imports the analysis (for its memory formula and byte units) and
:mod:`cnnspec.errors`.

Building a network, running it on a batch, training it, reading a checkpoint or a data
set and decoding an image all allocate arrays whose size is known before the first byte
is allocated: the analysis gives the parameters and activations of every layer, file
headers give the sizes of the arrays they hold. :func:`require_memory` compares such an
estimate with the memory available and refuses the work with the estimate and the fix
instead of letting NumPy fail half-way (or the machine swap for minutes).

Memory available is the smallest of:

* ``MemAvailable`` of ``/proc/meminfo`` (Linux), else free pages from ``os.sysconf``;
* the control group's limit minus its usage (cgroup v2 ``memory.max``, v1
  ``memory.limit_in_bytes``), when the process runs in a container with a limit;
* the address-space limit (``ulimit -v``) minus the process's size (``VmSize``).

Overrides, for people who know better (swap, memory freed meanwhile):

* ``CNNSPEC_MEMORY_LIMIT=8G``: use this figure instead of the machine's;
* ``--no-memory-check`` on the commands that allocate, or ``CNNSPEC_NO_MEMORY_CHECK=1``:
  skip the comparison (and the image pixel cap).
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cnnspec.analysis.memory import inference_memory, training_memory
from cnnspec.analysis.records import Report
from cnnspec.errors import EngineError, Location
from cnnspec.units import human_bytes

ENV_LIMIT = "CNNSPEC_MEMORY_LIMIT"
ENV_SKIP = "CNNSPEC_NO_MEMORY_CHECK"
OVERRIDE_HINT = ("or, if you know it fits, pass --no-memory-check (or set "
                 f"{ENV_SKIP}=1)")
MEMINFO = Path("/proc/meminfo")
PROC_STATUS = Path("/proc/self/status")
CGROUP_LIMITS = (  # (limit file, usage file): cgroup v2, then v1
    (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory.current")),
    (Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
     Path("/sys/fs/cgroup/memory/memory.usage_in_bytes")),
)
NO_CGROUP_LIMIT = 1 << 60  # v1 reports "no limit" as a huge number near 2**63
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SKIP: contextvars.ContextVar[bool] = contextvars.ContextVar("cnnspec_skip_memory_check",
                                                             default=False)


def parse_size(text: str) -> int:
    """``"512M"`` -> ``536870912``; ``"1.5G"``, ``"2GiB"``, ``"1000000"`` (bytes) also read.

    ``size = number * 1024^k`` for the unit letter k, M, G or T (case ignored).
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text, re.IGNORECASE)
    if match is None:
        raise EngineError(f"{ENV_LIMIT}={text!r} is not a size", Location(ENV_LIMIT),
                          "write a number of bytes with an optional unit, e.g. 8G or 512M")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _meminfo_available() -> int | None:
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024  # the file counts in kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_available() -> int | None:
    for limit_file, usage_file in CGROUP_LIMITS:
        try:
            limit_text = limit_file.read_text().strip()
            usage = int(usage_file.read_text().strip())
        except (OSError, ValueError):
            continue
        if limit_text == "max" or int(limit_text) >= NO_CGROUP_LIMIT:
            return None
        return max(int(limit_text) - usage, 0)
    return None


def _address_space_left() -> int | None:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith("VmSize:"):
                return max(soft - int(line.split()[1]) * 1024, 0)
    except (ImportError, OSError, ValueError, IndexError):
        pass
    return None


def available_memory() -> int | None:
    """Bytes this process may still allocate (module docstring); None when unknown."""
    override = os.environ.get(ENV_LIMIT)
    if override:
        return parse_size(override)
    figures = [v for v in (_meminfo_available(), _cgroup_available(), _address_space_left())
               if v is not None]
    return min(figures) if figures else None


def checking() -> bool:
    """Whether memory checks are on (not skipped by the option or the variable)."""
    return not (_SKIP.get() or os.environ.get(ENV_SKIP, "").strip() not in ("", "0"))


@contextmanager
def unchecked(skip: bool = True) -> Iterator[None]:
    """Within the block, :func:`require_memory` passes everything (when ``skip``)."""
    token = _SKIP.set(skip or _SKIP.get())
    try:
        yield
    finally:
        _SKIP.reset(token)


def parts_text(parts: dict[str, int]) -> str:
    """``{"parameters": 2048, "activations": 512}`` -> ``parameters 2.0 KiB + activations 512 B``.
    """
    return " + ".join(f"{name.replace('_', ' ')} {human_bytes(value)}"
                      for name, value in parts.items() if value)


def require_memory(parts: dict[str, int], what: str, fix: str,
                   source: str | None = None) -> None:
    """Refuse ``what`` (an EngineError) when the sum of ``parts`` exceeds memory available.

    ``fix`` says how to need less (smaller batch, smaller input); the message gives
    the estimate by part and the memory available.
    """
    if not checking():
        return
    need = sum(parts.values())
    have = available_memory()
    if have is None or need <= have:
        return
    detail = f" ({parts_text(parts)})" if len([v for v in parts.values() if v]) > 1 else ""
    raise EngineError(f"{what} needs about {human_bytes(need)}{detail}, but only "
                      f"{human_bytes(have)} of memory is available",
                      Location(source) if source else None, f"{fix}; {OVERRIDE_HINT}")


def estimate(report: Report, *, batch: int, optimizer: str | None, backward: bool = True,
             bytes_per_value: int = 4) -> dict[str, int]:
    """The analysis' memory of one step on ``batch`` images, at ``bytes_per_value``.

    The formula is the analysis' :func:`cnnspec.analysis.memory.training_memory`
    (parameters, gradients, optimiser state, activations of the batch), without
    ``optimizer`` no state; without ``backward`` it is the inference peak of
    :func:`cnnspec.analysis.memory.inference_memory` (parameters and the largest set of
    activations alive at once).
    """
    totals = report.totals
    if not backward:  # inference frees each output after its use
        return inference_memory(report.layers, totals.params, batch, bytes_per_value)
    per_image = totals.training_breakdown["activations"] // (
        max(totals.batch, 1) * report.bytes_per_value)  # values of one image, input included
    parts = training_memory(totals.params, totals.trainable_params, per_image, batch,
                            optimizer or "sgd", bytes_per_value)
    if not backward:
        parts = {k: v for k, v in parts.items() if k in ("parameters", "activations")}
    return {k: v for k, v in parts.items() if v or k == "parameters"}


def fitting_batch(report: Report, wanted: int, bytes_per_value: int = 4) -> int:
    """The largest batch, up to ``wanted``, whose forward activations fit in memory.

    ``batch = clamp(available // activations of one image, 1, wanted)``; ``wanted`` when
    the check is off or the memory available is unknown. Inference gives the same
    scores in any batch size, so evaluation shrinks its batches instead of failing.
    """
    if not checking():
        return wanted
    have = available_memory()
    if have is None:
        return wanted
    per_image = estimate(report, batch=1, optimizer=None, backward=False,
                         bytes_per_value=bytes_per_value)["activations"]
    return max(1, min(wanted, have // max(per_image, 1)))
