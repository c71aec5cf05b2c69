"""Jupyter shows a spec and an analysis as HTML tables."""

from __future__ import annotations

import cnnspec


def test_spec_and_report_render_as_html() -> None:
    spec = cnnspec.load("alexnet")
    for html in (spec._repr_html_(), spec.report()._repr_html_()):
        assert html.startswith("<div><b>alexnet</b>")
        assert "<table>" in html and "55x55x96" in html and "34,944" in html


def test_a_report_from_the_analysis_alone_renders_too() -> None:
    from cnnspec.analysis import analyze

    report = analyze(cnnspec.load("lenet5").network)
    assert "<table>" in report._repr_html_()
