"""``cnnspec layers``: the language's layer and block names, each with one example.

Room: consumers (cli). The vocabulary is :mod:`cnnspec.spec.catalog`.
"""

from __future__ import annotations

import click

from cnnspec.cli.options import emit, format_option, make_console
from cnnspec.render.safe_text import csv_writer


@click.command()
@click.argument("name", required=False, metavar="[NAME]")
@format_option
def layers(name: str | None, fmt: str) -> None:
    """The layer and block names a spec may use, with their spellings and one example each.

    NAME (any spelling, any case) shows one word only. String examples are network
    strings; YAML examples are items of a spec file's `architecture:` list.

    \b
    Examples:
      cnnspec layers
      cnnspec layers maxpool
      cnnspec layers --format json
    """
    from cnnspec.spec.catalog import entries

    found = entries()
    if name is not None:
        found = [e for e in found if name.lower() in (e.name.lower(),
                                                        *(a.lower() for a in e.aliases))]
        if not found:
            from cnnspec.errors import SpecError
            from cnnspec.spec.vocabulary import suggest

            guess = suggest(name)
            raise SpecError(f"no layer or block is called {name!r}", None,
                            f"did you mean {guess!r}?" if guess else
                            "run `cnnspec layers` for the full list")
    if fmt == "json":
        import json

        emit(json.dumps([e.to_dict() for e in found], indent=2), None)
        return
    if fmt in ("csv", "markdown", "md"):
        emit(_text_table(found, fmt), None)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for column in ("Name", "Example", "What it is", "Also written"):
        table.add_column(column, overflow="fold")
    for group in ("layer", "block"):
        rows = [e for e in found if e.group == group]
        if not rows:
            continue
        table.add_row(Text(f"{group.capitalize()}s", style="bold"), "", "", "")
        for entry in rows:
            example = entry.example + ("  (YAML)" if entry.form != "string" else "")
            table.add_row(Text(entry.name), Text(example), Text(entry.what),
                          Text(", ".join(entry.aliases)))
    console = make_console()
    console.print(table)
    console.print("Names are case-insensitive. Arguments: `cnnspec schema`; conventions "
                  "and sizes: `cnnspec analyze SPEC`.", markup=False)


def _text_table(found, fmt: str) -> str:
    """The entries as CSV or a markdown table."""
    header = ["name", "group", "example", "form", "what", "aliases"]
    rows = [[e.name, e.group, e.example, e.form, e.what, " ".join(e.aliases)] for e in found]
    if fmt == "csv":
        import io

        buffer = io.StringIO()
        writer = csv_writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue()
    cells = [header, ["---"] * len(header)] + [[c.replace("|", "\\|") for c in row]
                                               for row in rows]
    return "\n".join("| " + " | ".join(row) + " |" for row in cells) + "\n"
