"""The NaN/inf guard: notice a non-finite step, then find the layer where it began.

Room: engine (``cnnspec/engine/train``); imports NumPy, the engine and :mod:`cnnspec.errors`.

Checking every activation on every step would slow training down, so the loop checks
only the loss and the gradients (:func:`step_is_finite`). When one is not finite,
:func:`diagnose` replays the same batch with every leaf layer's ``forward`` and
``backward`` watched, and names the first layer, in forward order, whose output is
not finite -- or, when every output is finite, the first layer in backward order
whose gradient is not -- or, before all that, a layer whose weights already are not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from cnnspec.errors import TrainingError


def step_is_finite(loss: float, grads: Mapping[str, np.ndarray]) -> bool:
    """True when the loss and every gradient entry are finite numbers."""
    if not math.isfinite(loss):
        return False
    # one reduction per array: the sum of a finite array can still overflow to inf,
    # so test the entries, not the sum
    return all(bool(np.isfinite(g).all()) for g in grads.values())


def _watch(layer: Any, found: dict[str, str], phase: str) -> None:
    original: Callable[..., np.ndarray] = getattr(layer, phase)

    def watched(*args: Any) -> np.ndarray:
        out = original(*args)
        bad_out = out is not None and not np.isfinite(out).all()  # None: dx not needed
        bad_grads = phase == "backward" and any(
            not np.isfinite(g).all() for g in layer.grads.values())
        if (bad_out or bad_grads) and phase not in found:
            found[phase] = layer.name
        return out

    setattr(layer, phase, watched)  # an instance attribute shadows the method


def find_non_finite(model: Any, x: np.ndarray, y: np.ndarray, loss: str,
                    rng: np.random.Generator) -> str:
    """Which layer a replay of one training step on (x, y) goes non-finite in, as a phrase."""
    for layer in model.layers:
        for key, value in layer.params.items():
            if not np.isfinite(value).all():
                return (f"the {key} of layer {layer.name} is no longer finite (an earlier "
                        "update overflowed)")
    found: dict[str, str] = {}
    for layer in model.layers:
        _watch(layer, found, "forward")
        _watch(layer, found, "backward")
    split, model.splits_batches = model.splits_batches, False  # every example watched here
    try:
        with np.errstate(all="ignore"):
            value, _ = model.loss_and_grads(x, y, loss=loss, rng=rng)
    finally:
        model.splits_batches = split
        for layer in model.layers:
            del layer.forward, layer.backward
    if "forward" in found:
        return f"layer {found['forward']} is the first whose output is not finite"
    if not math.isfinite(value):
        last = model.layers[-1].name if model.layers else "the network"
        return f"the {loss} loss of the output of {last} overflowed"
    if "backward" in found:
        return (f"layer {found['backward']} is the first, going backward, whose gradient is "
                "not finite")
    return "the step did not go non-finite again when repeated"


def non_finite_error(model: Any, x: np.ndarray, y: np.ndarray, *, loss_name: str,
                     loss: float, lr: float, epoch: int, batch: int,
                     rng: np.random.Generator) -> TrainingError:
    """The TrainingError for a non-finite step: where, which layer, and what to try."""
    what = f"the loss became {loss:g}" if not math.isfinite(loss) else \
        f"the gradients became non-finite (loss {loss:.4g})"
    where = find_non_finite(model, x, y, loss_name, rng)
    return TrainingError(
        f"training stopped at epoch {epoch}, batch {batch}: {what}; {where}",
        hint=f"lower the learning rate (--lr {lr / 10:g} instead of {lr:g}) or limit the "
             "step with --clip-norm 1.0",
    )
