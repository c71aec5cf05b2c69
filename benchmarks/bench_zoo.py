"""Speed of the zoo: loading and analysing ResNet-152 and a 1,000-block residual network.

Run: ``python benchmarks/bench_zoo.py``. Prints the median wall time of load + analyse
(in-process, after one warm-up) for:

* ``resnet152`` from the zoo (50 bottleneck blocks through `blocks:` templates);
* a generated residual network of 1,000 basic blocks written as one repeated call,
  ``[basic(16)] x 1000``;
* the same 1,000 blocks written out as 1,000 separate calls (1,000 template expansions).

Target (the blocks/zoo issue): under 0.5 s each.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

try:  # run from a checkout without installing
    import cnnspec  # noqa: F401
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import median_seconds

from cnnspec.analysis import analyze
from cnnspec.spec import load
from cnnspec.spec.load import from_yaml

TARGET_S = 0.5
REPEATS = 7

BLOCKS = """\
name: residual-{n}
input: 32x32x16
conventions: pytorch
blocks:
  basic(planes):
    - residual:
        body: "Conv(3x3, planes, p=1, bias=false)-BN-ReLU-Conv(3x3, planes, p=1, bias=false)-BN"
    - ReLU
"""


def repeated(n: int) -> str:
    """YAML for ``n`` basic residual blocks written as one repeated call."""
    return BLOCKS.format(n=n) + f'architecture: "[basic(16)] x {n}-GAP-FC(10)"\n'


def written_out(n: int) -> str:
    """YAML for ``n`` basic residual blocks written as ``n`` calls."""
    calls = "".join("  - basic(16)\n" for _ in range(n))
    return BLOCKS.format(n=n) + "architecture:\n" + calls + "  - GAP-FC(10)\n"


def main() -> None:
    cases: list[tuple[str, Callable[[], object]]] = [
        ("resnet152 (zoo)", lambda: analyze(load("resnet152"))),
        ("1,000 blocks, [basic(16)] x 1000", lambda: analyze(from_yaml(repeated(1000),
                                                                        "repeated.yaml"))),
        ("1,000 blocks, 1,000 calls", lambda: analyze(from_yaml(written_out(1000),
                                                                 "written.yaml"))),
    ]
    print(f"load + analyse, median of {REPEATS}            rows      time   (target < "
          f"{TARGET_S * 1000:.0f} ms)")
    for title, fn in cases:
        rows = len(fn().layers)  # type: ignore[attr-defined]
        seconds = median_seconds(fn, REPEATS, warmup=1)
        verdict = "ok" if seconds < TARGET_S else "SLOW"
        print(f"  {title:38s} {rows:6d} {seconds * 1000:8.1f} ms   {verdict}")


if __name__ == "__main__":
    main()
