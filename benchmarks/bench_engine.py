"""Benchmark the NumPy engine against PyTorch (CPU) in the same process.

Run with ``python benchmarks/bench_engine.py [--threads N] [--repeats R]``
(not part of pytest).

* conv2d forward+backward, N=64, C=16, 32x32, 32 filters 3x3, pad 1, float32
  (target: within 2x of torch);
* 2x2 max pooling (stride 2) forward+backward on the same input;
* GEMM efficiency: FLOP/s of each of the conv layer's three GEMMs
  (2*F*K*P flops, K = C*HH*WW, P = N*out_h*out_w) on the operands the layer
  really uses, over NumPy's plain matmul FLOP/s on the same shapes.

Both libraries run with the same thread count: torch is set to the number
of threads of NumPy's BLAS (read with threadpoolctl when installed, which
``--threads`` also uses to limit it). Each timing is reported as the median
and the best of several repeats after a warm-up; NumPy and torch run in
alternating blocks so that load from other processes hits both alike. On a
shared machine the best-of figures are the steadier ones.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

try:  # run from a checkout without installing
    import cnnspec.engine  # noqa: F401
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import wall_times

from cnnspec.engine.functional.conv import conv2d_backward, conv2d_forward
from cnnspec.engine.functional.pool import max_pool2d_backward, max_pool2d_forward
from cnnspec.engine.im2col import im2col

N, C, H, W, F, K = 64, 16, 32, 32, 32, 3


class Timing(NamedTuple):
    """Median and best wall time in milliseconds."""

    median: float
    best: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timing:
        return cls(statistics.median(seconds) * 1e3, min(seconds) * 1e3)


def paired(
    ours: Callable[[], object], theirs: Callable[[], object] | None, repeats: int, rounds: int = 3
) -> tuple[Timing, Timing | None]:
    """Time two functions in alternating blocks.

    Blocks, not call-by-call alternation: OpenBLAS and OpenMP worker threads
    spin for a while after each call and would slow the other library down.
    A short pause separates the blocks; several rounds spread the load of
    other processes on the machine over both libraries.
    """
    if theirs is None:
        return Timing.of(wall_times(ours, repeats)), None
    a: list[float] = []
    b: list[float] = []
    per_round = max(1, repeats // rounds)
    for _ in range(rounds):
        for fn, sink in ((ours, a), (theirs, b)):
            time.sleep(0.2)
            sink.extend(wall_times(fn, per_round))
    return Timing.of(a), Timing.of(b)


def blas_threads() -> tuple[int, str]:
    """NumPy's BLAS thread count and a description of the library."""
    try:
        from threadpoolctl import threadpool_info
    except ModuleNotFoundError:
        return os.cpu_count() or 1, "threadpoolctl not installed; assuming all cores"
    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not infos:
        return os.cpu_count() or 1, "no BLAS found by threadpoolctl"
    info = infos[0]
    desc = f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture')})"
    return int(info["num_threads"]), desc


def load() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def run(repeats: int) -> None:
    threads, blas = blas_threads()
    print(f"NumPy {np.__version__}, BLAS {blas}, {threads} thread(s)")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if var in os.environ:
            print(f"  {var}={os.environ[var]}")
    print(f"load average at start: {load()}")
    try:
        import torch
    except ModuleNotFoundError:
        torch = None
        print("torch not installed: NumPy figures only")
    else:
        torch.set_num_threads(threads)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    w = rng.standard_normal((F, C, K, K), dtype=np.float32)
    b = rng.standard_normal(F, dtype=np.float32)
    out, _ = conv2d_forward(x, w, b, padding=1)
    dout = rng.standard_normal(out.shape, dtype=np.float32)
    pooled, _ = max_pool2d_forward(x, 2)
    dpool = rng.standard_normal(pooled.shape, dtype=np.float32)

    def ours_conv_fwd() -> None:
        conv2d_forward(x, w, b, padding=1)

    def ours_conv() -> None:
        conv2d_backward(dout, conv2d_forward(x, w, b, padding=1)[1])

    def ours_pool_fwd() -> None:
        max_pool2d_forward(x, 2)

    def ours_pool() -> None:
        max_pool2d_backward(dpool, max_pool2d_forward(x, 2)[1])

    torch_conv_fwd = torch_conv = torch_pool_fwd = torch_pool = None
    if torch is not None:
        xt = torch.from_numpy(x).requires_grad_()
        wt = torch.from_numpy(w).requires_grad_()
        bt = torch.from_numpy(b).requires_grad_()
        dt = torch.from_numpy(dout)
        dpt = torch.from_numpy(dpool)
        fn = torch.nn.functional

        def torch_conv_fwd() -> None:
            with torch.no_grad():
                fn.conv2d(xt, wt, bt, padding=1)

        def torch_conv() -> None:
            xt.grad = wt.grad = bt.grad = None
            fn.conv2d(xt, wt, bt, padding=1).backward(dt)

        def torch_pool_fwd() -> None:
            with torch.no_grad():
                fn.max_pool2d(xt, 2)

        def torch_pool() -> None:
            xt.grad = None
            fn.max_pool2d(xt, 2).backward(dpt)

    rows = [
        ("conv 3x3 forward", *paired(ours_conv_fwd, torch_conv_fwd, repeats)),
        ("conv 3x3 forward+backward", *paired(ours_conv, torch_conv, repeats)),
        ("max pool 2x2 forward", *paired(ours_pool_fwd, torch_pool_fwd, repeats)),
        ("max pool 2x2 forward+backward", *paired(ours_pool, torch_pool, repeats)),
    ]
    print(f"\ninput N={N} C={C} {H}x{W}, conv {F} filters {K}x{K} pad 1, float32")
    print(f"{'':31s}   median over {repeats} runs        best of {repeats} runs")
    head = f"{'numpy':>7s} {'torch':>7s} {'ratio':>7s}"
    print(f"{'op':31s} {head}   {head}")
    for name, ours, theirs in rows:
        cells = [
            f"{ours.median:7.2f}",
            "      -",
            "      -",
            f"{ours.best:7.2f}",
            "      -",
            "      -",
        ]
        if theirs is not None:
            cells[1], cells[4] = f"{theirs.median:7.2f}", f"{theirs.best:7.2f}"
            cells[2] = f"{ours.median / theirs.median:6.2f}x"
            cells[5] = f"{ours.best / theirs.best:6.2f}x"
        print(f"{name:31s} {cells[0]} {cells[1]} {cells[2]}   {cells[3]} {cells[4]} {cells[5]}")
    print("(times in ms; ratio = numpy / torch)")

    # GEMM efficiency -------------------------------------------------------
    # The three GEMMs of the layer on the operands the layer really uses
    # (im2col columns, transposed views), against np.matmul on fresh
    # C-contiguous random matrices of the same shapes. Both write into
    # preallocated outputs, so page faults of new arrays do not count.
    cols = im2col(x, (K, K), padding=(1, 1, 1, 1))  # (C*HH*WW, P)
    k_rows, p = cols.shape
    w2d = w.reshape(F, k_rows)  # (F, C*HH*WW)
    dout2d = np.ascontiguousarray(dout.transpose(1, 0, 2, 3)).reshape(F, p)  # (F, P)
    flops = 2.0 * F * k_rows * p  # each of the three GEMMs

    def rand(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    gemms = [
        ("forward  W @ cols", w2d, cols, rand(F, k_rows), rand(k_rows, p)),
        ("dW  dout @ cols^T", dout2d, cols.T, rand(F, p), rand(p, k_rows)),
        ("dcols  W^T @ dout", w2d.T, dout2d, rand(k_rows, F), rand(F, p)),
    ]
    print(f"\nGEMM efficiency ({flops / 1e9:.3f} GFLOP each), best of {repeats}, GFLOP/s")
    print(f"{'GEMM':20s} {'shape':>26s} {'in conv':>9s} {'plain':>9s} {'ratio':>7s}")
    for name, a_conv, b_conv, a_plain, b_plain in gemms:
        buf = np.empty((a_conv.shape[0], b_conv.shape[1]), dtype=np.float32)
        t_conv, t_plain = paired(
            lambda a=a_conv, b=b_conv, o=buf: np.matmul(a, b, out=o),
            lambda a=a_plain, b=b_plain, o=buf: np.matmul(a, b, out=o),
            repeats,
        )
        shape = f"({a_conv.shape[0]}x{a_conv.shape[1]})@({b_conv.shape[0]}x{b_conv.shape[1]})"
        conv_rate, plain_rate = flops / t_conv.best / 1e6, flops / t_plain.best / 1e6
        print(
            f"{name:20s} {shape:>26s} {conv_rate:9.1f} {plain_rate:9.1f} "
            f"{conv_rate / plain_rate:7.2f}"
        )
    layer = rows[1][1]
    print(
        f"whole conv layer fwd+bwd (best): {3 * flops / layer.best / 1e6:.1f} GFLOP/s "
        "(the rest of the time is im2col, col2im and layout copies)"
    )
    print(f"load average at end: {load()}")
    torch_both = rows[1][2]
    if torch_both is not None:
        ratio = layer.median / torch_both.median
        verdict = "met" if ratio <= 2 else "NOT met"
        print(f"\ntarget conv fwd+bwd within 2x of torch (median): {ratio:.2f}x ({verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit NumPy's BLAS (via threadpoolctl) and torch to this many threads",
    )
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per measurement")
    args = parser.parse_args()
    if args.threads is None:
        run(args.repeats)
        return
    try:
        from threadpoolctl import threadpool_limits
    except ModuleNotFoundError:
        sys.exit("--threads needs threadpoolctl")
    with threadpool_limits(limits=args.threads, user_api="blas"):
        run(args.repeats)


if __name__ == "__main__":
    main()
