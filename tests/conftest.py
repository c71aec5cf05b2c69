"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


@pytest.fixture
def specs_dir() -> Path:
    """The zoo folder of the checkout."""
    return SPECS


# CI sets CNNSPEC_REQUIRE_PARITY=1 after installing the parity extra: a parity test that
# skips there (torch, onnx, onnxruntime or torchinfo missing) fails the run instead.
PARITY_MODULES = ("torch", "onnx", "onnxruntime", "torchinfo")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CNNSPEC_REQUIRE_PARITY") != "1" or not report.skipped:
        return
    reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
    if any(f"import '{name}'" in reason for name in PARITY_MODULES):
        report.outcome = "failed"
        report.longrepr = f"parity test skipped although the parity extra is required: {reason}"
