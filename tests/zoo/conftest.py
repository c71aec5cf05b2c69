"""Shared helpers: zoo specs are loaded and analysed once per test session."""

from __future__ import annotations

from functools import cache

import pytest

from cnnspec.analysis import Report, analyze
from cnnspec.spec import Network, load


@cache
def zoo_network(name: str) -> Network:
    """The validated zoo spec ``name``."""
    return load(name)


@cache
def zoo_report(name: str, include_aux: bool = False) -> Report:
    """The analysis of zoo spec ``name``."""
    return analyze(zoo_network(name), include_aux=include_aux)


@pytest.fixture
def report_of():
    """``report_of(name)``: the analysis of a zoo spec."""
    return zoo_report
