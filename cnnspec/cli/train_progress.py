"""Training progress on stderr: a rich progress bar per epoch and a row per finished epoch.

Room: consumers (cli). The engine reports through
:class:`cnnspec.engine.train.TrainCallback`; this module draws it.
"""

from __future__ import annotations

import math
from typing import Any

from cnnspec.engine.train.callbacks import BatchProgress, EpochRow, RunPlan, TrainCallback
from cnnspec.engine.train.compare import CompareCallback, OptimizerCurve
from cnnspec.render.safe_text import styled

HEADER = (f"{'epoch':>7}  {'lr':>9}  {'train loss':>10}  {'train acc':>9}  {'val loss':>9}  "
          f"{'val acc':>8}  {'time':>6}")


def epoch_line(row: EpochRow, epochs: int, improved: bool) -> str:
    """One aligned row of the per-epoch table (``*`` marks a new best.npz)."""
    def num(value: float, fmt: str) -> str:
        return "-" if math.isnan(value) else format(value, fmt)

    return (f"{f'{row.epoch}/{epochs}':>7}  {row.lr:>9.3g}  "
            f"{row.train_loss:>10.4f}  {row.train_acc:>9.2%}  {num(row.val_loss, '.4f'):>9}  "
            f"{num(row.val_acc, '.2%'):>8}  {row.seconds:>5.1f}s" + ("  *" if improved else ""))


def _bar(console: Any) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[stats]}"), TimeRemainingColumn(),
                    console=console, transient=True)


def _stats(progress: BatchProgress) -> str:
    rate = progress.examples / progress.seconds if progress.seconds > 0 else 0.0
    acc = "" if math.isnan(progress.accuracy) else f" acc {progress.accuracy:.1%}"
    return f"loss {progress.loss:.4f}{acc} {rate:,.0f} ex/s"


class _NoBar:
    """Stands in for the progress bar when stderr is not a terminal (logs, pipes)."""

    def __init__(self, console: Any):
        self.console = console

    def start(self) -> None:
        """Nothing to draw."""

    def stop(self) -> None:
        """Nothing to clear."""

    def add_task(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def remove_task(self, task: Any) -> None:
        """No task."""

    def update(self, task: Any, **kwargs: Any) -> None:
        """No bar."""


def _bar_for(console: Any) -> Any:
    return _bar(console) if console.is_terminal else _NoBar(console)


class RichTrainProgress(TrainCallback):
    """Draws a run: its plan, a bar per epoch (loss, accuracy, examples/s, ETA), a table."""

    def __init__(self, console: Any):
        self.console = console
        self.bar = _bar_for(console)
        self.task: Any = None
        self.epochs = 0
        self.start_batch = 0

    def on_train_start(self, plan: RunPlan) -> None:
        from rich.text import Text

        c = plan.config
        self.epochs = plan.epochs
        self.start_batch = plan.start_batch
        print_ = self.console.print
        print_(Text.assemble(
            styled(plan.name, "bold"),
            f": {plan.train_examples:,} training / {plan.val_examples:,} validation images, "
            f"{plan.batches} batches of {c['batch']}, {c['optimizer']} lr {c['lr']:g} "
            f"({c['schedule']} schedule), {plan.epochs} epochs, seed {c['seed']} -> ",
            styled(plan.out_dir)), highlight=False)
        inputs = ["inputs standardised per channel" if c["normalize"] else "inputs in [0, 1]"]
        if c["augment"]:
            inputs.append(f"random shifts of up to {c['augment']} px")
        if c["weight_decay"]:
            inputs.append(f"weight decay {c['weight_decay']:g}")
        if c["clip_norm"]:
            inputs.append(f"gradient norm clipped at {c['clip_norm']:g}")
        print_(", ".join(inputs), highlight=False)
        if plan.start_epoch or plan.start_batch:
            where = f"epoch {plan.start_epoch + 1}" + (
                f", batch {plan.start_batch + 1}" if plan.start_batch else "")
            print_(f"resuming at {where}", highlight=False)
        for line in transfer_lines(plan.transfer):
            print_(line, highlight=False, markup=False)
        print_(HEADER, style="bold", highlight=False)
        self.bar.start()

    def on_epoch_start(self, epoch: int, lr: float, batches: int) -> None:
        if self.task is not None:
            self.bar.remove_task(self.task)
        done = self.start_batch
        self.start_batch = 0
        self.task = self.bar.add_task(f"epoch {epoch}/{self.epochs}", total=batches,
                                      completed=done, stats="")

    def on_batch_end(self, progress: BatchProgress) -> None:
        self.bar.update(self.task, completed=progress.batch, stats=_stats(progress))

    def on_epoch_end(self, row: EpochRow, improved: bool) -> None:
        self.bar.console.print(epoch_line(row, self.epochs, improved), highlight=False,
                               markup=False)

    def on_train_end(self, result: Any) -> None:
        self.close()

    def close(self) -> None:
        """Stop drawing (also after an error)."""
        self.bar.stop()


def transfer_lines(transfer: dict[str, Any]) -> list[str]:
    """The transfer-learning report: loaded, frozen and new layers (empty when unused)."""
    if not transfer.get("source") and not transfer.get("frozen"):
        return []
    lines = []
    if transfer.get("source"):
        loaded = ", ".join(transfer["loaded"]) or "none"
        lines.append(f"loaded from {transfer['source']}: {loaded}")
    lines.append(f"frozen: {', '.join(transfer['frozen']) or 'none'}")
    reasons = transfer.get("reasons", {})
    new = [f"{name} ({reasons[name]})" if name in reasons and transfer.get("source") else name
           for name in transfer.get("new", ())]
    lines.append(f"new (trained from scratch): {', '.join(new) or 'none'}")
    return lines


class RichCompareProgress(CompareCallback):
    """One bar per optimiser while ``cnnspec optimizers`` runs, a line as each ends."""

    def __init__(self, console: Any, epochs: int):
        self.console = console
        self.bar = _bar_for(console)
        self.epochs = epochs
        self.task: Any = None

    def on_optimizer_start(self, name: str, lr: float, index: int, count: int) -> None:
        if self.task is None:
            self.bar.start()
        else:
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(f"{index + 1}/{count} {name:<9}", total=None, stats="")

    def on_batch_end(self, name: str, progress: BatchProgress) -> None:
        self.bar.update(self.task, total=progress.batches * self.epochs,
                        completed=(progress.epoch - 1) * progress.batches + progress.batch,
                        stats=f"epoch {progress.epoch} " + _stats(progress))

    def on_optimizer_end(self, curve: OptimizerCurve) -> None:
        end = "diverged" if curve.diverged else f"final epoch loss {curve.epoch_losses[-1]:.4f}"
        self.bar.console.print(f"{curve.name:<9} lr {curve.lr:<6g} {end} "
                               f"({curve.seconds:.1f}s)", highlight=False, markup=False)

    def close(self) -> None:
        """Stop drawing."""
        self.bar.stop()
