"""A LeNet-5 training epoch on the digits, on an idle machine and beside two busy processes.

Run: ``python benchmarks/bench_loaded.py [--rounds 5] [--inherit]``. Target: the loaded
epoch takes at most 2x the idle one (``cnnspec train`` used to take about 16x on a busy
2-core machine, its BLAS threads waiting for cores at every product).

Each round times a training run (``cnnspec.engine.train.train`` with ``epochs=3``: the
mini-batch steps, the validation passes and the checkpoint writes), per epoch, first
alone, then with two CPU-bound processes (``while True: pass``) started beside it,
alternating, so both see the same background load from anything else on the machine.
On 2 cores three busy processes share them, so 1.5x is the fair share. Medians over
rounds. ``--inherit`` also times the old behaviour, every product on all cores (the
thread rule of :mod:`cnnspec.engine.blas` switched off), for comparison. In each round a
single-threaded pure-Python loop (the control) is timed right after the epoch, alone and
loaded: its ratio is what the same load does to any one-thread program (on an otherwise
idle 2-core machine 1.5; more while other users' processes share the cores).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 2.0


@contextmanager
def busy_processes(count: int):
    """``count`` CPU-bound Python processes running for the duration of the block."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    time.sleep(0.5)  # past their start-up: the load is on when the epoch starts
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


@contextmanager
def inherited_threads(enabled: bool):
    """With ``enabled``, every product runs on all cores (the rule off), as NumPy's default."""
    from cnnspec.engine import blas

    rule, free = blas.gemm_threads, blas.BLAS.free_cores
    if enabled:
        blas.gemm_threads = lambda m, n, k, limit: limit
        blas.BLAS.free_cores = lambda: blas.BLAS.limit  # type: ignore[method-assign]
    try:
        yield
    finally:
        blas.gemm_threads = rule
        blas.BLAS.free_cores = free  # type: ignore[method-assign]


EPOCHS = 3  # per measurement: one digits epoch is ~0.15 s, too short to time alone


def epoch_seconds(network, tmp: Path, tag: str) -> float:
    """Seconds per training epoch of ``network`` on the digits (``cnnspec train`` defaults)."""
    from cnnspec.engine.train import TrainConfig, train

    outcome = train(network, TrainConfig(epochs=EPOCHS), out_dir=tmp / tag, overwrite=True)
    return outcome.result.seconds / EPOCHS


def control_seconds() -> float:
    """Seconds of a fixed single-threaded pure-Python loop: what the machine's load alone does."""
    start = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i * i
    return time.perf_counter() - start


class Round(NamedTuple):
    """One round's seconds: the epoch and the control loop, idle and loaded."""

    idle: float
    loaded: float
    control_idle: float
    control_loaded: float


def measure(network, rounds: int, inherit: bool) -> list[Round]:
    """``rounds`` rounds of: epoch and control alone, then both beside two busy processes.

    The control runs right after the epoch in the same state of the machine, so a
    round's ``loaded / idle`` can be read against what the same load did to a plain
    one-thread program (other users' processes come and go on a shared machine).
    """
    done = []
    with tempfile.TemporaryDirectory() as tmp, inherited_threads(inherit):
        epoch_seconds(network, Path(tmp), "warm-up")  # data preparation, caches, page faults
        for r in range(rounds):
            idle = epoch_seconds(network, Path(tmp), f"idle{r}")
            control_idle = control_seconds()
            with busy_processes(2):
                loaded = epoch_seconds(network, Path(tmp), f"loaded{r}")
                control_loaded = control_seconds()
            done.append(Round(idle, loaded, control_idle, control_loaded))
    return done


def report(label: str, done: list[Round]) -> None:
    """Print medians, the epoch's ratio, and the control's ratio over the same rounds."""
    idle = statistics.median(r.idle for r in done)
    loaded = statistics.median(r.loaded for r in done)
    ratios = [r.loaded / r.idle for r in done]
    controls = [r.control_loaded / r.control_idle for r in done]
    ratio = loaded / idle
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"{label:26s} idle {idle:6.3f} s   with 2 busy processes {loaded:6.3f} s   "
          f"ratio {ratio:5.2f} ({verdict} <= {TARGET_RATIO:g}); control loop's ratio in the "
          f"same rounds {statistics.median(controls):5.2f}", flush=True)
    print(f"{'':26s} per round: epoch {', '.join(f'{x:.2f}' for x in ratios)}; "
          f"control {', '.join(f'{x:.2f}' for x in controls)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--inherit", action="store_true",
                        help="also time every product on all cores (the old behaviour)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import cnnspec
    from cnnspec.engine.blas import BLAS

    network = cnnspec.load(str(ROOT / "specs" / "lenet5.yaml")).network
    print(f"LeNet-5 epoch on the digits (batch 64, cnnspec train defaults); thread limit "
          f"{BLAS.limit}; median of {args.rounds} alternating rounds")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    cases = [("threads per product", False)] + ([("all cores, every product", True)]
                                               if args.inherit else [])
    for label, inherit in cases:
        report(label, measure(network, args.rounds, inherit))
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
