"""Every one of the seven optimisers lowers the training loss on the digits."""

from __future__ import annotations

import numpy as np
import pytest

from cnnspec.engine.optim import OPTIMIZERS
from cnnspec.engine.train.compare import compare_optimizers
from cnnspec.engine.train.session import DataChoice, prepare_data
from cnnspec.errors import TrainingError
from tests.train.conftest import TINY, tiny


@pytest.fixture(scope="module")
def curves(digits_file):
    network = tiny(TINY).network
    prepared = prepare_data(tiny(TINY).build(seed=0), DataChoice(f"npz:{digits_file}"), 0.1,
                            0, True)
    return compare_optimizers(network, prepared.split, epochs=3, batch=32, seed=0)


def test_all_seven_run_on_the_same_batches(curves) -> None:
    assert [c.name for c in curves] == list(OPTIMIZERS)
    assert all(len(c.losses) == 3 * 9 and len(c.epoch_losses) == 3 for c in curves)
    # same initial weights and the same first batch: the first losses agree exactly
    assert len({c.losses[0] for c in curves}) == 1


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_optimizer_lowers_the_training_loss(curves, name: str) -> None:
    curve = next(c for c in curves if c.name == name)
    assert not curve.diverged
    assert curve.epoch_losses[-1] < 0.8 * curve.epoch_losses[0], curve.epoch_losses
    assert np.mean(curve.losses[-5:]) < np.mean(curve.losses[:5])
    assert curve.accuracy > 0.2  # better than chance (0.1) after 27 steps


def test_an_unknown_optimizer_is_named(digits_file) -> None:
    prepared = prepare_data(tiny().build(seed=0), DataChoice(f"npz:{digits_file}"), 0.1, 0,
                            True)
    with pytest.raises(TrainingError, match="unknown optimizer 'adamw'"):
        compare_optimizers(tiny().network, prepared.split, names=["adamw"])
