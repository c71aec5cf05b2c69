"""Checkpoint writes are atomic; optimiser state and RNG state round-trip exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnspec.engine.checkpoint import load_checkpoint
from cnnspec.engine.optim import make_optimizer
from cnnspec.engine.train.run_state import (
    load_run,
    optimizer_slots,
    optimizer_state,
    rng_from_json,
    rng_to_json,
    save_run,
)
from cnnspec.errors import TrainingError
from tests.train.conftest import tiny


def test_a_failed_write_leaves_the_previous_checkpoint_intact(tmp_path: Path,
                                                              monkeypatch) -> None:
    model = tiny().build(seed=0)
    path = tmp_path / "last.npz"
    save_run(path, model, {"epoch": 1})
    before = path.read_bytes()

    def crash(handle, **arrays):
        handle.write(b"PK\x03\x04 half a zip file")  # bytes reach the disk, then it fails
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    model.params["Conv:1.weight"][...] = 7.0
    with pytest.raises(OSError, match="disk full"):
        save_run(path, model, {"epoch": 2})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_checkpoint(path).info["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.npz"]  # no temp file left


def test_optimizer_state_round_trips(tmp_path: Path) -> None:
    model = tiny().build(seed=0)
    optimizer = make_optimizer("adam", 0.01)
    grads = {k: np.ones_like(v) for k, v in model.params.items()}
    optimizer.step(model.params, grads)
    optimizer.step(model.params, grads)
    state = optimizer.state_dict()
    back = optimizer_state(optimizer_slots(state))
    assert back.keys() == state.keys()
    assert all(np.array_equal(back[k], state[k]) for k in state)
    save_run(tmp_path / "last.npz", model, {"epoch": 1, "config": {}}, optimizer)
    loaded = load_run(tmp_path / "last.npz")
    again = optimizer_state(loaded.optimizer_state)
    assert all(np.array_equal(again[k], state[k]) for k in state)


def test_rng_state_round_trips_through_json() -> None:
    import json

    rng = np.random.default_rng(5)
    rng.random(3)
    copy = rng_from_json(json.loads(json.dumps(rng_to_json(rng))))
    assert np.array_equal(copy.random(4), rng.random(4))


def test_best_npz_cannot_be_resumed(tmp_path: Path) -> None:
    model = tiny().build(seed=0)
    save_run(tmp_path / "best.npz", model, {"epoch": 1, "config": {}})
    with pytest.raises(TrainingError, match="no optimiser state") as info:
        load_run(tmp_path / "best.npz")
    assert "--init-from" in info.value.hint
