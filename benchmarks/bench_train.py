"""Benchmark ``cnnspec train`` as a user runs it: LeNet-5 on the embedded digits, defaults.

Run with ``python benchmarks/bench_train.py [--seeds 0 1 2] [--threads 2]`` (not part of
pytest). Target: test accuracy >= 97% in under 2 minutes of wall time on 2 cores.
``--spec specs/mobilenet-digits.yaml --max-seconds 900`` times the MobileNet-style network
(depthwise separable convolutions, Hardswish, squeeze-and-excitation) the same way.

Each seed runs the command ``cnnspec train specs/lenet5.yaml --seed S`` in a fresh
process (so the time includes start-up, importing scikit-learn and resizing the digits
to 32x32, plus plotting the curves) and then reads the test accuracy of ``best.npz`` back
with ``cnnspec evaluate -q``. ``--threads`` caps the BLAS threads through the usual
environment variables, which is how a 2-core machine behaves.

With MNIST files present (``cnnspec data download mnist``; ``--mnist DIR``) it also runs
``cnnspec train specs/lenet5.yaml --data mnist:DIR --resize --method pad --epochs 10``
(28x28 digits padded to 32x32, as in the paper) -- the LeNet-5 paper reports 0.95% test
error on MNIST.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "lenet5.yaml"
TARGET_ACCURACY = 0.97
TARGET_SECONDS = 120.0
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cnnspec(*args: str, env: dict[str, str]) -> str:
    """Run the command line in a fresh process; its stdout (errors end the benchmark)."""
    command = [sys.executable, "-m", "cnnspec.cli.main", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def run_once(spec: Path, out: Path, env: dict[str, str], *extra: str) -> tuple[float, float]:
    """``(seconds, test accuracy)`` of one ``cnnspec train spec`` run into ``out``."""
    start = time.perf_counter()
    best = cnnspec("train", str(spec), "--out", str(out), "-q", *extra, env=env).strip()
    seconds = time.perf_counter() - start
    # evaluate reads the data set and its fitting from the checkpoint
    return seconds, float(cnnspec("evaluate", best, "-q", env=env))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads (0: leave as is)")
    parser.add_argument("--mnist", default=None, metavar="DIR",
                        help="MNIST IDX folder: also train there (10 epochs)")
    parser.add_argument("--spec", type=Path, default=SPEC, help="the spec to train")
    parser.add_argument("--max-seconds", type=float, default=TARGET_SECONDS,
                        help="wall-time target per run")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if args.threads:
        env.update({name: str(args.threads) for name in THREAD_VARIABLES})
    print(f"{args.spec.name} on the embedded digits, cnnspec train defaults, "
          f"{args.threads or 'default'} BLAS threads, {os.cpu_count()} CPUs")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            seconds, accuracy = run_once(args.spec, Path(tmp) / f"seed{seed}", env, "--seed",
                                         str(seed))
            ok = accuracy >= TARGET_ACCURACY and seconds < args.max_seconds
            results.append(ok)
            print(f"seed {seed}: test accuracy {accuracy:.2%} in {seconds:.1f} s wall "
                  f"({'meets' if ok else 'MISSES'} >= {TARGET_ACCURACY:.0%} in "
                  f"< {args.max_seconds:.0f} s)", flush=True)
        if args.mnist:
            seconds, accuracy = run_once(args.spec, Path(tmp) / "mnist", env, "--data",
                                         f"mnist:{args.mnist}", "--resize", "--method", "pad",
                                         "--epochs", "10")
            print(f"MNIST: test accuracy {accuracy:.2%} (error {1 - accuracy:.2%}; the paper: "
                  f"0.95%) in {seconds:.1f} s")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
