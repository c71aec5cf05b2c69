"""``cnnspec evaluate``: a checkpoint's accuracy, per-class scores and confusion matrix.

Room: consumers (cli).
"""

from __future__ import annotations

from typing import Any

import click

from cnnspec.cli.options import (
    emit,
    format_option,
    make_console,
    memory_option,
    quiet_option,
    threads_option,
)
from cnnspec.cli.train import data_options


@click.command()
@threads_option
@click.argument("checkpoint", metavar="CKPT", type=click.Path())
@data_options
@click.option("--part", type=click.Choice(["test", "train"]), default="test",
              show_default=True, help="Which part of the data set to score.")
@click.option("--dir", "cache_dir", type=click.Path(file_okay=False), default=None,
              help="Cache root for mnist/cifar10 without a folder.")
@format_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically) instead of stdout.")
@quiet_option
@memory_option
def evaluate(checkpoint: str, data: str | None, resize: bool, method: str, part: str,
             cache_dir: str | None, fmt: str, output: str | None, quiet: bool) -> None:
    """Score checkpoint CKPT on a data set: accuracy, per-class precision and recall,
    confusion matrix.

    Without --data, CKPT is scored on the test part of the data it was trained on, fed
    exactly as in training (same resizing, same standardisation).

    CKPT is a checkpoint file, or the folder of a `cnnspec train` run (its best.npz,
    else its last.npz).

    \b
    Examples:
      cnnspec evaluate runs/lenet5/best.npz
      cnnspec evaluate runs/lenet5
      cnnspec evaluate runs/lenet/best.npz --data mnist:~/data/mnist
      cnnspec evaluate runs/lenet5/best.npz -f markdown -o scores.md
      cnnspec evaluate runs/lenet5/best.npz -f csv
    """
    from cnnspec.engine.checkpoint import checkpoint_file
    from cnnspec.engine.train.session import DataChoice
    from cnnspec.engine.train.trained import load_trained, score
    from cnnspec.render import evaluation as render

    trained = load_trained(checkpoint)
    checkpoint = str(checkpoint_file(checkpoint))  # a run folder's best.npz, by name
    choice = DataChoice(data, resize, method, cache_dir) if data is not None else None
    scored = score(trained, choice, part, cache_dir)
    result = {"checkpoint": checkpoint, "spec": trained.model.network.name,
              "data": scored.data_spec, "part": part, **scored.evaluation.to_dict()}
    if fmt == "table" and output is None:
        _print_table(result, quiet)
        return
    renderers = {"json": render.evaluation_json, "csv": render.evaluation_csv,
                 "markdown": render.evaluation_markdown, "md": render.evaluation_markdown,
                 "table": _plain}
    emit(renderers[fmt](result), output)


def _plain(result: dict[str, Any]) -> str:
    """The table format as plain text (for ``--output``)."""
    from cnnspec.render.evaluation import summary_line
    from cnnspec.render.safe_text import safe_console

    console = safe_console(width=200, highlight=False, color_system=None)
    with console.capture() as capture:
        console.print(summary_line(result), markup=False)
        _tables(result, console)
    return capture.get()


def _print_table(result: dict[str, Any], quiet: bool) -> None:
    from cnnspec.render.evaluation import summary_line

    console = make_console()
    if quiet:
        click.echo(f"{result['accuracy']:.6g}")
        return
    console.print(summary_line(result), highlight=False, markup=False)
    _tables(result, console)


def _tables(result: dict[str, Any], console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    from cnnspec.render.safe_text import styled

    scores = Table("class", title="per class", title_justify="left", header_style="bold")
    for title in ("precision", "recall", "F1", "support"):
        scores.add_column(title, justify="right")
    for c in result["classes"]:
        scores.add_row(styled(c["name"]), f"{c['precision']:.2%}", f"{c['recall']:.2%}",
                       f"{c['f1']:.2%}", f"{c['support']:,}")
    console.print(scores)
    names = [c["name"] for c in result["classes"]]
    matrix = Table("true \\ predicted", title="confusion matrix (rows: true class)",
                   title_justify="left", header_style="bold")
    for name in names:
        matrix.add_column(styled(name), justify="right")
    for i, (name, counts) in enumerate(zip(names, result["confusion"], strict=True)):
        # zeros as dots so the mistakes stand out; the diagonal (right answers) in bold
        cells = ["." if v == 0 else Text(str(v), style="bold") if i == j else str(v)
                 for j, v in enumerate(counts)]
        matrix.add_row(styled(name), *cells)
    console.print(matrix)
