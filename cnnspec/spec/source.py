"""Where things came from: positions in the user's text.

Room: spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnnspec.errors import Location


@dataclass(frozen=True)
class TextMap:
    """Turns offsets in a piece of text into :class:`Location` values.

    ``base_line``/``base_column`` place the text inside a larger file (a string
    inside a YAML document); for a string typed on the command line they are 1.
    """

    text: str
    source: str = "<string>"
    base_line: int = 1
    base_column: int = 1

    def loc(self, start: int, end: int | None = None) -> Location:
        """The location of ``text[start:end]``."""
        start = max(0, min(start, len(self.text)))
        end = start + 1 if end is None else max(end, start + 1)
        line_index = self.text.count("\n", 0, start)
        line_start = self.text.rfind("\n", 0, start) + 1
        line_end = self.text.find("\n", start)
        line_end = len(self.text) if line_end == -1 else line_end
        column = start - line_start + 1 + (self.base_column - 1 if line_index == 0 else 0)
        return Location(
            source=self.source,
            line=self.base_line + line_index,
            column=column,
            length=max(1, min(end, line_end) - start),
            text=self.text[line_start:line_end] if self.source == "<string>" else None,
        )


@dataclass(frozen=True, eq=False)
class SourceRef:
    """A node's place (``loc``) and the places of its arguments (``args``, by field)."""

    loc: Location
    args: dict[str, Location] = field(default_factory=dict)

    def arg(self, name: str) -> Location:
        """The location of argument ``name``, or the node's own when it was not written."""
        return self.args.get(name, self.loc)
