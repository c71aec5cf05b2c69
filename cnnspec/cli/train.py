"""``cnnspec train``: train a spec in NumPy, with checkpoints, curves and a test score.

Room: consumers (cli). The loop lives in :mod:`cnnspec.engine.train`; this module turns
options into a :class:`TrainConfig`, draws progress, writes ``curves.png`` and reports.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from cnnspec.cli.options import (
    Renamed,
    load_spec,
    make_console,
    memory_option,
    quiet_option,
    spec_argument,
    spec_options,
    threads_option,
)
from cnnspec.engine.optim import OPTIMIZERS
from cnnspec.engine.train.config import (
    DEFAULT_AUGMENT,
    DEFAULT_AUX_WEIGHT,
    DEFAULT_BATCH,
    DEFAULT_EPOCHS,
    DEFAULT_LRS,
    DEFAULT_OPTIMIZER,
    DEFAULT_SCHEDULE,
    DEFAULT_VAL_SPLIT,
    LOSSES,
    SCHEDULES,
)

RESIZE_METHODS = ["bilinear", "nearest", "area", "pad"]
# options a resumed run takes from its last.npz (changing them would not continue the run)
FIXED_ON_RESUME = ("optimizer", "lr", "batch", "seed", "val_split", "schedule",
                   "weight_decay", "clip_norm", "loss", "augment", "aux_weight", "no_normalize",
                   "init_from",
                   "freeze", "overwrite")


def data_options(func: Any) -> Any:
    """``--data``, ``--resize`` and ``--method``, shared by train, evaluate and optimizers."""
    func = click.option("--method", type=click.Choice(RESIZE_METHODS), default="bilinear",
                        show_default=True, help="How --resize maps image sizes.")(func)
    func = click.option("--resize", is_flag=True,
                        help="Resize images and convert grey<->colour to fit the spec's "
                             "input instead of failing.")(func)
    func = click.option("--data", "-D", "data", default=None, metavar="DATA",
                        help="digits (built in, the default), mnist[:DIR], cifar10[:DIR], "
                             "npz:FILE.")(func)
    return func


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")


@click.command()
@threads_option
@spec_argument
@spec_options
@data_options
@click.option("--epochs", "-e", type=click.IntRange(min=1), default=DEFAULT_EPOCHS,
              show_default=True, help="Epochs in all (when resuming too).")
@click.option("--optimizer", "-O", type=click.Choice(list(OPTIMIZERS)),
              default=DEFAULT_OPTIMIZER, show_default=True, help="Update rule.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Learning rate [default: 0.002 for adam; each optimiser has its own].")
@click.option("--batch", "-b", type=click.IntRange(min=1), default=DEFAULT_BATCH,
              show_default=True, help="Mini-batch size.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds weights, validation split, shuffling and dropout.")
@click.option("--out-dir", "--out", "out_dir", cls=Renamed, old=("--out",),
              type=click.Path(file_okay=False), default=None,
              help="Run folder [default: runs/NAME].")
@click.option("--val-split", type=click.FloatRange(0, 1, max_open=True),
              default=DEFAULT_VAL_SPLIT, show_default=True,
              help="Fraction of the training set held out for validation (0: none).")
@click.option("--schedule", type=click.Choice(SCHEDULES), default=DEFAULT_SCHEDULE,
              show_default=True, help="Learning-rate schedule over the epochs.")
@click.option("--early-stopping", type=click.IntRange(min=0), default=0, metavar="N",
              help="Stop after N epochs without a better validation score (0: never).")
@click.option("--weight-decay", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="L2 factor lambda: the gradient gets + lambda * w.")
@click.option("--clip-norm", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Scale gradients down to this global L2 norm.")
@click.option("--loss", type=click.Choice(LOSSES), default="cross_entropy", show_default=True,
              help="cross_entropy, or squared: E = 1/2 sum (t - y)^2.")
@click.option("--augment", type=click.IntRange(min=0), default=DEFAULT_AUGMENT, metavar="PIXELS",
              show_default=True,
              help="Shift training images by up to PIXELS in each direction, anew every "
                   "epoch (0: off).")
@click.option("--aux-weight", type=click.FloatRange(min=0), default=DEFAULT_AUX_WEIGHT,
              show_default=True, metavar="W",
              help="Weight of each auxiliary head's loss (GoogLeNet: 0.3; 0: heads untrained).")
@click.option("--no-normalize", is_flag=True,
              help="Feed the images in [0, 1] instead of standardising each channel.")
@click.option("--resume", is_flag=True, help="Continue the run in --out-dir from its last.npz.")
@click.option("--overwrite", is_flag=True, help="Replace a run already in --out-dir.")
@click.option("--init-from", type=click.Path(), default=None, metavar="CKPT",
              help="Start from the layers of CKPT (a file, or a run folder: its best.npz) "
                   "whose names and shapes match.")
@click.option("--freeze", multiple=True, metavar="conv|LABELS",
              help="Keep these layers fixed: conv (every conv layer), fc, or labels such as "
                   "Conv:1,Conv:2 (repeatable).")
@quiet_option
@memory_option
@click.pass_context
def train(ctx: click.Context, spec: str, input_shape: str | None, conventions: str | None,
          data: str | None, resize: bool, method: str, epochs: int, optimizer: str,
          lr: float | None, batch: int, seed: int, out_dir: str | None, val_split: float,
          schedule: str, early_stopping: int, weight_decay: float, clip_norm: float | None,
          loss: str, augment: int, aux_weight: float, no_normalize: bool, resume: bool, overwrite: bool,
          init_from: str | None, freeze: tuple[str, ...], quiet: bool) -> None:
    """Train SPEC on a data set; checkpoints, metrics.csv and curves.png go to
    --out-dir.

    Defaults train LeNet-5 on the built-in digits to about 98% test accuracy in under
    20 seconds. Every epoch writes last.npz (with the optimiser state, for --resume)
    and, when validation accuracy is at least the best so far, best.npz. Ctrl-C saves
    last.npz and stops; --resume continues exactly where it stopped. At the end
    best.npz is scored on the data set's test part. The best checkpoint's path goes
    to stdout; progress, the per-epoch table and the report go to stderr.

    \b
    Examples:
      cnnspec train specs/lenet5.yaml
      cnnspec train lenet5 --data mnist:~/data/mnist --epochs 10 --optimizer adam --lr 1e-3 --batch 64 --out-dir runs/lenet
      cnnspec train lenet5 --out-dir runs/lenet --resume --epochs 20
      cnnspec train specs/cifar10-vgg.yaml --data cifar10:~/data/cifar-10-batches-py
      cnnspec train "Conv(5x5,6)-ReLU-MPool(2)-Conv(5x5,16)-ReLU-MPool(2)-FC(64)-ReLU-FC(10)-SM" --input 32x32x1 --init-from runs/lenet5/best.npz --freeze conv
    """
    from cnnspec.engine.train import DataChoice, TrainCallback, TrainConfig
    from cnnspec.engine.train import resume as resume_run
    from cnnspec.engine.train import train as start_run

    loaded = load_spec(spec, input_shape, conventions)
    from cnnspec.render.safe_text import safe_filename

    # the spec's name comes from a file: as a folder name it must stay inside runs/
    out = Path(out_dir or Path("runs") / safe_filename(loaded.name))
    console = make_console(stderr=True)
    choice = DataChoice(data, resize, method) if data is not None else None
    progress = None if quiet else _progress(console)
    recorder = CurveRecorder(progress or TrainCallback())
    try:
        if resume:
            ignored = [f"--{name.replace('_', '-')}" for name in FIXED_ON_RESUME
                       if _given(ctx, name)]
            if ignored and not quiet:
                console.print(f"note: a resumed run keeps its own settings; ignoring "
                              f"{', '.join(ignored)}", highlight=False, markup=False)
            outcome = resume_run(loaded.network, out,
                                 epochs=epochs if _given(ctx, "epochs") else None,
                                 early_stopping=early_stopping
                                 if _given(ctx, "early_stopping") else None,
                                 data=choice, callback=recorder)
        else:
            config = TrainConfig(epochs=epochs, optimizer=optimizer,
                                 lr=lr if lr is not None else DEFAULT_LRS[optimizer],
                                 batch=batch, seed=seed, val_split=val_split,
                                 schedule=schedule, early_stopping=early_stopping,
                                 weight_decay=weight_decay, clip_norm=clip_norm, loss=loss,
                                 normalize=not no_normalize, augment=augment,
                                 aux_weight=aux_weight)
            labels = tuple(part for item in freeze for part in item.split(","))
            outcome = start_run(loaded.network, config, data=choice, out_dir=out,
                                overwrite=overwrite, init_from=init_from, freeze=labels,
                                callback=recorder)
    finally:
        if progress is not None:
            progress.close()
        recorder.plot(out, loaded.name)
    again = [spec, *(["--input", input_shape] if input_shape else []),
             *(["--conventions", conventions] if conventions else []), "--out-dir", str(out)]
    _report(outcome, again, out, console, quiet)


def _progress(console: Any) -> Any:
    from cnnspec.cli.train_progress import RichTrainProgress

    return RichTrainProgress(console)


class CurveRecorder:
    """Passes every hook on to ``inner`` and keeps the epoch rows for ``curves.png``."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.rows: list[dict[str, Any]] = []
        self.best_epoch: int | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def on_train_start(self, plan: Any) -> None:
        self.rows = list(plan.history)
        self.inner.on_train_start(plan)

    def on_epoch_end(self, row: Any, improved: bool) -> None:
        self.rows.append(row.to_dict())
        if improved:
            self.best_epoch = row.epoch
        self.inner.on_epoch_end(row, improved)

    def on_train_end(self, result: Any) -> None:
        self.best_epoch = result.best_epoch
        self.inner.on_train_end(result)

    def plot(self, out: Path, name: str) -> None:
        """Write ``out/curves.png`` when at least one epoch finished."""
        if not self.rows:
            return
        from cnnspec.render.plots import plot_training_curves

        plot_training_curves(self.rows, out / "curves.png", f"{name}: learning curves",
                             self.best_epoch)


def _report(outcome: Any, again: list[str], out: Path, console: Any, quiet: bool) -> None:
    """The end of a run: how to resume (interrupted, exit 130), or the test score."""
    result = outcome.result
    best = result.files.get("best")
    if result.interrupted:
        where = f"epoch {result.epochs_done + 1}, batch {result.position}/{result.batches}" \
            if result.position else f"the end of epoch {result.epochs_done}"
        command = " ".join(shlex.quote(a) for a in ("cnnspec", "train", *again, "--resume"))
        click.echo(f"interrupted at {where}; saved {out / 'last.npz'}. Resume with: {command}",
                   err=True)
        raise click.exceptions.Exit(130)
    if not quiet:
        if result.stopped_early:
            patience = outcome.config.early_stopping
            console.print(f"stopped early after epoch {result.epochs_done}: no better "
                          f"validation score for {patience} epoch{'s' * (patience != 1)}",
                          highlight=False)
        if outcome.test is not None:
            console.print(f"test accuracy {outcome.test.accuracy:.2%} "
                          f"({outcome.test.examples:,} images, best.npz from epoch "
                          f"{result.best_epoch}); training took {result.seconds:.1f}s",
                          highlight=False)
        from cnnspec.engine.train.run_folder import RUN_FILES

        # this run's files only: the folder may hold the user's own files too
        console.print(f"run folder {out}: " + ", ".join(
            name for name in sorted(RUN_FILES) if (out / name).is_file()),
            highlight=False, markup=False)
    if best is not None:
        click.echo(str(best))
