"""Learning curves as PNG files: one training run, or the seven optimisers side by side.

Room: consumers (render). Reads plain rows (dicts / lists of floats), never the engine's
objects. matplotlib is imported inside the functions, with the Agg backend (no display),
and figures are made with ``matplotlib.figure.Figure`` (no pyplot global state). Files
are written atomically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cnnspec.atomic import atomic_path
from cnnspec.render.safe_text import mathtext

SMOOTH = 20  # iterations in the moving average drawn over the raw per-step losses


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(fig: Any, path: str | Path) -> Path:
    target = Path(path)
    with atomic_path(target, ".png") as tmp:
        fig.savefig(tmp, format="png")
    return target


def _finite(values: Sequence[float]) -> list[float]:
    return [v if v is not None and math.isfinite(v) else math.nan for v in values]


def plot_training_curves(rows: Sequence[dict[str, Any]], path: str | Path,
                         title: str = "", best_epoch: int | None = None) -> Path:
    """``curves.png``: loss (left) and accuracy (right) per epoch, training and validation.

    ``rows`` are ``metrics.csv`` rows: ``epoch``, ``train_loss``, ``train_acc``,
    ``val_loss``, ``val_acc`` (NaN when there is no validation set). A dashed line
    marks ``best_epoch`` (the epoch saved as ``best.npz``).
    """
    fig = _figure(9.0, 3.6)
    loss_ax, acc_ax = fig.subplots(1, 2)
    epochs = [int(r["epoch"]) for r in rows]
    for ax, key, label in ((loss_ax, "loss", "loss"), (acc_ax, "acc", "accuracy")):
        ax.plot(epochs, _finite([r[f"train_{key}"] for r in rows]), "o-", ms=3,
                label=f"training {label}")
        val = _finite([r[f"val_{key}"] for r in rows])
        if any(math.isfinite(v) for v in val):
            ax.plot(epochs, val, "s-", ms=3, label=f"validation {label}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
        if epochs:
            ax.set_xticks(_ticks(epochs))
        if best_epoch is not None:
            ax.axvline(best_epoch, color="grey", ls="--", lw=0.8)
    if rows and all(r["train_loss"] > 0 for r in rows):
        loss_ax.set_yscale("log")
    acc_ax.yaxis.set_major_formatter(_percent())
    if best_epoch is not None and epochs:
        right_half = best_epoch > (epochs[0] + epochs[-1]) / 2  # label on the roomier side
        acc_ax.annotate("best.npz", (best_epoch, 0.03), xycoords=("data", "axes fraction"),
                        xytext=(-3 if right_half else 3, 0), textcoords="offset points",
                        ha="right" if right_half else "left", fontsize=8, color="grey")
    fig.suptitle(mathtext(title) if title else "learning curves")
    return _save(fig, path)


def plot_optimizer_curves(curves: Sequence[dict[str, Any]], path: str | Path,
                          title: str = "") -> Path:
    """One figure comparing optimisers: training loss per iteration and per epoch.

    ``curves``: dicts with ``name``, ``lr``, ``losses`` (per iteration) and
    ``epoch_losses``. Left: every step's loss, faint, with a ``SMOOTH``-step moving
    average on top; right: the mean loss of each epoch. Both on a log scale.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import colormaps

    fig = _figure(11.0, 4.4)
    step_ax, epoch_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    colours = colormaps["tab10"]
    for i, curve in enumerate(curves):
        colour = colours(i % 10)
        label = f"{curve['name']} (lr {curve['lr']:g})"
        losses = _finite(curve["losses"])
        steps = list(range(1, len(losses) + 1))
        step_ax.plot(steps, losses, color=colour, alpha=0.18, lw=0.7)
        step_ax.plot(steps, _moving_average(losses, SMOOTH), color=colour, lw=1.6, label=label)
        epoch_losses = _finite(curve["epoch_losses"])
        epoch_ax.plot(range(1, len(epoch_losses) + 1), epoch_losses, "o-", color=colour,
                      ms=4, label=label)
    step_ax.set_xlabel("iteration (mini-batch)")
    step_ax.set_ylabel("training loss")
    step_ax.set_title(f"per iteration ({SMOOTH}-step moving average over the raw loss)",
                      fontsize=9)
    epoch_ax.set_xlabel("epoch")
    epoch_ax.set_ylabel("mean training loss")
    epoch_ax.set_title("per epoch", fontsize=9)
    longest = max((len(c["epoch_losses"]) for c in curves), default=0)
    if longest:
        epoch_ax.set_xticks(_ticks(list(range(1, longest + 1))))
    for ax in (step_ax, epoch_ax):
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    step_ax.legend(fontsize=8, ncols=2)
    fig.suptitle(mathtext(title) if title else "optimisers compared on the same batches")
    return _save(fig, path)


def _moving_average(values: list[float], width: int) -> list[float]:
    """Mean of the last ``width`` finite values at each step (fewer at the start)."""
    out, window = [], []
    for v in values:
        window.append(v)
        if len(window) > width:
            window.pop(0)
        finite = [w for w in window if math.isfinite(w)]
        out.append(sum(finite) / len(finite) if finite else math.nan)
    return out


def _ticks(epochs: list[int]) -> list[int]:
    step = max(1, math.ceil(len(epochs) / 12))
    return epochs[::step]


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)
