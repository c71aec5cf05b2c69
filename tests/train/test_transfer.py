"""Transfer learning (SEEDS.md 5.2.6): load matching layers, freeze them, train a new head."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnspec.engine.checkpoint import load_checkpoint
from cnnspec.engine.train import DataChoice, TrainConfig, train
from cnnspec.engine.train.transfer import select_layers
from cnnspec.errors import TrainingError
from tests.train.conftest import TINY, tiny

NEW_HEAD = "Conv(3x3,8)-ReLU-Pool(2)-FC(24)-ReLU-FC(10)-SM"
CONFIG = TrainConfig(epochs=2, lr=0.03, batch=32, schedule="none", augment=0)


@pytest.fixture
def trained(tmp_path: Path, data_spec: str) -> Path:
    train(tiny(TINY).network, CONFIG, data=DataChoice(data_spec), out_dir=tmp_path / "base")
    return tmp_path / "base" / "best.npz"


def test_frozen_layers_stay_bit_identical_and_the_head_learns(
        tmp_path: Path, data_spec: str, trained: Path) -> None:
    outcome = train(tiny(NEW_HEAD).network, CONFIG, data=DataChoice(data_spec),
                    out_dir=tmp_path / "head", init_from=str(trained), freeze=("conv",))
    report = outcome.result.transfer
    assert report.loaded == ("Conv:1",)
    assert report.frozen == ("Conv:1",)
    assert report.new == ("FC:1", "FC:2")
    assert report.reasons["FC:1"] == "weight is 72x24 here, 72x10 in the checkpoint"
    assert report.reasons["FC:2"] == "not in the checkpoint"
    source = load_checkpoint(trained).state
    after = load_checkpoint(tmp_path / "head" / "last.npz").state
    assert np.array_equal(after["Conv:1.weight"], source["Conv:1.weight"])
    assert np.array_equal(after["Conv:1.bias"], source["Conv:1.bias"])
    fresh = tiny(NEW_HEAD).build(seed=0).params
    assert not np.array_equal(after["FC:2.weight"], fresh["FC:2.weight"])
    assert outcome.result.history[-1].train_loss < outcome.result.history[0].train_loss
    info = load_checkpoint(tmp_path / "head" / "last.npz").info
    assert info["transfer"]["frozen"] == ["Conv:1"]


def test_loaded_but_not_frozen_layers_keep_training(tmp_path: Path, data_spec: str,
                                                    trained: Path) -> None:
    train(tiny(NEW_HEAD).network, CONFIG, data=DataChoice(data_spec), out_dir=tmp_path / "ft",
          init_from=str(trained))
    source = load_checkpoint(trained).state
    after = load_checkpoint(tmp_path / "ft" / "last.npz").state
    assert not np.array_equal(after["Conv:1.weight"], source["Conv:1.weight"])


def test_freeze_takes_kinds_and_labels() -> None:
    model = tiny(NEW_HEAD).build(seed=0)
    assert select_layers(model, ["conv"]) == ["Conv:1"]
    assert select_layers(model, ["fc"]) == ["FC:1", "FC:2"]
    assert select_layers(model, ["fc:2", "Conv:1"]) == ["Conv:1", "FC:2"]


def test_a_bad_freeze_label_suggests_the_closest() -> None:
    model = tiny(NEW_HEAD).build(seed=0)
    with pytest.raises(TrainingError, match="--freeze Conv:2: no such layer") as info:
        select_layers(model, ["Conv:2"])
    assert "did you mean 'Conv:1'?" in info.value.hint
    with pytest.raises(TrainingError, match="ReLU:1 has no weights"):
        select_layers(model, ["ReLU:1"])


def test_init_from_with_nothing_in_common_is_an_error(tmp_path: Path, data_spec: str,
                                                      trained: Path) -> None:
    other = tiny("Conv(5x5,3)-ReLU-FC(10)-SM").network
    with pytest.raises(TrainingError, match=r"no layer of .* matches"):
        train(other, CONFIG, data=DataChoice(data_spec), out_dir=tmp_path / "x",
              init_from=str(trained))


def test_frozen_batch_norm_keeps_its_statistics(tmp_path: Path, data_spec: str) -> None:
    spec = "Conv(3x3,8)-BN-ReLU-Pool(2)-FC(10)-SM"
    train(tiny(spec).network, CONFIG, data=DataChoice(data_spec), out_dir=tmp_path / "a")
    train(tiny(spec).network, CONFIG, data=DataChoice(data_spec), out_dir=tmp_path / "b",
          init_from=str(tmp_path / "a" / "last.npz"), freeze=("Conv:1", "bn:1"))
    before = load_checkpoint(tmp_path / "a" / "last.npz").state
    after = load_checkpoint(tmp_path / "b" / "last.npz").state
    for key in ("Conv:1.weight", "BN:1.weight", "BN:1.running_mean", "BN:1.running_var"):
        assert np.array_equal(before[key], after[key]), key
    assert not np.array_equal(before["FC:1.weight"], after["FC:1.weight"])
