"""Whole-network speed of the NumPy engine against PyTorch on the CPU, and its GEMM limit.

Run: ``python benchmarks/bench_models.py [--processes 3] [--threads 1 2] [--keep-env]``.

Four workloads, each at 1 and at 2 threads (cnnspec: ``cnnspec.set_threads``, the cap of
its per-product thread rule, which also leaves out cores other processes are using, and of
the shards a large batch is split into (:mod:`cnnspec.engine.shards`);
torch: ``torch.set_num_threads``). The load average is printed with each row:

* LeNet-5 training step, batch 64, 32x32x1 (SGD);
* a VGG-style CIFAR-10 training step, batch 64, 32x32x3 (SGD);
* resnet18 forward (inference), batch 8, 224x224x3;
* resnet50 forward (inference), batch 1, 224x224x3.

PyTorch runs the module ``cnnspec export --to pytorch`` writes for the same spec, so both
run the same layers (eager mode, NCHW, the default). Every measurement is the median step
time of a fresh process of its own (no shared thread pools), and the processes alternate
cnnspec, torch, cnnspec, torch, ... so both see the same load from the rest of the
machine; the table shows medians over processes and the ratio cnnspec / torch (<= 1.0:
cnnspec is the faster).

"limit" is the time of the workload's conv and FC matrix products alone, through the
same thread rule, on fresh arrays (:mod:`cnnspec.engine.gemm_limit`); "% of limit" is the
engine's time as a percentage of it (100% would be a step that is all GEMM).

The environment may pin OpenBLAS to an older kernel (``OPENBLAS_CORETYPE``) or a small
cache (``OPENBLAS_L2_SIZE``); the measuring processes run without both unless
``--keep-env`` is given. The kernel in use is printed (threadpoolctl).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from timing import median_seconds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cnnspec  # noqa: E402

LENET = "Conv(5x5,6)-ReLU-MPool(2)-Conv(5x5,16)-ReLU-MPool(2)-FC(120)-ReLU-FC(84)-ReLU-FC(10)"
VGG_CIFAR = ("[Conv(3x3,32,p=1)-ReLU-Conv(3x3,32,p=1)-ReLU-MPool(2)]-"
             "[Conv(3x3,64,p=1)-ReLU-Conv(3x3,64,p=1)-ReLU-MPool(2)]-"
             "[Conv(3x3,128,p=1)-ReLU-MPool(2)]-FC(256)-ReLU-FC(10)")
# name, spec, input shape, batch, training step (else inference forward), repeats: about
# a second of steps per process, so that a burst of other work on the machine moves the
# median of one process little
WORKLOADS = [
    ("LeNet-5 step, batch 64", LENET, "32x32x1", 64, True, 151),
    ("VGG-style CIFAR step, batch 64", VGG_CIFAR, "32x32x3", 64, True, 9),
    ("resnet18 forward, batch 8", "resnet18", None, 8, False, 7),
    ("resnet50 forward, batch 1", "resnet50", None, 1, False, 21),
]
PINNING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def numpy_step(spec: str, shape: str | None, batch: int, train: bool):
    """One cnnspec training step (forward, backward, SGD update) or inference forward."""
    from cnnspec.engine.optim import make_optimizer

    model = cnnspec.load(spec, input_shape=shape).build(seed=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *model.input_shape)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    if not train:
        return model, lambda: model.forward(x)
    opt = make_optimizer("sgd", 0.01)

    def step() -> None:
        _, grads = model.loss_and_grads(x, y, input_grad=False)  # as torch: no grad for x
        opt.step(model.params, grads)

    return model, step


def torch_step(spec: str, shape: str | None, batch: int, train: bool):
    """The same workload on the module ``cnnspec export --to pytorch`` writes."""
    import torch

    from cnnspec.export.torch_code import generate_torch

    loaded = cnnspec.load(spec, input_shape=shape)
    code = generate_torch(loaded.network, loaded.report())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "exported.py"
        path.write_text(code)
        module_spec = importlib.util.spec_from_file_location("exported", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    torch.manual_seed(0)
    net = module.Model()
    x = torch.randn(batch, *module.INPUT_SHAPE)
    if not train:
        net.eval()

        def forward() -> None:
            with torch.no_grad():
                net(x)

        return forward
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    y = torch.randint(0, 10, (batch,))

    def step() -> None:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    return step


def one(side: str, index: int, threads: int) -> None:
    """Print the median step seconds (and, for cnnspec, the GEMM limit) of one workload."""
    _, spec, shape, batch, train, repeats = WORKLOADS[index]
    if side == "torch":
        import torch

        torch.set_num_threads(threads)
        print(median_seconds(torch_step(spec, shape, batch, train), repeats=repeats))
        return
    from cnnspec.engine.gemm_limit import network_limits

    cnnspec.set_threads(threads)
    model, step = numpy_step(spec, shape, batch, train)
    seconds = median_seconds(step, repeats=repeats)
    limits = network_limits(model, batch, backward=train, input_grad=False)
    print(seconds, sum(lim.forward_seconds + lim.backward_seconds for lim in limits))


def measure(side: str, index: int, threads: int, env: dict[str, str]) -> list[float]:
    """Run :func:`one` in a fresh process; its printed numbers."""
    command = [sys.executable, __file__, "--one", side, str(index), str(threads)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        sys.exit(f"{side} {WORKLOADS[index][0]} failed:\n{result.stderr}")
    return [float(v) for v in result.stdout.split()]


def blas_kernel(env: dict[str, str]) -> str:
    code = ("from threadpoolctl import threadpool_info as t, threadpool_limits;import numpy;"
            "print(*[f\"{i['internal_api']} {i.get('version')} {i.get('architecture')}\" "
            "for i in t() if i['user_api'] == 'blas'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=False)
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=3, help="processes per cell and side")
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--keep-env", action="store_true",
                        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the measuring runs")
    parser.add_argument("--only", type=int, nargs="+", default=None, metavar="I",
                        help="workload numbers to run (0-3)")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if not args.keep_env:
        for name in PINNING:
            env.pop(name, None)
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    print(f"BLAS: {blas_kernel(env)}; torch {torch_version or 'not installed'}; "
          f"{os.cpu_count()} CPUs; median of {args.processes} alternating processes per cell")
    print(f"{'workload':32s} {'thr':>3s} {'cnnspec ms':>10s} {'torch ms':>9s} {'ratio':>6s} "
          f"{'limit ms':>9s} {'% of limit':>10s} {'load':>9s}  per-process ratios")
    for index in args.only if args.only is not None else range(len(WORKLOADS)):
        name = WORKLOADS[index][0]
        for threads in args.threads:
            ours, limits, ref = [], [], []
            load_before = os.getloadavg()[0]
            for _ in range(args.processes):
                seconds, limit = measure("numpy", index, threads, env)
                ours.append(seconds)
                limits.append(limit)
                if torch_version:
                    ref.append(measure("torch", index, threads, env)[0])
            mine, limit = statistics.median(ours), statistics.median(limits)
            line = f"{name:32s} {threads:3d} {mine * 1e3:10.1f} "
            if ref:
                theirs = statistics.median(ref)
                pairs = ", ".join(f"{o / r:.2f}" for o, r in zip(ours, ref, strict=True))
                line += f"{theirs * 1e3:9.1f} {mine / theirs:5.2f}x "
            else:
                line += f"{'-':>9s} {'-':>6s} "
                pairs = ""
            load = f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"
            line += f"{limit * 1e3:9.1f} {100 * mine / limit:9.0f}% {load:>9s}  {pairs}"
            print(line, flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        one(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
