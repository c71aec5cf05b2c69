"""Benchmark depthwise convolution (groups = C) against PyTorch on the CPU.

Run with ``python benchmarks/bench_depthwise.py [--repeats R] [--threads T]`` (not part of
pytest). Shape: N=32, C=96, 56x56, 3x3, stride 1, pad 1, float32 (a MobileNetV2 stage).

Times the forward pass and forward + backward of cnnspec's per-tap kernel
(``cnnspec.engine.functional.depthwise``), of the grouped im2col convolution it
replaces, and of ``torch.nn.functional.conv2d(..., groups=C)`` at the same thread
count; reports medians and the ratio cnnspec / torch. Libraries alternate in
blocks so that load from other processes hits both alike.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

try:  # run from a checkout without installing
    import cnnspec.engine  # noqa: F401
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import median_seconds

from cnnspec.engine.functional.conv import conv2d_backward, conv2d_forward
from cnnspec.engine.functional.depthwise import (
    depthwise_conv2d_backward,
    depthwise_conv2d_forward,
)

N, C, H, W, K = 32, 96, 56, 56, 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    w = rng.standard_normal((C, 1, K, K), dtype=np.float32)
    b = rng.standard_normal(C, dtype=np.float32)
    pad = (1, 1, 1, 1)
    dout = rng.standard_normal((N, C, H, W), dtype=np.float32)

    def ours_forward() -> None:
        depthwise_conv2d_forward(x, w, b, padding=pad)

    def ours_step() -> None:
        _, cache = depthwise_conv2d_forward(x, w, b, padding=pad)
        depthwise_conv2d_backward(dout, cache)

    def im2col_step() -> None:
        _, cache = conv2d_forward(x, w, b, padding=1, groups=C)
        conv2d_backward(dout, cache)

    tx = torch.from_numpy(x).requires_grad_(True)
    tw = torch.from_numpy(w).requires_grad_(True)
    tb = torch.from_numpy(b).requires_grad_(True)
    tdout = torch.from_numpy(dout)

    def torch_forward() -> None:
        with torch.no_grad():
            torch.nn.functional.conv2d(tx, tw, tb, padding=1, groups=C)

    def torch_step() -> None:
        out = torch.nn.functional.conv2d(tx, tw, tb, padding=1, groups=C)
        out.backward(tdout)

    results = {}
    for name, fn in (("cnnspec forward", ours_forward), ("torch forward", torch_forward),
                     ("cnnspec forward+backward", ours_step), ("torch forward+backward",
                                                               torch_step),
                     ("grouped im2col forward+backward", im2col_step)):
        results[name] = median_seconds(fn, args.repeats, warmup=1)
        print(f"{name:34s} {results[name] * 1000:9.1f} ms (median of {args.repeats})")
    print(f"forward ratio cnnspec/torch:          "
          f"{results['cnnspec forward'] / results['torch forward']:.1f}x")
    print(f"forward+backward ratio cnnspec/torch: "
          f"{results['cnnspec forward+backward'] / results['torch forward+backward']:.1f}x")
    gain = results["grouped im2col forward+backward"] / results["cnnspec forward+backward"]
    print(f"per-tap over grouped im2col (f+b):    {gain:.1f}x faster")
    print(f"N={N}, C={C}, {H}x{W}, {K}x{K}, pad 1, float32, {args.threads} thread(s)")


if __name__ == "__main__":
    main()
