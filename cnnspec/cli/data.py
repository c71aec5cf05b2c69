"""``cnnspec data download`` and ``cnnspec data info``.

Room: consumers (cli). NumPy, rich and the data loaders are imported inside the commands.
"""

from __future__ import annotations

from typing import Any

import click

from cnnspec.cli.options import emit, format_option, make_console, quiet_option
from cnnspec.render.safe_text import csv_writer

DOWNLOADABLE = ["mnist", "cifar10"]
RESIZE_METHODS = ["bilinear", "nearest", "area", "pad"]


@click.group("data")
def data() -> None:
    """Download data sets and show what a data set holds.

    DATA is `digits` (built in, offline), `mnist[:FOLDER]`, `cifar10[:FOLDER]`,
    `npz:FILE` or a path ending in `.npz`. Downloads go to --dir, else $CNNSPEC_DATA,
    else ~/.cache/cnnspec.

    \b
    Examples:
      cnnspec data info
      cnnspec data download mnist
      cnnspec data info mnist --input 32x32x1 --resize --method pad
    """


class RichDownloadProgress:
    """One rich progress bar per file on stderr, then a status line per file.

    The bar is drawn only on a terminal; redirected stderr gets the status lines alone.
    """

    def __init__(self, console: Any):
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.console = console
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                            TransferSpeedColumn(), TimeRemainingColumn(), console=console,
                            transient=True, disable=not console.is_terminal)
        self.task: Any = None

    def __enter__(self) -> RichDownloadProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def start(self, name: str, total: int | None, completed: int) -> None:
        if self.task is not None:
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(name, total=total, completed=completed)

    def advance(self, size: int) -> None:
        self.bar.advance(self.task, size)

    def finish(self, name: str, status: str) -> None:
        if self.task is not None:
            self.bar.remove_task(self.task)
            self.task = None
        self.console.print(f"{name}: {status}", markup=False, highlight=False)


@data.command("download")
@click.argument("names", nargs=-1, required=True, type=click.Choice(DOWNLOADABLE))
@click.option("--dir", "root", type=click.Path(file_okay=False), default=None,
              help="Cache root (default: $CNNSPEC_DATA, else ~/.cache/cnnspec).")
@click.option("--mirror", "mirrors", multiple=True, metavar="URL",
              help="Base URL to fetch the files from instead of the canonical mirrors "
                   "(repeatable; tried in order). Checksums are still verified.")
@click.option("--force", is_flag=True, help="Delete what is there and download again.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True, help="Seconds to wait on a silent connection.")
@quiet_option
def download(names: tuple[str, ...], root: str | None, mirrors: tuple[str, ...], force: bool,
             timeout: float, quiet: bool) -> None:
    """Fetch MNIST or CIFAR-10 from the canonical mirrors and verify their MD5 checksums.

    An interrupted download resumes where it stopped (HTTP Range into a `.part` file);
    a file that fails its checksum is deleted. Prints the --data value for each data
    set on stdout; progress and messages go to stderr.

    \b
    Examples:
      cnnspec data download mnist
      cnnspec data download mnist cifar10 --dir ~/data
      cnnspec train lenet5 --data "$(cnnspec data download mnist -q)"
    """
    from cnnspec.engine.data.download import SilentProgress, download_dataset

    for name in dict.fromkeys(names):
        if quiet:
            report = download_dataset(name, root, mirrors or None, SilentProgress(), timeout,
                                      force)
        else:
            with RichDownloadProgress(make_console(stderr=True)) as progress:
                report = download_dataset(name, root, mirrors or None, progress, timeout, force)
            click.echo(f"{name}: ready in {report.folder}", err=True)
        click.echo(report.data_spec)


@data.command("info")
@click.argument("spec", metavar="DATA", default="digits")
@click.option("--input", "-i", "input_shape", default=None, metavar="HxWxC",
              help="Fit the data to this network input first (as `cnnspec train` would).")
@click.option("--resize", is_flag=True,
              help="Resize and convert grey<->colour to fit --input instead of failing.")
@click.option("--method", type=click.Choice(RESIZE_METHODS), default="bilinear",
              show_default=True, help="How --resize maps sizes.")
@click.option("--dir", "root", type=click.Path(file_okay=False), default=None,
              help="Cache root for mnist/cifar10 without a FOLDER.")
@format_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically) instead of stdout.")
def info(spec: str, input_shape: str | None, resize: bool, method: str, root: str | None,
         fmt: str, output: str | None) -> None:
    """Sizes, image shape, classes and per-class counts of the data set DATA.

    \b
    Examples:
      cnnspec data info
      cnnspec data info digits --input 32x32x1
      cnnspec data info mnist:~/data/mnist -f json
      cnnspec data info cifar10 --input 28x28x1 --resize --method area
    """
    from cnnspec.engine.data import load_dataset
    from cnnspec.errors import Location
    from cnnspec.spec.load import parse_input

    shape = parse_input(input_shape, Location("--input")) if input_shape else None
    dataset = load_dataset(spec, input_shape=shape, resize=resize, method=method,
                           cache_dir=root)
    summary = dataset.to_dict()
    if fmt == "table" and output is None:
        print_summary(summary, make_console())
        return
    emit(render_summary(summary, fmt), output)


def class_rows(summary: dict[str, Any]) -> list[tuple[int, str, int, int]]:
    """``(label, name, train count, test count)`` per class."""
    return [(i, name, summary["train_per_class"][i], summary["test_per_class"][i])
            for i, name in enumerate(summary["classes"])]


def header_lines(summary: dict[str, Any]) -> list[str]:
    """The summary above the class table, one fact per line."""
    h, w, c = summary["image_shape"]
    low, high = summary["value_range"]
    lines = [
        f"data set: {summary['name']} ({summary['source']})",
        f"images:   {h}x{w}x{c} (H x W x C), float32 NCHW, values {low:g} .. {high:g}",
        f"train:    {summary['train']:,}",
        f"test:     {summary['test']:,}",
        f"classes:  {len(summary['classes'])}",
    ]
    lines += [f"note:     {note}" for note in summary["notes"]]
    return lines


def print_summary(summary: dict[str, Any], console: Any) -> None:
    """The summary lines and a rich table of classes."""
    from rich.table import Table

    for line in header_lines(summary):
        console.print(line, markup=False)
    table = Table("label", "class")
    table.add_column("train", justify="right")
    table.add_column("test", justify="right")
    for label, name, train, test in class_rows(summary):
        table.add_row(str(label), name, f"{train:,}", f"{test:,}")
    console.print(table)


def render_summary(summary: dict[str, Any], fmt: str) -> str:
    """The summary as ``table`` (plain text), ``json``, ``csv`` or ``markdown`` text."""
    if fmt == "json":
        import json

        return json.dumps(summary, indent=2) + "\n"
    rows = class_rows(summary)
    if fmt == "csv":
        import io

        buffer = io.StringIO()
        writer = csv_writer(buffer)
        writer.writerow(["label", "class", "train", "test"])
        writer.writerows(rows)
        return buffer.getvalue()
    if fmt in ("markdown", "md"):
        body = ["| label | class | train | test |", "|---:|---|---:|---:|"]
        body += [f"| {label} | {name} | {train} | {test} |" for label, name, train, test in rows]
        return "\n".join([*(f"- {line}" for line in header_lines(summary)), "", *body]) + "\n"
    width = max(len(name) for _, name, _, _ in rows) if rows else 5
    body = [f"{label:>5}  {name:<{width}}  {train:>8,}  {test:>8,}"
            for label, name, train, test in rows]
    return "\n".join([*header_lines(summary), "", *body]) + "\n"
