"""Jupyter shows a spec and an analysis with the renderer of ``analyze --format html``."""

from __future__ import annotations

import cnnspec
from cnnspec.render.page import report_fragment


def test_spec_and_report_render_as_the_page_content() -> None:
    spec = cnnspec.load("alexnet")
    for html in (spec._repr_html_(), spec.report()._repr_html_()):
        assert html.startswith("<div class='cnnspec'><style>")
        assert "<h1>alexnet</h1>" in html
        assert "55x55x96" in html and "34,944" in html
        assert html.count("class='row layer") == len(spec.report().layers) == 11
        assert "<svg" in html  # the diagram, inline


def test_a_report_from_the_analysis_alone_renders_too() -> None:
    from cnnspec.analysis import analyze

    report = analyze(cnnspec.load("lenet5").network)
    html = report._repr_html_()
    plain = report_fragment(report)
    assert html.startswith(plain[:plain.index("<h2>")]) and "<svg" in html and "<svg" not in plain
    assert html.count("class='row layer") == plain.count("class='row layer") == len(report.layers)
