"""Options shared by the sub-commands, and how they load a spec.

Room: consumers (cli).
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Callable
from typing import Any

import click

FORMATS = ["table", "json", "csv", "markdown", "md"]
PRESETS = ["default", "lecture", "pytorch", "caffe", "keras"]


class Renamed(click.Option):
    """An option whose old long names still work (so scripts keep running) but stay out of --help.

    ``click.option("--out-dir", "--out", "out_dir", cls=Renamed, old=("--out",))``.
    """

    def __init__(self, *args: Any, old: tuple[str, ...] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.old_names = tuple(old)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown = self.opts
        self.opts = [name for name in shown if name not in self.old_names]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


def spec_argument(func: Callable[..., Any]) -> Callable[..., Any]:
    """The SPEC argument: a YAML path, a zoo name, or a network string."""
    return click.argument("spec", metavar="SPEC")(func)


def spec_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--input`` and ``--conventions``, which override the spec's own."""
    func = click.option("--conventions", "conventions", type=click.Choice(PRESETS,
                        case_sensitive=False), default=None,
                        help="Counting conventions preset (overrides the spec's).")(func)
    func = click.option("--input", "-i", "input_shape", default=None, metavar="HxWxC",
                        help="Input shape, e.g. 32x32x1 (overrides the spec's).")(func)
    return func


def format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--format table|json|csv|markdown``."""
    return click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table",
                        show_default=True, help="Output format.")(func)


def quiet_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--quiet``: no messages on stderr, only the data (for scripts)."""
    return click.option("--quiet", "-q", is_flag=True, help="Print only the data.")(func)


def output_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--output/-o FILE``: write the data to a file (atomically) instead of stdout."""
    return click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
                        help="Write to this file (atomically) instead of stdout.")(func)


def memory_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--no-memory-check``: run even when the estimate exceeds the memory available.

    The command runs inside :func:`cnnspec.engine.budget.unchecked` when it is given;
    ``CNNSPEC_NO_MEMORY_CHECK=1`` does the same for every command.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, no_memory_check: bool = False, **kwargs: Any) -> Any:
        from cnnspec.engine.budget import unchecked

        with unchecked(no_memory_check):
            return func(*args, **kwargs)

    return click.option("--no-memory-check", "no_memory_check", is_flag=True,
                        help="Go ahead even when the memory estimate exceeds the memory "
                             "available (and lift the image pixel cap).")(wrapper)


def threads_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--threads N``: the most BLAS threads one matrix product may use, and the most
    shards a large batch is split into (:mod:`cnnspec.engine.shards`).

    The command body runs inside :func:`cnnspec.engine.blas.threads_limit`; the
    option's value is not passed on to the command function.
    """

    @functools.wraps(func)
    def limited(*args: Any, threads: int | None, **kwargs: Any) -> Any:
        from cnnspec.engine.blas import threads_limit

        with threads_limit(threads):
            return func(*args, **kwargs)

    return click.option("--threads", "threads", type=click.IntRange(min=1), default=None,
                        metavar="N",
                        help="Most cores to use [default: the cores available]: BLAS "
                             "threads of a matrix product (small or skinny ones always run "
                             "on one) and shards a large batch is split into.")(limited)


def load_spec(spec: str, input_shape: str | None = None, conventions: str | None = None):
    """The :class:`cnnspec.api.Spec` for the SPEC argument."""
    from cnnspec.api import load

    return load(spec, input_shape=input_shape, conventions=conventions)


def watched_width(stream: Any) -> int | None:
    """The width of the terminal a person reads ``stream`` on, or ``None`` (a script's output).

    ``stream`` itself when it is a terminal; piped while a person watches (``| less``,
    ``| head``: stderr is still a terminal, and ``COLUMNS`` is not set), the width of that
    terminal, so that tables fit it instead of wrapping.
    """
    if stream.isatty():
        return shutil.get_terminal_size().columns
    if "COLUMNS" not in os.environ and sys.stderr.isatty():
        try:
            return os.get_terminal_size(sys.stderr.fileno()).columns
        except OSError:  # stderr claims a terminal it cannot measure
            return None
    return None


def make_console(stderr: bool = False):
    """A rich console for this call; control characters in what it prints are shown escaped
    (:func:`cnnspec.render.safe_text.safe_console`).

    As wide as the terminal a person reads it on (:func:`watched_width`), else 200 columns
    (or ``COLUMNS``), every column shown. Its ``fit_width`` is the width tables fit to,
    hiding columns, or ``None`` to draw them all.
    """
    from cnnspec.render.safe_text import safe_console

    stream = sys.stderr if stderr else sys.stdout
    watched = watched_width(stream)
    width = None if stream.isatty() else watched or max(
        shutil.get_terminal_size((200, 24)).columns, 200)
    console = safe_console(file=stream, width=width, highlight=False, soft_wrap=False)
    console.fit_width = console.width if watched is not None else None  # type: ignore[attr-defined]
    return console


def fit_width(console: Any) -> int | None:
    """The width a table on ``console`` fits to, ``None`` for all columns: what
    :func:`make_console` set, or for another console its width when it is a terminal."""
    if hasattr(console, "fit_width"):
        return console.fit_width
    return console.width if console.is_terminal else None


def emit(text: str, output: str | None) -> None:
    """Write data to ``output`` atomically, or to stdout (control characters escaped when
    stdout is a terminal)."""
    if output:
        from cnnspec.atomic import write_text

        write_text(output, text)
    else:
        from cnnspec.render.safe_text import printable

        # on a terminal, control characters in names would act; in a pipe they are data
        shown = printable(text) if sys.stdout.isatty() else text
        click.echo(shown, nl=not text.endswith("\n"))
