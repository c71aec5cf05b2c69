"""Analysis: shapes, counts, memory and receptive fields of a spec, as plain records.

Room 2 of 4: imports ``cnnspec.spec``, ``cnnspec.conventions`` and ``cnnspec.errors``;
never NumPy, the engine, rendering or the CLI.
"""

from cnnspec.analysis.records import LayerRecord, Note, Report, Totals
from cnnspec.analysis.report import analyze

__all__ = ["LayerRecord", "Note", "Report", "Totals", "analyze"]
