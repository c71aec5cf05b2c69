"""Choose the table's columns by width: numbers are never cut, a column gives way instead.

Room: consumers (render). Pure text arithmetic, no terminal access.

Every cell is printed whole (no wrapping, no ``…``). A table of columns with widths
``w_1 .. w_n`` takes ``sum(w_i) + 3n + 1`` characters: one space either side of each
cell and ``n + 1`` vertical rules. When that is more than the terminal, columns are
left out from the lowest priority up, and the caller says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Heading(Protocol):
    """What laying out a column needs: its title, its priority (0 is kept longest) and
    whether it holds numbers (right-aligned). :class:`~cnnspec.render.columns.Column` and
    :class:`PlainColumn` are headings."""

    @property
    def title(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def numeric(self) -> bool: ...


@dataclass(frozen=True)
class PlainColumn:
    """A column of a table whose cells are given as text (the zoo, a comparison)."""

    key: str
    title: str
    priority: int
    numeric: bool = True


def table_width(widths: list[int]) -> int:
    """``sum(w) + 3n + 1``: the printed width of a table with these column widths."""
    return sum(widths) + 3 * len(widths) + 1


@dataclass(frozen=True)
class Layout:
    """The columns chosen (table order), their widths, and the columns left out."""

    columns: list[Heading]
    widths: list[int]
    hidden: list[Heading]
    kept: list[int]  # positions of the chosen columns in the list given to :func:`choose`

    @property
    def width(self) -> int:
        """The printed width of the table."""
        return table_width(self.widths)

    def project(self, cells: list[list[str]]) -> list[list[str]]:
        """Each row's cells for the chosen columns only."""
        if not cells or len(self.kept) == len(cells[0]):
            return cells
        return [[row[i] for i in self.kept] for row in cells]


def natural_widths(columns: list[Heading], cells: list[list[str]]) -> list[int]:
    """Each column's width: its longest cell or its title, in terminal cells."""
    from rich.cells import cell_len  # only for the table: the JSON path imports no rich

    widths = [cell_len(c.title) for c in columns]
    for i, column in enumerate(zip(*cells, strict=True)):  # one max per column
        measure = len if "".join(column).isascii() else cell_len
        widths[i] = max(widths[i], max(map(measure, column), default=0))
    return widths


def choose(columns: list[Heading], cells: list[list[str]], width: int | None) -> Layout:
    """The columns that fit in ``width`` characters, taken in priority order.

    ``cells`` holds one text per column for every row. ``width=None`` keeps them all.
    The first column (the layer names) is always kept, even when it alone is too wide.
    Columns are kept in strict priority order: the first that does not fit ends the
    choice, so a narrower column never shows while a more important one is hidden.
    """
    widths = natural_widths(columns, cells)
    if width is None or table_width(widths) <= width:
        return Layout(list(columns), widths, [], list(range(len(columns))))
    order = sorted(range(len(columns)), key=lambda i: columns[i].priority)
    kept = {order[0]}
    used = table_width([widths[order[0]]])
    for i in order[1:]:
        if used + widths[i] + 3 > width:
            break
        kept.add(i)
        used += widths[i] + 3
    chosen = sorted(kept)
    return Layout([columns[i] for i in chosen], [widths[i] for i in chosen],
                  [columns[i] for i in order if i not in kept], chosen)

