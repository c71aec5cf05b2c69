"""Whole-network speed and memory of the NumPy engine, against PyTorch on the CPU.

Run: ``python benchmarks/bench_models.py``. Targets (the engine issue):

* a LeNet-5 training step (batch 64, 32x32x1) and a VGG-style CIFAR-10 step
  (batch 64, 32x32x3) within 2x of PyTorch, same thread count, same shapes;
* resnet50 forward at batch 1, 224x224: runs, and its traced peak memory is
  within 1.5x of the analysis' parameter + activation estimate.

Times are medians over repeats (the machine is noisy); ratios are NumPy / torch.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

import numpy as np
from timing import median_seconds

import cnnspec
from cnnspec.engine.profile import profile

LENET = "Conv(5x5,6)-ReLU-MPool(2)-Conv(5x5,16)-ReLU-MPool(2)-FC(120)-ReLU-FC(84)-ReLU-FC(10)"
VGG_CIFAR = ("[Conv(3x3,32,p=1)-ReLU-Conv(3x3,32,p=1)-ReLU-MPool(2)]-"
             "[Conv(3x3,64,p=1)-ReLU-Conv(3x3,64,p=1)-ReLU-MPool(2)]-"
             "[Conv(3x3,128,p=1)-ReLU-MPool(2)]-FC(256)-ReLU-FC(10)")


def numpy_step(spec: str, shape: str, batch: int):
    model = cnnspec.load(spec, input_shape=shape).build(seed=0)
    from cnnspec.engine.optim import make_optimizer

    opt = make_optimizer("sgd", 0.01)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *model.input_shape)).astype(np.float32)
    y = rng.integers(0, 10, batch)

    def step() -> None:
        _, grads = model.loss_and_grads(x, y, input_grad=False)  # as torch: no grad for x
        opt.step(model.params, grads)

    return step


def torch_step(spec: str, shape: str, batch: int):
    import torch

    torch.manual_seed(0)
    report = cnnspec.load(spec, input_shape=shape).report()
    layers: list = []
    for row in report.leaves():
        if row.kind == "conv":
            k = int(row.hyper.split("x")[0])
            layers.append(torch.nn.Conv2d(row.input[2], row.output[2], k,
                                          padding=(k - 1) // 2 if row.output[0] == row.input[0]
                                          else 0))
        elif row.kind == "relu":
            layers.append(torch.nn.ReLU())
        elif row.kind == "pool":
            layers.append(torch.nn.MaxPool2d(2))
        elif row.kind == "fc":
            if len(row.input) == 3:
                layers.append(torch.nn.Flatten())
            layers.append(torch.nn.Linear(int(np.prod(row.input)), row.output[0]))
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    h, w, c = report.input
    x = torch.randn(batch, c, h, w)
    y = torch.randint(0, 10, (batch,))

    def step() -> None:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    return step


def time_in_subprocess(side: str, spec: str, shape: str, threads: int | None) -> float:
    """Median step time of one library, measured in a fresh process of its own.

    Separate processes keep NumPy's BLAS threads and torch's thread pool from
    competing, which skews whichever runs second in a shared process.
    """
    command = [sys.executable, __file__, "--one", side, spec, shape, str(threads or 0)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def compare_steps(processes: int = 3) -> None:
    """Median over ``processes`` fresh processes per library, alternating NumPy and torch."""
    try:
        import torch
    except ImportError:
        torch = None
    threads = None
    try:
        from threadpoolctl import threadpool_info

        threads = max((i.get("num_threads", 1) for i in threadpool_info()), default=None)
    except ImportError:
        pass
    print(f"BLAS threads: {threads}; torch: {torch.__version__ if torch else 'not installed'}; "
          f"median of {processes} processes per library")
    for name, spec, shape in (("LeNet-5 step, batch 64", LENET, "32x32x1"),
                              ("VGG-style CIFAR-10 step, batch 64", VGG_CIFAR, "32x32x3")):
        ours_runs, ref_runs = [], []
        for _ in range(processes):
            ours_runs.append(time_in_subprocess("numpy", spec, shape, threads))
            if torch is not None:
                ref_runs.append(time_in_subprocess("torch", spec, shape, threads))
        ours = statistics.median(ours_runs)
        line = f"{name:36s} NumPy {ours * 1e3:8.1f} ms"
        if ref_runs:
            ref = statistics.median(ref_runs)
            ratios = ", ".join(f"{o / r:.2f}" for o, r in zip(ours_runs, ref_runs, strict=True))
            line += (f"   torch {ref * 1e3:8.1f} ms   ratio {ours / ref:5.2f}  (target <= 2; "
                     f"per process pair: {ratios})")
        print(line)


def resnet50_memory() -> None:
    try:
        spec = cnnspec.load("resnet50")
    except Exception as exc:  # the zoo spec may be absent in a partial checkout
        print(f"resnet50: not available ({exc})")
        return
    model = spec.build(seed=0)
    result = profile(model, 1, backward=False)
    estimate = result.estimate_bytes
    print(f"resnet50 forward, batch 1: {result.forward_seconds * 1e3:.0f} ms; peak traced "
          f"{result.peak_bytes / 2**20:.1f} MiB vs estimate {estimate / 2**20:.1f} MiB "
          f"(ratio {result.peak_bytes / estimate:.2f}, target <= 1.5)")


def one(side: str, spec: str, shape: str, threads: int) -> None:
    """Print the median step time of one library (run by :func:`time_in_subprocess`)."""
    if side == "torch":
        import torch

        if threads:
            torch.set_num_threads(threads)
        step = torch_step(spec, shape, 64)
    else:
        step = numpy_step(spec, shape, 64)
    print(median_seconds(step, repeats=11))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        compare_steps()
        resnet50_memory()
