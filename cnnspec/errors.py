"""The one error hierarchy of cnnspec.

Room: shared by every room; imports nothing from cnnspec.

Every user-facing problem is a :class:`CnnspecError` carrying three things:
``message`` (what is wrong), ``loc`` (where: a :class:`Location` in the user's
text, or ``None``) and ``hint`` (how to fix it). Only the CLI catches these,
prints :meth:`CnnspecError.render` to stderr and exits with status 1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in the user's text.

    ``source`` names the text (a file path, or ``"<string>"``); ``line`` and
    ``column`` are 1-based; ``length`` is how many characters to underline;
    ``text`` is the line itself when a caret should be drawn under it.
    """

    source: str = "<string>"
    line: int | None = None
    column: int | None = None
    length: int = 1
    text: str | None = None
    caret_column: int | None = None  # column within ``text`` when it is an excerpt

    def __str__(self) -> str:
        if self.line is None:
            return self.source
        if self.column is None:
            return f"{self.source}:{self.line}"
        return f"{self.source}:{self.line}:{self.column}"

    def caret(self) -> str | None:
        """The offending line with ``^^^`` under the offending columns, or ``None``."""
        if self.text is None or self.column is None:
            return None
        pad = " " * ((self.caret_column or self.column) - 1)
        return f"  {self.text}\n  {pad}{'^' * max(1, self.length)}"


class CnnspecError(Exception):
    """A problem the user can fix: what, where, and how."""

    def __init__(self, message: str, loc: Location | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.hint = hint

    def __str__(self) -> str:
        return self.one_line()

    def one_line(self) -> str:
        """``place: error: message (hint)`` on one line."""
        where = f"{self.loc}: " if self.loc is not None else ""
        hint = f"; {self.hint}" if self.hint else ""
        return f"{where}error: {self.message}{hint}"

    def render(self) -> str:
        """The one-line message, followed by the caret drawing when there is one."""
        caret = self.loc.caret() if self.loc is not None else None
        return self.one_line() if caret is None else f"{self.one_line()}\n{caret}"


class SpecError(CnnspecError):
    """The spec text or YAML is malformed or invalid."""


class AnalysisError(CnnspecError):
    """The spec is well-formed but describes an impossible network (sizes, shapes)."""


class EngineError(CnnspecError):
    """The NumPy engine cannot build or run the network as asked."""


class DataError(CnnspecError):
    """A data set, checkpoint or matrix file is missing, corrupt or mismatched."""


class TrainingError(CnnspecError):
    """Training had to stop (non-finite loss, interrupted run that cannot resume)."""


class ExportError(CnnspecError):
    """A spec cannot be carried to another framework, or a model read back from one."""
