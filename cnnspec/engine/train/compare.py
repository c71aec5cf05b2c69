"""The lecture's learning-curve comparison: the seven optimisers on the same task.

Room: engine (``cnnspec/engine/train``); imports NumPy, the engine and :mod:`cnnspec.errors`.

Every optimiser starts from the same weights (``build(seed=seed)``), sees the same
mini-batches in the same order (:func:`epoch_batches`) and the same dropout masks
(a generator seeded alike), so the curves differ only by the update rule. A rule whose
loss turns NaN/inf is marked diverged and stopped; the others go on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnspec.engine.model import build
from cnnspec.engine.optim import OPTIMIZERS, make_optimizer
from cnnspec.engine.train.batches import TrainData, epoch_batches, train_step
from cnnspec.engine.train.callbacks import BatchProgress
from cnnspec.engine.train.config import DEFAULT_LRS
from cnnspec.engine.train.guard import step_is_finite
from cnnspec.engine.train.metrics import evaluate
from cnnspec.errors import TrainingError
from cnnspec.spec.tree import Network

# Each rule runs at a rate in its own good range (config.DEFAULT_LRS, chosen on LeNet-5
# with the embedded digits): the plot compares the shapes of the curves, not a race at
# one shared rate, which would favour whichever rule that rate suits.
COMPARE_LR = DEFAULT_LRS


@dataclass
class OptimizerCurve:
    """One optimiser's run: the loss after every step and the summary per epoch."""

    name: str
    lr: float
    losses: list[float] = field(default_factory=list)  # per iteration
    epoch_losses: list[float] = field(default_factory=list)  # mean per epoch
    accuracy: float = float("nan")  # on the held-out set after the last epoch
    seconds: float = 0.0
    diverged: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {"name": self.name, "lr": self.lr, "losses": self.losses,
                "epoch_losses": self.epoch_losses, "accuracy": self.accuracy,
                "seconds": self.seconds, "diverged": self.diverged}


class CompareCallback:
    """Progress of :func:`compare_optimizers`; every hook does nothing unless overridden."""

    def on_optimizer_start(self, name: str, lr: float, index: int, count: int) -> None:
        """Before optimiser ``index`` (0-based) of ``count`` starts."""

    def on_batch_end(self, name: str, progress: BatchProgress) -> None:
        """After each step."""

    def on_optimizer_end(self, curve: OptimizerCurve) -> None:
        """After an optimiser's last epoch (or its divergence)."""


def learning_rates(names: Iterable[str], overrides: dict[str, float] | None = None
                   ) -> dict[str, float]:
    """The rate each named optimiser runs at: :data:`COMPARE_LR`, then ``overrides``."""
    overrides = overrides or {}
    unknown = [n for n in [*names, *overrides] if n not in OPTIMIZERS]
    if unknown:
        raise TrainingError(f"unknown optimizer {unknown[0]!r}",
                            hint=f"known optimizers: {', '.join(OPTIMIZERS)}")
    return {n: overrides.get(n, COMPARE_LR[n]) for n in names}


def run_curve(network: Network, data: TrainData, name: str, lr: float, *, epochs: int,
              batch: int, seed: int, loss: str = "cross_entropy",
              callback: CompareCallback | None = None) -> OptimizerCurve:
    """Train a fresh ``build(network, seed=seed)`` with optimiser ``name`` and record it."""
    callback = callback or CompareCallback()
    model = build(network, seed=seed)
    optimizer = make_optimizer(name, lr)
    rng = np.random.default_rng([seed, 1])
    curve = OptimizerCurve(name, lr)
    started = time.perf_counter()
    for epoch in range(epochs):
        batches = epoch_batches(len(data.y_train), batch, seed, epoch)
        total, seen = 0.0, 0
        for k, idx in enumerate(batches):
            value, _ = train_step(model, data.x_train[idx], data.y_train[idx], loss, rng)
            if not step_is_finite(value, model.grads):
                curve.diverged = True
                curve.losses.append(float("nan"))
                break
            optimizer.step(model.params, model.grads)
            curve.losses.append(value)
            total += value * len(idx)
            seen += len(idx)
            callback.on_batch_end(name, BatchProgress(
                epoch + 1, epochs, k + 1, len(batches), seen, total / seen, math.nan,
                time.perf_counter() - started))
        if curve.diverged:
            break
        curve.epoch_losses.append(total / seen)
    if not curve.diverged and len(data.y_val):
        curve.accuracy = evaluate(model, data.x_val, data.y_val, loss)[1]
    curve.seconds = time.perf_counter() - started
    return curve


def compare_optimizers(network: Network, data: TrainData, *, names: Iterable[str] = OPTIMIZERS,
                       lrs: dict[str, float] | None = None, epochs: int = 3, batch: int = 32,
                       seed: int = 0, loss: str = "cross_entropy",
                       callback: CompareCallback | None = None) -> list[OptimizerCurve]:
    """One :class:`OptimizerCurve` per optimiser, in the order of ``names``."""
    callback = callback or CompareCallback()
    rates = learning_rates(list(names), lrs)
    curves = []
    for index, (name, lr) in enumerate(rates.items()):
        callback.on_optimizer_start(name, lr, index, len(rates))
        curve = run_curve(network, data, name, lr, epochs=epochs, batch=batch, seed=seed,
                          loss=loss, callback=callback)
        callback.on_optimizer_end(curve)
        curves.append(curve)
    return curves
