"""Speed of the spine: start-up, the analyzer's first answer, the 100,000-layer limit,
and how fast hostile spec files are refused.

Run: ``python benchmarks/bench_analysis.py`` (``--quick`` for fewer repeats). Every
figure is a median over repeated runs in fresh processes (the machine is shared:
medians, with CPU seconds beside wall seconds, which load disturbs less). Targets:

* ``cnnspec analyze resnet152 --format json``, process start included: < 250 ms;
* 100,000 layers analysed as JSON: < 3 s; a YAML list of 100,000 ``- ReLU`` validated
  quickly; ``cnnspec.load(path).analyze()`` on 10,000 layers: < 0.5 s;
* a 1 MB spec (one string of 100,000 layers) validated within 2 s and 200 MB, and
  analysed as JSON in < 3 s;
* every hostile file (``tests/spec/hostile.py``) refused within 2 s and 200 MB.

Where the time goes is printed beside the totals: the phases of one load (import,
schema, parse and validate, analyze, JSON), as medians over fresh processes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.spec.hostile import HOSTILE  # noqa: E402

CLI = "from cnnspec.cli.main import main; main()"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

# Runs ``code`` and prints its own wall time, CPU time and peak memory as JSON on stderr.
MEASURED = """
import json, sys, time
start, cpu = time.perf_counter(), time.process_time()
sys.argv = ["cnnspec", *json.loads(sys.argv[1])]
if sys.argv[-1].startswith("@"):  # a long network string, read from a file
    sys.argv[-1] = open(sys.argv[-1][1:]).read()
try:
    from cnnspec.cli.main import main
    main()
except SystemExit:
    pass
finally:
    # the high-water mark of this process's memory (ru_maxrss would include the parent's)
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    peak = int(status.split()[0]) // 1024
    sys.stderr.write("\\n" + json.dumps({"wall": time.perf_counter() - start,
                     "cpu": time.process_time() - cpu, "mib": peak}))
"""


def measured(argv: list[str]) -> dict[str, float]:
    """Wall seconds, CPU seconds and peak MiB of ``cnnspec ARGV`` in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", MEASURED, json.dumps(argv)],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, check=False)
    return json.loads(done.stderr.strip().splitlines()[-1])


def process_seconds(argv: list[str], repeats: int) -> tuple[float, float]:
    """Median wall seconds of the whole process (start included) and of ``python -c pass``."""
    import time

    def one(command: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=ENV, cwd=ROOT)
        return time.perf_counter() - start

    walls, bare = [], []
    for _ in range(repeats):  # alternating, so load changes hit both alike
        walls.append(one([sys.executable, "-c", CLI, *argv]))
        bare.append(one([sys.executable, "-c", "pass"]))
    return statistics.median(walls), statistics.median(bare)


def first_answer(repeats: int) -> None:
    print("The analyzer's first answer (process start included)")
    argv = ["analyze", "resnet152", "--format", "json"]
    wall, bare = process_seconds(argv, repeats)
    print(f"  python -c pass                              median {bare * 1000:7.1f} ms")
    print(f"  cnnspec analyze resnet152 --format json     median {wall * 1000:7.1f} ms"
          f"  (target < 250 ms)")
    print(f"  phases (ms, in process): {phases('resnet152', repeats)}")
    help_wall, _ = process_seconds(["--help"], repeats)
    print(f"  cnnspec --help                              median {help_wall * 1000:7.1f} ms")
    imports = subprocess.run([sys.executable, "-X", "importtime", "-c", CLI, *argv],
                             capture_output=True, text=True, env=ENV, cwd=ROOT, check=True)
    rows = [line.split("|") for line in imports.stderr.splitlines() if "|" in line][1:]
    total = {row[2].strip(): int(row[1]) for row in rows}
    heavy = sorted(name for name in total if name.split(".")[0] in ("numpy", "rich"))
    mine = sum(int(row[0].split(":")[1]) for row in rows if row[2].strip().startswith("cnnspec"))
    print(f"  imports: cnnspec's own modules {mine / 1000:.1f} ms; pydantic "
          f"{total.get('pydantic', 0) / 1000:.1f} ms; numpy or rich loaded: {heavy or 'none'}")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def limits(folder: Path, repeats: int) -> None:
    print("The 100,000-layer limit (median of fresh processes: wall / CPU / peak memory)")
    cases = {
        "100,000 layers written out, analyze --format json": write(
            folder, "flat.yaml", "input: 8x8x3\narchitecture: \""
            + "-".join(["Conv(3x3, 8, p=1)", "ReLU"] * 50_000) + "\"\n"),
        "[Conv-ReLU] x 50,000, analyze --format json": write(
            folder, "repeat.yaml",
            "input: 8x8x3\narchitecture: \"[Conv(3x3, 8, p=1)-ReLU] x 50000\"\n"),
        "YAML list of 100,000 - ReLU, analyze --format json": write(
            folder, "relu.yaml", "input: 8x8x3\narchitecture:\n" + "  - ReLU\n" * 100_000),
        "1 MB: one string of 100,000 layers, analyze --format json": one_megabyte(folder),
    }
    for label, path in cases.items():
        runs = [measured(["analyze", str(path), "--format", "json"])
                for _ in range(repeats)]
        show(label, runs, "target < 3 s")
    relu = cases["YAML list of 100,000 - ReLU, analyze --format json"]
    runs = [measured(["validate", str(relu)]) for _ in range(repeats)]
    show("YAML list of 100,000 - ReLU, validate", runs, "")
    runs = [measured(["validate", str(one_megabyte(folder))]) for _ in range(repeats)]
    show("1 MB: one string of 100,000 layers, validate", runs, "target < 2 s, 200 MiB")
    runs = [measured(["validate", str(one_megabyte(folder, distinct=True))])
            for _ in range(repeats)]
    show("1 MB: one string of 50,556 distinct layers, validate", runs,
         "target < 2 s, 200 MiB")
    print(f"  1 MB string, phases (ms, in process): "
          f"{phases(str(one_megabyte(folder)), repeats)}")
    ten = write(folder, "ten.yaml", "input: 8x8x3\narchitecture: \""
                + "-".join(["Conv(3x3, 8, p=1)", "ReLU"] * 5_000) + "\"\n")
    code = ("import time, cnnspec\nimport cnnspec.spec.tree\ncnnspec.load('resnet18')\n"
            "times = []\nfor _ in range(5):\n    s = time.perf_counter()\n"
            f"    cnnspec.load({str(ten)!r}).analyze()\n"
            "    times.append(time.perf_counter() - s)\n"
            "import statistics; print(statistics.median(times))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV,
                          cwd=ROOT, check=True)
    print(f"  cnnspec.load(path).analyze(), 10,000 layers (warm): median "
          f"{float(done.stdout) * 1000:7.1f} ms (target < 500 ms)")


def one_megabyte(folder: Path, distinct: bool = False) -> Path:
    """A valid spec file just over 1 MB, one string: ``Conv(3x3,4,p=1)-ReLU-`` 50,000 times,
    or (``distinct``) ``Conv(3x3,1,p=1)-Conv(3x3,2,p=1)-...``, no layer written twice."""
    if distinct:
        layers = [f"Conv(3x3,{k},p=1)" for k in range(1, 50_557)]
    else:
        layers = ["Conv(3x3,4,p=1)", "ReLU"] * 50_000
    name = "distinct.yaml" if distinct else "one_mb.yaml"
    return write(folder, name, "input: 8x8x3\narchitecture: \"" + "-".join(layers) + "\"\n")


# The phases of one run in a fresh interpreter, each timed on its own, printed as JSON.
PHASES = """
import json, sys, time
marks = [time.perf_counter()]
from cnnspec.spec.load import load
from cnnspec.spec.tree import Network
marks.append(time.perf_counter())
Network.model_validate({"layers": []})  # the schema, built once on the first validation
marks.append(time.perf_counter())
network = load(sys.argv[1])
marks.append(time.perf_counter())
from cnnspec.analysis.report import analyze
report = analyze(network)
marks.append(time.perf_counter())
from cnnspec.render.text_formats import to_json
to_json(report)
marks.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip(marks, marks[1:])]))
"""
PHASE_NAMES = ("import", "schema", "read+validate", "analyze", "JSON")


def phases(spec: str, repeats: int) -> str:
    """Median milliseconds of each phase of loading ``spec`` and writing its JSON report."""
    runs = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", PHASES, spec], capture_output=True,
                              text=True, env=ENV, cwd=ROOT, check=True)
        runs.append(json.loads(done.stdout))
    medians = [statistics.median(run[i] for run in runs) * 1000 for i in range(len(PHASE_NAMES))]
    return ", ".join(f"{name} {ms:,.0f}" for name, ms in zip(PHASE_NAMES, medians, strict=True))


def show(label: str, runs: list[dict[str, float]], target: str) -> None:
    wall = statistics.median(r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    mib = max(r["mib"] for r in runs)
    print(f"  {label:58s} {wall:6.2f} s / {cpu:6.2f} s / {mib:4.0f} MiB  {target}")


def hostile(folder: Path, repeats: int) -> None:
    print("Hostile files (tests/spec/hostile.py): validate, wall / CPU / peak memory")
    worst = ("", 0.0, 0.0)
    for name, (text, _, _) in HOSTILE.items():
        if text.startswith("input:"):
            argv = ["validate", str(write(folder, "hostile.yaml", text))]
        else:
            argv = ["validate", "@" + str(write(folder, "hostile.txt", text))]
        runs = [measured(argv) for _ in range(repeats)]
        show(f"{name} ({len(text.encode()):,} bytes)", runs, "")
        wall = statistics.median(r["wall"] for r in runs)
        if wall > worst[1]:
            worst = (name, wall, max(r["mib"] for r in runs))
    print(f"  worst: {worst[0]}, {worst[1]:.2f} s, {worst[2]:.0f} MiB "
          "(target: every file < 2 s and 200 MiB)")


def main() -> None:
    repeats = 3 if "--quick" in sys.argv else 9
    first_answer(repeats * 2)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        limits(folder, max(3, repeats // 3))
        hostile(folder, max(1, repeats // 3))


if __name__ == "__main__":
    main()
