"""Seeded mini-batches, the validation split, and one optimiser step.

Room: engine (``cnnspec/engine/train``); imports NumPy and the engine.

Every random choice is a pure function of the run's seed, so a resumed run makes the
same choices as an uninterrupted one without storing them:

* validation split: ``stratified_split(y, round(f * N), default_rng([seed, 3]))``;
* the order of epoch ``e`` (0-based): ``default_rng([seed, 2, e]).permutation(N)``,
  cut into batches of ``B`` (the last one smaller when ``B`` does not divide ``N``);
* with augmentation, the shift of the i-th example of epoch ``e``:
  ``default_rng([seed, 4, e]).integers(-m, m + 1, size=(N, 2))[i]`` (rows, columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnspec.engine.data import Dataset, stratified_split
from cnnspec.engine.train.config import DEFAULT_AUX_WEIGHT
from cnnspec.errors import DataError

SPLIT_STREAM = 3
SHUFFLE_STREAM = 2
SHIFT_STREAM = 4


@dataclass(frozen=True)
class TrainData:
    """The arrays a run trains and validates on (NCHW float32, int64 labels)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: tuple[str, ...]
    blank: tuple[float, ...] = ()  # per channel: the value of an empty (0) pixel, as fed


def split_validation(dataset: Dataset, fraction: float, seed: int) -> TrainData:
    """Hold out ``round(fraction * N)`` training examples, stratified, for validation."""
    n = len(dataset.y_train)
    count = round(fraction * n)
    if fraction > 0 and not 0 < count < n:
        raise DataError(f"a validation split of {fraction:g} leaves {count} of {n} examples "
                        "for validation", hint="use a larger --val-split, or 0 for none")
    if count == 0:
        empty_x = dataset.x_train[:0]
        return TrainData(dataset.x_train, dataset.y_train, empty_x, dataset.y_train[:0],
                         dataset.classes)
    train_idx, val_idx = stratified_split(dataset.y_train, count,
                                          np.random.default_rng([seed, SPLIT_STREAM]))
    return TrainData(dataset.x_train[train_idx], dataset.y_train[train_idx],
                     dataset.x_train[val_idx], dataset.y_train[val_idx], dataset.classes)


def epoch_batches(n: int, batch: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Index arrays of epoch ``epoch``'s mini-batches (module docstring)."""
    order = np.random.default_rng([seed, SHUFFLE_STREAM, epoch]).permutation(n)
    return [order[start:start + batch] for start in range(0, n, batch)]


def epoch_shifts(n: int, max_shift: int, seed: int, epoch: int) -> np.ndarray:
    """``(N, 2)`` int shifts in ``[-max_shift, max_shift]`` for epoch ``epoch``'s examples."""
    rng = np.random.default_rng([seed, SHIFT_STREAM, epoch])
    return rng.integers(-max_shift, max_shift + 1, size=(n, 2))


def shift_images(x: np.ndarray, shifts: np.ndarray, blank: tuple[float, ...]) -> np.ndarray:
    """Each image of ``x`` (N, C, H, W) moved by its ``(dy, dx)``; uncovered pixels blank.

    ``out[n, c, h, w] = x[n, c, h - dy, w - dx]`` where that lies inside the image,
    else ``blank[c]``. Translation is the augmentation LeNet-5's paper used (distorted
    copies of the training digits).
    """
    n, c, h, w = x.shape
    m = int(np.abs(shifts).max(initial=0))
    if m == 0:
        return x
    pad = np.empty((n, c, h + 2 * m, w + 2 * m), dtype=x.dtype)  # (N, C, H+2m, W+2m)
    pad[...] = np.asarray(blank or (0.0,) * c, dtype=x.dtype)[None, :, None, None]
    pad[:, :, m:m + h, m:m + w] = x
    rows = (m - shifts[:, 0])[:, None] + np.arange(h)  # (N, H) rows of pad to read
    cols = (m - shifts[:, 1])[:, None] + np.arange(w)  # (N, W)
    return pad[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
               rows[:, None, :, None], cols[:, None, None, :]]  # (N, C, H, W)


def train_step(model: Any, x: np.ndarray, y: np.ndarray, loss: str,
               rng: np.random.Generator, aux_weight: float = DEFAULT_AUX_WEIGHT
               ) -> tuple[float, np.ndarray]:
    """One forward + backward in training mode: ``(mean loss, scores (N, K))``.

    :meth:`Model.train_step`, keeping the scores (logits for ``cross_entropy``, outputs
    for ``squared``) to count correct answers. The loss is the main output's, the one
    validation reports; auxiliary heads' losses (weighted by ``aux_weight``) are trained
    on but not included. Parameter gradients are left in ``model.grads``.
    """
    _, value, scores = model.train_step(x, y, loss=loss, rng=rng, aux_weight=aux_weight)
    return value, scores
