"""How many of this process's cores other processes are using now, read from /proc.

Room: engine; imports the standard library only.

The BLAS thread rule (:mod:`cnnspec.engine.blas`) needs the cores that are free
for a second thread. The 1-minute load average answers the wrong question: it
counts this very process (and any threads it had a minute ago), and lags a
finished process by minutes. This module measures what matters, the CPU time
*other* processes used on the cores this process may run on:

    others = (busy(t1) - busy(t0) - (own(t1) - own(t0))) / (t1 - t0)     [cores]
    free   = clamp(round(cores - others), 1, cores)

``busy`` is the non-idle time (user, nice, system, irq, softirq, steal; not idle
or iowait) summed over the ``cpuN`` lines of ``/proc/stat`` for the cores in this
process's affinity, in seconds (``/proc/stat`` counts in ``SC_CLK_TCK`` ticks);
``own`` is this process's CPU time, all threads (``time.process_time``). Both are
read at the two ends of an interval of at least ``MIN_INTERVAL`` seconds.

When no earlier reading is recent enough (the first product of a process, or
the last reading over ``MAX_INTERVAL`` seconds ago), the count of runnable
threads stands in: ``procs_running`` of ``/proc/stat`` minus this process's
threads in state ``R`` (``/proc/self/task/*/stat``). Where ``/proc`` is missing
(not Linux), the load average does: ``others = load - 1``.

Examples on 2 cores: idle machine, others = 0, free = 2; two busy processes
beside a 1-thread product, others = 2 (or 1.0 if we held both cores while they
shared them), free = 1; one busy process, others = 1, free = 1.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

MIN_INTERVAL = 0.25
MAX_INTERVAL = 5.0
# /proc/stat cpu fields: user nice system idle iowait irq softirq steal (guest is in user)
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)

__all__ = ["CpuLoad", "CpuSample", "free_cores", "others_from_samples", "read_sample"]


class CpuSample(NamedTuple):
    """One reading: wall time, busy seconds of our cores, our own CPU seconds, runnable others."""

    wall: float
    busy: float
    own: float
    running_others: int


def free_cores(cores: int, others: float) -> int:
    """``clamp(round(cores - others), 1, cores)``: cores not held by other processes."""
    return min(cores, max(1, int(cores - others + 0.5)))


def others_from_samples(before: CpuSample, after: CpuSample) -> float:
    """Cores other processes used between two readings.

    ``(busy1 - busy0 - (own1 - own0)) / (wall1 - wall0)``, at least 0.
    """
    elapsed = after.wall - before.wall
    if elapsed <= 0:
        return float(after.running_others)
    return max(0.0, (after.busy - before.busy - (after.own - before.own)) / elapsed)


def busy_seconds(stat_lines: Iterable[str], cores: set[int], tick: float) -> float:
    """Non-idle seconds summed over the ``cpuN`` lines of ``/proc/stat`` with N in ``cores``."""
    total = 0
    for line in stat_lines:
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu":
            continue
        if int(name[3:]) not in cores:
            continue
        fields = rest.split()
        total += sum(int(fields[i]) for i in _BUSY_FIELDS if i < len(fields))
    return total * tick


def procs_running(stat_lines: Iterable[str]) -> int:
    """The ``procs_running`` count of ``/proc/stat`` (0 when absent)."""
    for line in stat_lines:
        if line.startswith("procs_running "):
            return int(line.split()[1])
    return 0


def own_running_threads(task_dir: Path = Path("/proc/self/task")) -> int:
    """Threads of this process in state ``R`` (at least 1: the one reading)."""
    running = 0
    for task in task_dir.iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:  # the thread ended between listing and reading
            continue
        if stat[stat.rindex(")") + 2] == "R":  # the name in parentheses may hold spaces
            running += 1
    return max(1, running)


def read_sample() -> CpuSample | None:
    """A :class:`CpuSample` from ``/proc``, or ``None`` where it cannot be read."""
    try:
        cores = os.sched_getaffinity(0)
        lines = Path("/proc/stat").read_text().splitlines()
        tick = 1.0 / os.sysconf("SC_CLK_TCK")
        others_now = procs_running(lines) - own_running_threads()
    except (AttributeError, OSError, ValueError):
        return None
    return CpuSample(time.monotonic(), busy_seconds(lines, cores, tick), time.process_time(),
                     max(0, others_now))


def load_average_others() -> float:
    """``load - 1`` from the 1-minute load average (this process counts 1); 0 if unknown."""
    try:
        return max(0.0, os.getloadavg()[0] - 1.0)
    except (AttributeError, OSError):
        return 0.0


class CpuLoad:
    """Other processes' use of our cores, from the latest readings (see the module docstring).

    ``sample`` reads the machine (injected in tests); :meth:`others` is refreshed at
    most every ``MIN_INTERVAL`` seconds and cached in between.
    """

    def __init__(self, sample: Callable[[], CpuSample | None] = read_sample,
                 fallback: Callable[[], float] = load_average_others) -> None:
        self._sample = sample
        self._fallback = fallback
        self._last: CpuSample | None = None
        self._others = 0.0
        self._checked = float("-inf")

    def others(self, now: float | None = None) -> float:
        """Cores other processes are using (refreshed at most every ``MIN_INTERVAL`` s)."""
        now = time.monotonic() if now is None else now
        if now - self._checked < MIN_INTERVAL:
            return self._others
        self._checked = now
        current = self._sample()
        if current is None:
            self._others = self._fallback()
            return self._others
        last = self._last
        if last is not None and MIN_INTERVAL <= current.wall - last.wall <= MAX_INTERVAL:
            self._others = others_from_samples(last, current)
        else:
            self._others = float(current.running_others)
        self._last = current
        return self._others
