"""Speed of the spine: CLI start-up and analysis time as specs grow.

Run: ``python benchmarks/bench_analysis.py``. Prints medians over repeats;
the targets are from the core issue: ``cnnspec --help`` at most 150 ms over
``python -c pass``, and a 10,000-layer spec analysed in under 1 s, growing
linearly.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time


def median_seconds(command: list[str], repeats: int = 15) -> float:
    """Median wall time of running ``command`` to completion."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def startup() -> None:
    exe = shutil.which("cnnspec")
    bare = median_seconds([sys.executable, "-c", "pass"])
    helped = median_seconds(
        [exe, "--help"] if exe else [sys.executable, "-m", "cnnspec.cli.main", "--help"]
    )
    print(f"python -c pass      median {bare * 1000:7.1f} ms")
    print(f"cnnspec --help      median {helped * 1000:7.1f} ms")
    print(f"  overhead          {1000 * (helped - bare):7.1f} ms  (target <= 150 ms)")


def generated(layers: int) -> str:
    """A valid string of ``layers`` layers: alternating padded 3x3 convs and ReLUs."""
    return "[Conv(3x3, 8, p=1)-ReLU] x " + str(layers // 2)


def analysis_scaling() -> None:
    import cnnspec

    print("layers   load+analyse (median of 5)   per layer")
    for n in (1_000, 2_000, 5_000, 10_000):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            cnnspec.load(generated(n), input_shape="32x32x3").report()
            times.append(time.perf_counter() - start)
        med = statistics.median(times)
        print(f"{n:6d}   {med * 1000:10.1f} ms                {med / n * 1e6:6.1f} us")
    flat = "-".join(["Conv(3x3, 8, p=1)", "ReLU"] * 5000)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        cnnspec.load(flat, input_shape="32x32x3").report()
        times.append(time.perf_counter() - start)
    print(
        f"10,000 written out (no repeat): {statistics.median(times) * 1000:.1f} ms "
        "(target < 1000 ms)"
    )


if __name__ == "__main__":
    startup()
    analysis_scaling()
