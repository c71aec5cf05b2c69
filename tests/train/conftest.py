"""Tiny specs and a tiny real data set (a slice of scikit-learn's 8x8 digits)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cnnspec
from cnnspec.api import Spec

TINY = "Conv(3x3,8)-ReLU-Pool(2)-FC(10)-SM"
TINY_DROPOUT = "Conv(3x3,8)-ReLU-Pool(2)-Dropout(0.25)-FC(10)-SM"


def digits_npz(path: Path, train: int = 300, test: int = 100) -> Path:
    """``train`` + ``test`` real digits, 8x8 floats in [0, 1], as an npz data set."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)  # (N, 8, 8)
    y = bunch.target.astype(np.int64)
    np.savez(path, x=x[:train], y=y[:train], x_test=x[train:train + test],
             y_test=y[train:train + test])
    return path


@pytest.fixture(scope="session")
def digits_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The npz file of :func:`digits_npz`, written once per session."""
    return digits_npz(tmp_path_factory.mktemp("data") / "digits.npz")


@pytest.fixture
def data_spec(digits_file: Path) -> str:
    """The ``--data`` value for the tiny digits."""
    return f"npz:{digits_file}"


def tiny(spec: str = TINY) -> Spec:
    """A tiny spec on the 8x8 digits."""
    return cnnspec.load(spec, input_shape="8x8x1")
