"""``cnnspec optimizers``: the lecture's learning curves of all seven optimisers, one plot.

Room: consumers (cli).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cnnspec.cli.options import (
    Renamed,
    emit,
    format_option,
    load_spec,
    make_console,
    quiet_option,
    spec_argument,
    spec_options,
)
from cnnspec.cli.train import data_options
from cnnspec.engine.optim import OPTIMIZERS

COLUMNS = ("optimizer", "lr", "first epoch loss", "last epoch loss", "accuracy", "seconds")


def parse_rates(items: tuple[str, ...]) -> dict[str, float]:
    """``("adam=0.001", "sgd=0.1")`` -> ``{"adam": 0.001, "sgd": 0.1}``."""
    from cnnspec.errors import TrainingError

    rates = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            rates[name.strip().lower()] = float(value)
        except ValueError:
            sep = ""
        if not sep or rates.get(name.strip().lower(), 0) <= 0:
            raise TrainingError(f"--lr {item}: expected NAME=RATE with a rate > 0",
                                hint="e.g. --lr sgd=0.1 --lr adam=0.001")
    return rates


@click.command()
@spec_argument
@spec_options
@data_options
@click.option("--epochs", "-e", type=click.IntRange(min=1), default=3, show_default=True,
              help="Epochs per optimiser.")
@click.option("--batch", "-b", type=click.IntRange(min=1), default=32, show_default=True,
              help="Mini-batch size.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds the shared initial weights, the batches and dropout.")
@click.option("--only", default=",".join(OPTIMIZERS), show_default=True, metavar="NAMES",
              help="Comma-separated optimisers to compare.")
@click.option("--lr", "rates", multiple=True, metavar="NAME=RATE",
              help="Change one optimiser's learning rate (repeatable).")
@click.option("--out-dir", "--out", "out_dir", cls=Renamed, old=("--out",),
              type=click.Path(file_okay=False), default=None,
              help="Folder for optimizers.png and optimizers.json [default: "
                   "runs/NAME-optimizers].")
@format_option
@quiet_option
def optimizers(spec: str, input_shape: str | None, conventions: str | None, data: str | None,
               resize: bool, method: str, epochs: int, batch: int, seed: int, only: str,
               rates: tuple[str, ...], out_dir: str | None, fmt: str, quiet: bool) -> None:
    """Train SPEC once per optimiser -- same initial weights, same batches -- and plot
    the training loss of all seven on one figure (the lecture's comparison).

    Optimisers: sgd, momentum, nesterov, adagrad, adadelta, rmsprop, adam, each at a
    learning rate in its own good range (shown in the table; change one with --lr).
    Writes optimizers.png (loss per iteration and per epoch) and optimizers.json (every
    loss) to --out-dir, and prints a summary table; accuracy is on the validation tenth.

    \b
    Examples:
      cnnspec optimizers specs/lenet5.yaml --epochs 3
      cnnspec optimizers lenet5 --only sgd,momentum,adam --lr sgd=0.1
      cnnspec optimizers "Conv(3x3,8)-ReLU-Pool(2)-FC(10)" --input 16x16x1 -f markdown
    """
    from cnnspec.engine.model import build
    from cnnspec.engine.train.compare import CompareCallback, compare_optimizers
    from cnnspec.engine.train.session import DataChoice, prepare_data
    from cnnspec.render.plots import plot_optimizer_curves

    loaded = load_spec(spec, input_shape, conventions)
    names = [n.strip().lower() for n in only.split(",") if n.strip()]
    from cnnspec.render.safe_text import safe_filename

    out = Path(out_dir or Path("runs") / f"{safe_filename(loaded.name)}-optimizers")
    model = build(loaded.network, seed=seed)
    prepared = prepare_data(model, DataChoice(data or "digits", resize, method), 0.1, seed,
                            True)
    console = make_console(stderr=True)
    progress: Any = CompareCallback()
    if not quiet:
        from cnnspec.cli.train_progress import RichCompareProgress

        progress = RichCompareProgress(console, epochs)
        from rich.text import Text

        from cnnspec.render.safe_text import styled

        console.print(Text.assemble(
            styled(loaded.name, "bold"), f": {len(prepared.split.y_train):,} training "
            f"images, {epochs} epochs of batches of {batch}, seed {seed}, "
            f"{len(names)} optimisers"), highlight=False)
    try:
        curves = compare_optimizers(loaded.network, prepared.split, names=names,
                                    lrs=parse_rates(rates), epochs=epochs, batch=batch,
                                    seed=seed, callback=progress)
    finally:
        if not quiet:
            progress.close()
    data_name = prepared.dataset.name
    out.mkdir(parents=True, exist_ok=True)
    plot = plot_optimizer_curves([c.to_dict() for c in curves], out / "optimizers.png",
                                 f"{loaded.name} on {data_name}: {epochs} epochs, batch "
                                 f"{batch}, same initial weights and batches")
    from cnnspec.atomic import write_text

    write_text(out / "optimizers.json", json.dumps(
        {"spec": loaded.name, "data": data_name, "epochs": epochs, "batch": batch,
         "seed": seed, "curves": [c.to_dict() for c in curves]}, indent=1) + "\n")
    rows = [summary_row(c) for c in curves]
    if not quiet:
        console.print(f"wrote {plot} and {out / 'optimizers.json'}", highlight=False,
                      markup=False)
    emit(render_rows(rows, fmt), None)


def summary_row(curve: Any) -> dict[str, Any]:
    """One line of the summary table."""
    losses = curve.epoch_losses
    return {"optimizer": curve.name, "lr": curve.lr,
            "first epoch loss": losses[0] if losses else None,
            "last epoch loss": None if curve.diverged or not losses else losses[-1],
            "accuracy": None if curve.diverged else curve.accuracy,
            "seconds": round(curve.seconds, 2), "diverged": curve.diverged}


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "diverged" if key == "last epoch loss" else "-"
    if key == "accuracy":
        return f"{value:.2%}"
    if key == "lr":
        return f"{value:g}"
    if key == "seconds":
        return f"{value:.1f}"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def render_rows(rows: list[dict[str, Any]], fmt: str) -> str:
    """The summary as table (plain text), json, csv or markdown."""
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    cells = [[_cell(k, r[k]) for k in COLUMNS] for r in rows]
    if fmt == "csv":
        import io

        buffer = io.StringIO()
        from cnnspec.render.safe_text import csv_writer

        writer = csv_writer(buffer)
        writer.writerow([k.replace(" ", "_") for k in COLUMNS])
        writer.writerows([["" if r[k] is None else r[k] for k in COLUMNS] for r in rows])
        return buffer.getvalue()
    if fmt in ("markdown", "md"):
        lines = ["| " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * (len(COLUMNS) - 1)]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines) + "\n"
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(COLUMNS)]
    lines = ["  ".join(k.ljust(w) if i == 0 else k.rjust(w)
                       for i, (k, w) in enumerate(zip(COLUMNS, widths, strict=True)))]
    lines += ["  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                        for i, (v, w) in enumerate(zip(c, widths, strict=True))) for c in cells]
    return "\n".join(lines) + "\n"
