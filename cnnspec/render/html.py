"""The notebook view of an analysis: Jupyter's ``_repr_html_``.

Room: consumers (render). The same renderer as ``analyze --format html``
(:mod:`cnnspec.render.page`), without the page around it.
"""

from __future__ import annotations

from cnnspec.analysis.records import Report


def report_html(report: Report) -> str:
    """A self-contained ``<div>``: header, diagram, layer tree, totals and notes."""
    from cnnspec.render.page import diagram_svg, report_fragment

    return report_fragment(report, svg=diagram_svg(report))


def attach_report_html() -> None:
    """Give :class:`Report` a Jupyter ``_repr_html_`` (:func:`report_html`).

    The analysis room may not import rendering, so the method is attached from here;
    :mod:`cnnspec.api` calls this once, so every report shows as a table in a notebook.
    """
    if "_repr_html_" not in vars(Report):
        Report._repr_html_ = report_html  # type: ignore[attr-defined]
