"""Every benchmark script still imports what it uses, and the README lists how to run it."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "benchmarks").glob("bench_*.py"))


def test_there_are_benchmarks() -> None:
    assert len(SCRIPTS) >= 8


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_benchmark_imports_and_is_documented(script: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(script.parent))
    names = runpy.run_path(str(script), run_name="imported_by_test")  # main() not run
    assert callable(names.get("main")), f"{script.name} has no main()"
    assert f"python benchmarks/{script.name}" in (ROOT / "README.md").read_text()
