"""Speed of the report at the spec limit: 100,000 layers as a table, markdown and HTML.

Run: ``python benchmarks/bench_report.py``. Prints medians of 3 runs for the analysis
alone and for each renderer on top of it; the target is 100,000 layers as a table in
under 10 s. Two shapes: a repeat block (the table collapses it to its block row by
default) and 100,000 layers written out one after another (nothing to collapse: every
row is drawn).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import median_seconds

LAYERS = 100_000


def specs() -> dict[str, str]:
    """The two 100,000-layer specs (as network strings on a 16x16x3 input)."""
    return {
        "repeat block": f"[Conv(3x3, 8, p=1)-ReLU] x {LAYERS // 2}",
        "written out": "-".join(["Conv(3x3, 8, p=1)", "ReLU"] * (LAYERS // 2)),
    }


def main() -> None:
    from rich.console import Console

    import cnnspec
    from cnnspec.render.page import report_page
    from cnnspec.render.table import TableOptions, print_report
    from cnnspec.render.text_formats import to_markdown

    for label, text in specs().items():
        spec = cnnspec.load(text, input_shape="16x16x3")
        report = spec.report()

        def table(width: int | None, depth: int | str | None = "auto", report=report) -> None:
            console = Console(file=io.StringIO(), width=width or 200, highlight=False)
            print_report(report, console, TableOptions(depth=depth, width=width))

        analyse = median_seconds(spec.report, repeats=3, warmup=0)
        timings = {
            "analysis": analyse,
            "table, default (piped)": median_seconds(lambda: table(None), 3, 0),
            "table, 120 columns": median_seconds(lambda: table(120), 3, 0),
            "table, every row": median_seconds(lambda: table(None, None), 3, 0),
            "markdown, every row": median_seconds(lambda r=report: to_markdown(r), 3, 0),
            "html page (no diagram)": median_seconds(
                lambda r=report: report_page(r, diagram=False), 3, 0),
        }
        print(f"{LAYERS:,} layers, {label} ({len(report.layers):,} rows)")
        for name, seconds in timings.items():
            extra = "" if name == "analysis" else f"  (with analysis {seconds + analyse:6.2f} s)"
            print(f"  {name:<24} median {seconds:6.2f} s{extra}")
    print("target: analysis + table under 10 s")


if __name__ == "__main__":
    main()
