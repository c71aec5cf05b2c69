"""Options shared by the sub-commands, and how they load a spec.

Room: consumers (cli).
"""

from __future__ import annotations

import functools
import shutil
import sys
from collections.abc import Callable
from typing import Any

import click

FORMATS = ["table", "json", "csv", "markdown", "md"]
PRESETS = ["default", "lecture", "pytorch", "caffe", "keras"]


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


def threads_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--threads N``: the most BLAS threads one matrix product may use.

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
                        help="Most BLAS threads a matrix product may use [default: the cores "
                             "available]. Small or skinny products always run on one.")(limited)


def load_spec(spec: str, input_shape: str | None = None, conventions: str | None = None):
    """The :class:`cnnspec.api.Spec` for the SPEC argument."""
    from cnnspec.api import load

    return load(spec, input_shape=input_shape, conventions=conventions)


def make_console(stderr: bool = False):
    """A rich console for this call: wide when output is not a terminal."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else max(shutil.get_terminal_size((200, 24)).columns, 200)
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def emit(text: str, output: str | None) -> None:
    """Write data to ``output`` atomically, or to stdout."""
    if output:
        from cnnspec.atomic import write_text

        write_text(output, text)
    else:
        click.echo(text, nl=not text.endswith("\n"))
