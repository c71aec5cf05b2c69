"""Benchmark the NumPy engine against PyTorch (CPU) in the same process.

Run with ``python benchmarks/bench_engine.py [--threads N]`` (not part of pytest).

* conv2d forward+backward, N=64, C=16, 32x32, 32 filters 3x3, pad 1, float32
  (target: within 2x of torch);
* 2x2 max pooling (stride 2) forward+backward on the same input;
* GEMM efficiency: FLOP/s of the conv layer (2*F*K*P per GEMM, K = C*HH*WW,
  P = N*out_h*out_w) over NumPy's plain matmul FLOP/s on the same shapes.

Both libraries run with the same thread count: torch is set to the number
of threads of NumPy's BLAS (read with threadpoolctl when installed).
Timings are medians of several repeats after a warm-up; NumPy and torch
run in alternating blocks so that load from other processes hits both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

try:  # run from a checkout without installing
    import cnnspec.engine  # noqa: F401
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnspec.engine.functional.conv import conv2d_backward, conv2d_forward
from cnnspec.engine.functional.pool import max_pool2d_backward, max_pool2d_forward
from cnnspec.engine.im2col import im2col

REPEATS = 15
N, C, H, W, F, K = 64, 16, 32, 32, 32, 3


def median_ms(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    """Median wall time of ``fn()`` in milliseconds, after two warm-up calls."""
    fn()
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def backward_ms(make_cache: Callable[[], object], dout: np.ndarray) -> float:
    """Median time of conv2d_backward alone (each cache serves one backward)."""
    times = []
    for i in range(REPEATS + 2):
        cache = make_cache()
        start = time.perf_counter()
        conv2d_backward(dout, cache)
        if i >= 2:  # warm-up
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def paired_ms(
    ours: Callable[[], object],
    theirs: Callable[[], object] | None,
    repeats: int = REPEATS,
    rounds: int = 3,
) -> tuple[float, float | None]:
    """Median times of two functions, measured in alternating blocks.

    Blocks, not call-by-call alternation: OpenBLAS and OpenMP worker threads
    spin for a while after each call and would slow the other library down.
    A short pause separates the blocks; several rounds spread the load of
    other processes on the machine over both libraries.
    """
    if theirs is None:
        return median_ms(ours, repeats), None
    a: list[float] = []
    b: list[float] = []
    per_round = max(1, repeats // rounds)
    for _ in range(rounds):
        for fn, sink in ((ours, a), (theirs, b)):
            time.sleep(0.2)
            fn()
            fn()  # warm-up
            for _ in range(per_round):
                start = time.perf_counter()
                fn()
                sink.append(time.perf_counter() - start)
    return statistics.median(a) * 1e3, statistics.median(b) * 1e3


def blas_threads() -> tuple[int, str]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit NumPy's BLAS (via threadpoolctl) and torch to this many threads",
    )
    args = parser.parse_args()
    if args.threads is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ModuleNotFoundError:
            sys.exit("--threads needs threadpoolctl")
        with threadpool_limits(limits=args.threads, user_api="blas"):
            run()
    else:
        run()


def run() -> None:
    threads, blas = blas_threads()
    print(f"NumPy {np.__version__}, BLAS {blas}, {threads} thread(s)")
    if hasattr(os, "getloadavg"):
        print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if var in os.environ:
            print(f"  {var}={os.environ[var]}")
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

    fwd, t_fwd = paired_ms(ours_conv_fwd, torch_conv_fwd)
    bwd = backward_ms(lambda: conv2d_forward(x, w, b, padding=1)[1], dout)
    both, t_both = paired_ms(ours_conv, torch_conv)
    pool_fwd, t_pool_fwd = paired_ms(ours_pool_fwd, torch_pool_fwd)
    pool_both, t_pool_both = paired_ms(ours_pool, torch_pool)

    rows = [
        ("conv 3x3 forward", fwd, t_fwd),
        ("conv 3x3 backward", bwd, None),
        ("conv 3x3 forward+backward", both, t_both),
        ("max pool 2x2 forward", pool_fwd, t_pool_fwd),
        ("max pool 2x2 forward+backward", pool_both, t_pool_both),
    ]
    print(f"\ninput N={N} C={C} {H}x{W}, conv {F} filters {K}x{K} pad 1, float32")
    print(f"{'op':32s} {'numpy ms':>10s} {'torch ms':>10s} {'numpy/torch':>12s}")
    for name, ours, theirs in rows:
        t_txt = f"{theirs:10.2f}" if theirs is not None else f"{'-':>10s}"
        r_txt = f"{ours / theirs:11.2f}x" if theirs is not None else f"{'-':>12s}"
        print(f"{name:32s} {ours:10.2f} {t_txt} {r_txt}")

    # GEMM efficiency -------------------------------------------------------
    # The three GEMMs of the layer on the operands the layer really uses
    # (im2col columns, transposed views), against np.matmul on fresh
    # C-contiguous random matrices of the same shapes. Both write into
    # preallocated outputs, so page faults of new arrays do not count.
    cols = im2col(x, (K, K), padding=(1, 1, 1, 1))  # (C*HH*WW, P)
    k_rows, p = cols.shape
    w2d = w.reshape(F, k_rows)
    dout2d = np.ascontiguousarray(dout.transpose(1, 0, 2, 3)).reshape(F, p)
    flops = 2.0 * F * k_rows * p  # each of the three GEMMs

    def rand(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    gemms = [
        ("forward  W @ cols", w2d, cols, rand(F, k_rows), rand(k_rows, p)),
        ("dW  dout @ cols^T", dout2d, cols.T, rand(F, p), rand(p, k_rows)),
        ("dcols  W^T @ dout", w2d.T, dout2d, rand(k_rows, F), rand(F, p)),
    ]
    print(f"\nGEMM efficiency ({flops / 1e9:.3f} GFLOP each; GFLOP/s)")
    print(f"{'GEMM':20s} {'shape':>26s} {'in conv':>9s} {'plain':>9s} {'ratio':>7s}")
    total_conv = total_plain = 0.0
    for name, a_conv, b_conv, a_plain, b_plain in gemms:
        buf = np.empty((a_conv.shape[0], b_conv.shape[1]), dtype=np.float32)
        t_conv = median_ms(lambda a=a_conv, b=b_conv, o=buf: np.matmul(a, b, out=o))
        t_plain = median_ms(lambda a=a_plain, b=b_plain, o=buf: np.matmul(a, b, out=o))
        total_conv += t_conv
        total_plain += t_plain
        shape = f"({a_conv.shape[0]}x{a_conv.shape[1]})@({b_conv.shape[0]}x{b_conv.shape[1]})"
        print(
            f"{name:20s} {shape:>26s} {flops / t_conv / 1e6:9.1f} {flops / t_plain / 1e6:9.1f}"
            f" {t_plain / t_conv:7.2f}"
        )
    print(
        f"whole layer fwd+bwd: {3 * flops / both / 1e6:.1f} GFLOP/s = "
        f"{total_plain / both:.2f} of plain matmul (the rest is im2col, col2im, copies)"
    )
    if hasattr(os, "getloadavg"):
        print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if t_both is not None:
        verdict = "met" if both <= 2 * t_both else "NOT met"
        print(f"\ntarget conv fwd+bwd within 2x of torch: {both / t_both:.2f}x ({verdict})")


if __name__ == "__main__":
    main()
