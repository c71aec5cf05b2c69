"""What a training checkpoint holds beyond the weights, and how it goes in and out.

Room: engine (``cnnspec/engine/train``); imports NumPy, the engine and :mod:`cnnspec.errors`.

A run folder holds ``last.npz`` (written after every epoch and on Ctrl-C, with the
optimiser state) and ``best.npz`` (the best validation score so far), both written
atomically by :func:`cnnspec.engine.checkpoint.save_checkpoint`. ``meta/info`` carries:

* ``kind``: ``"cnnspec-train"``; ``epoch``: epochs finished; ``position``: batches of
  the next epoch already done (non-zero after Ctrl-C) and ``partial`` sums for them;
* ``config`` (:class:`TrainConfig`), ``history`` (one metrics row per epoch),
  ``best`` and ``stale`` (early stopping), ``rng`` (the dropout generator's state),
  ``data`` (what was trained on) and ``transfer`` (loaded / frozen / new layers).

The optimiser's ``state_dict`` (``"t"`` and ``"slot/param"`` arrays) is stored under
``optim/step/t`` and ``optim/{slot}/{param}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnnspec.engine.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from cnnspec.errors import TrainingError

KIND = "cnnspec-train"
STEP_SLOT = "step"


def optimizer_slots(state: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """An optimiser ``state_dict`` regrouped as ``{slot: {param: array}}`` for saving."""
    slots: dict[str, dict[str, np.ndarray]] = {STEP_SLOT: {"t": state["t"]}}
    for key, value in state.items():
        if key != "t":
            slot, _, name = key.partition("/")
            slots.setdefault(slot, {})[name] = value
    return slots


def optimizer_state(slots: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The inverse of :func:`optimizer_slots`: a ``state_dict`` to load."""
    state: dict[str, np.ndarray] = {}
    for slot, values in slots.items():
        for name, value in values.items():
            state["t" if slot == STEP_SLOT else f"{slot}/{name}"] = value
    return state


def rng_to_json(rng: np.random.Generator) -> dict[str, Any]:
    """A generator's exact state as JSON values (PCG64's state is two big integers)."""
    return rng.bit_generator.state


def rng_from_json(state: dict[str, Any]) -> np.random.Generator:
    """A generator restored to ``state`` (from :func:`rng_to_json`)."""
    generator = np.random.default_rng()
    generator.bit_generator.state = state
    return generator


def save_run(path: Path, model: Any, info: dict[str, Any], optimizer: Any = None) -> None:
    """Write a training checkpoint atomically (see the module docstring for ``info``)."""
    slots = optimizer_slots(optimizer.state_dict()) if optimizer is not None else None
    save_checkpoint(path, model, info={"kind": KIND, **info}, optimizer_state=slots)


def load_run(path: Path) -> Checkpoint:
    """A ``last.npz`` to resume from; a TrainingError when it cannot be resumed."""
    if not path.is_file():
        raise TrainingError(f"nothing to resume: {path} does not exist",
                            hint="train without --resume first, or point --out-dir at the run "
                                 "folder that holds last.npz")
    checkpoint = load_checkpoint(path)
    if checkpoint.info.get("kind") != KIND or "config" not in checkpoint.info:
        raise TrainingError(f"{path} is not a training checkpoint of cnnspec train",
                            hint="resume from the last.npz of a run folder")
    if not checkpoint.optimizer_state:
        raise TrainingError(f"{path} holds no optimiser state, so it cannot be resumed "
                            "exactly", hint="resume from last.npz, not best.npz; to start "
                                            "from its weights use --init-from")
    return checkpoint


def metrics_csv(rows: list[Any]) -> str:
    """``metrics.csv`` text: a header of :attr:`EpochRow.COLUMNS` and one line per epoch."""
    if not rows:
        return ""
    columns = rows[0].COLUMNS
    lines = [",".join(columns)]
    for row in rows:
        values = row.to_dict()
        lines.append(",".join(_csv_number(values[c]) for c in columns))
    return "\n".join(lines) + "\n"


def _csv_number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return "" if value != value else f"{value:.6g}"  # NaN (no validation set) -> empty
