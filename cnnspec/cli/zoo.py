"""``cnnspec zoo``: every spec shipped with cnnspec, with its size.

Room: consumers (cli). The figures are read from each spec's analysis.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from cnnspec.cli.options import emit, fit_width, format_option, make_console, quiet_option
from cnnspec.render.safe_text import csv_writer, printable


@dataclass(frozen=True)
class ZooEntry:
    """One zoo spec, summarised; ``error`` is set (and the sizes are 0) when it fails."""

    name: str
    path: str
    description: str
    input: str
    conventions: str
    params: int
    trainable_params: int
    macs: int
    weighted_layers: int
    depth: int
    aux_params: int
    error: str | None = None


def survey(names: list[str] | None = None, progress=None) -> list[ZooEntry]:
    """Load and analyse the zoo specs (all of them, or ``names``), in name order."""
    from cnnspec.spec import zoo

    wanted = sorted(names) if names else zoo.names()
    entries = []
    for name in wanted:
        path = zoo.find(name)
        if path is None:
            from cnnspec.errors import SpecError
            from cnnspec.spec.vocabulary import suggest

            guess = suggest(name, zoo.names())
            raise SpecError(f"no zoo spec is called {name!r}", None,
                            f"did you mean {guess!r}?" if guess else "`cnnspec zoo` lists them")
        entries.append(summarize(path))
        if progress is not None:
            progress()
    return entries


def summarize(path: Path) -> ZooEntry:
    """The :class:`ZooEntry` of one spec file."""
    from cnnspec.analysis import analyze
    from cnnspec.analysis.depth import longest_path, weighted_layers
    from cnnspec.analysis.records import shape_text
    from cnnspec.errors import CnnspecError
    from cnnspec.spec import load

    try:
        network = load(path)
        report = analyze(network)
    except CnnspecError as exc:
        return ZooEntry(path.stem, str(path), "", "", "", 0, 0, 0, 0, 0, 0, exc.one_line())
    t = report.totals
    return ZooEntry(
        name=path.stem, path=str(path), description=network.description or "",
        input=shape_text(report.input), conventions=network.conventions.preset,
        params=t.params, trainable_params=t.trainable_params, macs=t.macs,
        weighted_layers=weighted_layers(report), depth=longest_path(network.layers),
        aux_params=t.aux_params,
    )


COLUMNS = (("name", "Name"), ("input", "Input"), ("params", "Params"),
           ("trainable_params", "Trainable"), ("macs", "MACs"), ("depth", "Depth"),
           ("description", "Description"))


def _cell(entry: ZooEntry, key: str) -> str:
    if entry.error and key not in ("name",):
        return entry.error if key == "description" else "-"
    value = getattr(entry, key)
    if key in ("params", "trainable_params", "macs"):
        from cnnspec.units import exact_count

        return exact_count(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(entries: list[ZooEntry], kind: str) -> str:
    """The entries as JSON, CSV or markdown text."""
    if kind == "json":
        return json.dumps([asdict(e) for e in entries], indent=2)
    if kind == "csv":
        out = io.StringIO()
        fields = list(asdict(entries[0])) if entries else [k for k, _ in COLUMNS]
        writer = csv_writer(out, fields)
        writer.writerow(fields)
        writer.writerows(asdict(e) for e in entries)
        return out.getvalue()
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |",
             "|" + "|".join("---:" if k in ("params", "trainable_params", "macs", "depth")
                            else "---" for k, _ in COLUMNS) + "|"]
    for e in entries:
        lines.append("| " + " | ".join(_cell(e, k).replace("|", "\\|") for k, _ in COLUMNS)
                     + " |")
    return "\n".join(lines) + "\n"


# the table's columns in priority order when the terminal is narrow: the name, then
# what PyTorch counts and the MACs, then the rest
TABLE_PRIORITY = {"name": 0, "trainable_params": 1, "macs": 2, "params": 3, "input": 4,
                  "depth": 5, "description": 6}


def print_table(entries: list[ZooEntry]) -> None:
    """The entries as a table on stdout, fitted to the terminal (no number is cut)."""
    from cnnspec.render.layout import PlainColumn
    from cnnspec.render.table import print_fitted

    columns = [PlainColumn(key, title, TABLE_PRIORITY[key],
                           numeric=key in ("params", "trainable_params", "macs", "depth"))
               for key, title in COLUMNS]
    console = make_console()
    width = fit_width(console)
    hidden = print_fitted(console, columns, [[_cell(e, k) for k, _ in COLUMNS] for e in entries],
                          width, ["red" if e.error else "" for e in entries])
    if hidden:
        console.print(f"Hidden to fit {width} columns: {', '.join(c.title for c in hidden)}; "
                      "`-f markdown` or a wider terminal shows them.", style="dim")
    console.print("Params include batch-norm running statistics (non-trainable); Trainable is "
                  "the count PyTorch reports (weights + biases). MACs: conv and FC "
                  "multiply-accumulates per image. "
                  "Depth: layers with weights on the longest path (as papers count it).",
                  style="dim")


@click.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@format_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically) instead of stdout.")
@quiet_option
def zoo(names: tuple[str, ...], fmt: str, output: str | None, quiet: bool) -> None:
    """List the zoo: every shipped spec with its parameters, MACs, input and source.

    Any name listed here can be given wherever a SPEC is expected
    (`cnnspec analyze resnet50`). With NAMEs, only those specs are listed.

    \b
    Examples:
      cnnspec zoo
      cnnspec zoo resnet50 densenet121 -f markdown
      cnnspec zoo -f json -o zoo.json
    """
    from cnnspec.render.columns import parse_format

    kind = parse_format(fmt).value
    entries = _survey_with_progress(list(names), quiet)
    if kind == "table" and output is None:
        print_table(entries)
    else:
        if kind == "table":
            kind = "markdown"
        emit(render(entries, kind), output)
        if output and not quiet:
            click.echo(f"wrote {output}", err=True)
    failed = [e for e in entries if e.error]
    if failed:
        for e in failed:
            click.echo(printable(f"{e.name}: {e.error}"), err=True)
        raise click.exceptions.Exit(1)


def _survey_with_progress(names: list[str], quiet: bool) -> list[ZooEntry]:
    """:func:`survey`, with a progress bar on stderr when it is a terminal."""
    import sys

    from cnnspec.spec import zoo as zoo_files

    if quiet or not sys.stderr.isatty():
        return survey(names)
    from rich.progress import Progress

    total = len(names) if names else len(zoo_files.names())
    with Progress(console=make_console(stderr=True), transient=True) as bar:
        task = bar.add_task("analysing the zoo", total=total)
        return survey(names, progress=lambda: bar.advance(task))
