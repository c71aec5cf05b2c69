"""The training loop: files, resume equivalence, Ctrl-C, the NaN guard, early stopping."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cnnspec.engine.checkpoint import load_checkpoint
from cnnspec.engine.train import DataChoice, TrainCallback, TrainConfig, resume, train
from cnnspec.errors import EngineError, TrainingError
from tests.train.conftest import TINY_DROPOUT, tiny

FAST = {"batch": 32, "lr": 0.03, "schedule": "none", "augment": 0}


def run(out: Path, data: str, spec: str = TINY_DROPOUT, **options):
    config = TrainConfig(**{**FAST, **options})
    return train(tiny(spec).network, config, data=DataChoice(data), out_dir=out)


def test_a_run_learns_and_writes_its_folder(tmp_path: Path, data_spec: str) -> None:
    outcome = run(tmp_path / "run", data_spec, epochs=3)
    history = outcome.result.history
    assert [row.epoch for row in history] == [1, 2, 3]
    assert history[-1].train_loss < history[0].train_loss
    assert outcome.test is not None and outcome.test.accuracy > 0.7
    assert outcome.test.examples == 100
    for name in ("last.npz", "best.npz", "metrics.csv"):
        assert (tmp_path / "run" / name).is_file()
    with open(tmp_path / "run" / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc",
                             "seconds"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    last = load_checkpoint(tmp_path / "run" / "last.npz")
    assert last.info["epoch"] == 3 and last.info["position"] == 0
    assert last.info["config"]["optimizer"] == "adam"
    assert int(last.optimizer_state["step"]["t"]) == 3 * 9  # 270 examples / 32 -> 9 steps
    assert set(last.optimizer_state) == {"step", "m", "v"}
    assert last.info["rng"]["bit_generator"] == "PCG64"
    assert last.info["data"]["normalize"]["std"][0] > 0
    best = load_checkpoint(tmp_path / "run" / "best.npz")
    assert best.info["best"]["epoch"] == outcome.result.best_epoch
    assert not best.optimizer_state


def test_validation_split_is_stratified_and_seeded(tmp_path: Path, data_spec: str) -> None:
    outcome = run(tmp_path / "run", data_spec, epochs=1, val_split=0.1)
    plan_val = outcome.result.history[0]
    assert not np.isnan(plan_val.val_acc)
    last = load_checkpoint(tmp_path / "run" / "last.npz")
    assert last.info["history"][0]["val_acc"] == plan_val.val_acc


def _weights(path: Path) -> dict[str, np.ndarray]:
    checkpoint = load_checkpoint(path)
    arrays = dict(checkpoint.state)
    for slot, values in checkpoint.optimizer_state.items():
        arrays.update({f"optim/{slot}/{k}": v for k, v in values.items()})
    return arrays


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key


def test_two_plus_two_epochs_equal_four(tmp_path: Path, data_spec: str) -> None:
    network = tiny(TINY_DROPOUT).network  # dropout: the RNG state must resume too
    straight = run(tmp_path / "straight", data_spec, epochs=4, augment=1)
    run(tmp_path / "split", data_spec, epochs=2, augment=1)
    resumed = resume(network, tmp_path / "split", epochs=4)
    assert resumed.resumed_from == 2
    _same(_weights(tmp_path / "straight" / "last.npz"), _weights(tmp_path / "split" / "last.npz"))
    assert [r.train_loss for r in resumed.result.history] == \
        [r.train_loss for r in straight.result.history]


class StopAt(TrainCallback):
    """Raises KeyboardInterrupt, as Ctrl-C does, after a given batch."""

    def __init__(self, epoch: int, batch: int):
        self.at = (epoch, batch)

    def on_batch_end(self, progress) -> None:
        if (progress.epoch, progress.batch) == self.at:
            raise KeyboardInterrupt


def test_ctrl_c_saves_last_and_resumes_exactly(tmp_path: Path, data_spec: str) -> None:
    network = tiny(TINY_DROPOUT).network
    config = TrainConfig(**{**FAST, "augment": 1}, epochs=3)
    run(tmp_path / "straight", data_spec, epochs=3, augment=1)
    stopped = train(network, config, data=DataChoice(data_spec), out_dir=tmp_path / "cut",
                    callback=StopAt(2, 4))
    assert stopped.result.interrupted and stopped.test is None
    assert (stopped.result.epochs_done, stopped.result.position) == (1, 4)
    last = load_checkpoint(tmp_path / "cut" / "last.npz")  # loadable, mid-epoch position
    assert last.info["epoch"] == 1 and last.info["position"] == 4
    resume(network, tmp_path / "cut")
    _same(_weights(tmp_path / "straight" / "last.npz"), _weights(tmp_path / "cut" / "last.npz"))


def test_a_huge_learning_rate_stops_naming_a_layer(tmp_path: Path, data_spec: str) -> None:
    with pytest.raises(TrainingError) as info:
        run(tmp_path / "run", data_spec, epochs=2, optimizer="sgd", lr=1e12)
    error = info.value
    assert "the loss became nan" in error.message
    assert "layer FC:1 is the first whose output is not finite" in error.message
    assert "lower the learning rate" in error.hint and "--lr 1e+11" in error.hint


def test_early_stopping_stops_when_nothing_improves(tmp_path: Path, data_spec: str) -> None:
    # a rate this small leaves float32 weights unchanged: the score never improves
    outcome = run(tmp_path / "run", data_spec, epochs=6, optimizer="sgd", lr=1e-30,
                  early_stopping=2)
    assert outcome.result.stopped_early
    assert outcome.result.epochs_done == 3
    assert outcome.result.best_epoch == 3  # equal validation accuracy: the later epoch


def test_an_existing_run_is_not_overwritten(tmp_path: Path, data_spec: str) -> None:
    run(tmp_path / "run", data_spec, epochs=1)
    with pytest.raises(TrainingError, match="already holds a run") as info:
        run(tmp_path / "run", data_spec, epochs=1)
    assert "--resume" in info.value.hint


def test_resume_needs_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="nothing to resume"):
        resume(tiny().network, tmp_path / "empty")


def test_resume_of_a_finished_run_asks_for_more_epochs(tmp_path: Path, data_spec: str) -> None:
    run(tmp_path / "run", data_spec, epochs=1)
    with pytest.raises(TrainingError, match="already trained 1 of 1") as info:
        resume(tiny(TINY_DROPOUT).network, tmp_path / "run")
    assert "--epochs" in info.value.hint


def test_resume_with_another_spec_names_the_layer(tmp_path: Path, data_spec: str) -> None:
    run(tmp_path / "run", data_spec, epochs=1)
    other = tiny("Conv(3x3,6)-ReLU-Pool(2)-Dropout(0.25)-FC(10)-SM").network
    with pytest.raises(EngineError, match="layer Conv:1"):
        resume(other, tmp_path / "run", epochs=2)


def test_more_classes_than_outputs_is_a_clear_error(tmp_path: Path, data_spec: str) -> None:
    from cnnspec.errors import DataError

    with pytest.raises(DataError, match=r"10 classes but .* ends in 5 outputs"):
        run(tmp_path / "run", data_spec, spec="Conv(3x3,8)-ReLU-Pool(2)-FC(5)-SM", epochs=1)


def test_shift_augmentation_moves_images_and_fills_blank() -> None:
    from cnnspec.engine.train.batches import epoch_shifts, shift_images

    x = np.arange(18, dtype=np.float32).reshape(2, 1, 3, 3)
    out = shift_images(x, np.array([[1, 0], [0, -1]]), (-1.0,))
    assert out[0, 0].tolist() == [[-1, -1, -1], [0, 1, 2], [3, 4, 5]]  # down by one row
    assert out[1, 0].tolist() == [[10, 11, -1], [13, 14, -1], [16, 17, -1]]  # left by one
    shifts = epoch_shifts(1000, 2, seed=0, epoch=3)
    assert shifts.min() == -2 and shifts.max() == 2
    assert np.array_equal(shifts, epoch_shifts(1000, 2, seed=0, epoch=3))
    assert not np.array_equal(shifts, epoch_shifts(1000, 2, seed=0, epoch=4))
