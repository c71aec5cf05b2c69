"""Inference memory: the traced peak of ``Model.predict`` against the analysis' estimate.

Run: ``python benchmarks/bench_memory.py``. The estimate
(:func:`cnnspec.analysis.memory.inference_memory`) is the parameters plus the largest
set of activations alive at once, for an engine that frees every activation after its
last use (inference keeps no caches). The peak is measured with tracemalloc (NumPy
reports its allocations to it) over one ``predict`` call, parameters added; the process'
maximum resident size (``resource.getrusage``) is printed too, interpreter and libraries
included. The gap between peak and estimate is mostly the im2col columns of the largest
convolution, scratch space the estimate leaves out. The batch runs in one process, not
split into shards: tracemalloc sees one process, and the shards of a split pass together
hold what the whole batch does.
"""

from __future__ import annotations

import resource
import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cnnspec
from cnnspec.engine.profile import memory_estimate
from cnnspec.units import human_bytes

CASES = [("lenet5", 256), ("resnet18", 8), ("resnet50", 1)]


def predict_peak(name: str, batch: int) -> tuple[int, dict[str, int]]:
    """(traced peak bytes of one predict call + parameter bytes, the estimate's parts)."""
    model = cnnspec.load(name).build(seed=0)
    # one process holds the whole batch: tracemalloc sees this process only, and a split
    # pass's shards (cnnspec.engine.shards) together hold what the whole batch does
    model.splits_batches = False
    x = np.random.default_rng(0).standard_normal((batch, *model.input_shape)).astype(np.float32)
    model.predict(x[:1])  # warm-up
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    model.predict(x, batch_size=batch)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    params = sum(v.nbytes for v in {**model.params, **model.buffers}.values())
    return peak - before + params, memory_estimate(model, batch, backward=False)


def main() -> None:
    print(f"{'network':10s} {'batch':>5s} {'peak traced':>12s} {'estimate':>10s} {'ratio':>6s}"
          f"  (estimate: parameters + largest live activations)")
    for name, batch in CASES:
        peak, parts = predict_peak(name, batch)
        estimate = sum(parts.values())
        print(f"{name:10s} {batch:5d} {human_bytes(peak):>12s} {human_bytes(estimate):>10s} "
              f"{peak / estimate:6.2f}  (parameters {human_bytes(parts['parameters'])}, "
              f"activations {human_bytes(parts['activations'])})", flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(f"process maximum resident size: {human_bytes(rss)}")


if __name__ == "__main__":
    main()
