"""Fixtures of the homework tests: answer files, submissions, matrices."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fixtures() -> Path:
    """The folder of answer files and specs used by these tests."""
    return FIXTURES


@pytest.fixture(autouse=True)
def _run_from_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative spec paths (specs/alexnet.yaml) resolve against the checkout."""
    monkeypatch.chdir(ROOT)
