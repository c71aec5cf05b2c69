"""The settings of one training run, checked once, saved in every checkpoint.

Room: engine (``cnnspec/engine/train``); imports :mod:`cnnspec.errors` only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from cnnspec.errors import TrainingError

LOSSES = ("cross_entropy", "squared")
SCHEDULES = ("none", "step", "cosine")

# Defaults measured on LeNet-5 with the embedded digits (benchmarks/bench_train.py):
# Adam at 2e-3 with a cosine decay over 20 epochs of 64-image batches, each image shifted
# by up to 2 pixels. Over seeds 0-5 best.npz scored 98.1-99.2% on the 360 test digits in
# 9-12 s of wall time on 2 cores; without the shifts, 12 epochs gave 95.8-98.3%.
DEFAULT_EPOCHS = 20
DEFAULT_OPTIMIZER = "adam"
DEFAULT_LR = 2e-3
DEFAULT_BATCH = 64
DEFAULT_VAL_SPLIT = 0.1
DEFAULT_SCHEDULE = "cosine"
DEFAULT_AUGMENT = 2
# Szegedy et al. 2015, section 5: each auxiliary classifier's loss is "weighted by 0.3"
DEFAULT_AUX_WEIGHT = 0.3

# A learning rate in each rule's good range for that task (the lecture's rules differ
# by orders of magnitude: AdaDelta's eta only scales its own step size).
DEFAULT_LRS: dict[str, float] = {
    "sgd": 0.05,
    "momentum": 0.01,
    "nesterov": 0.01,
    "adagrad": 0.01,
    "adadelta": 1.0,
    "rmsprop": 0.001,
    "adam": DEFAULT_LR,
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the numbers a run produces.

    Attributes:
        epochs: passes over the training set (the total, also when resuming).
        optimizer: a name of :data:`cnnspec.engine.optim.OPTIMIZERS`.
        lr: the learning rate eta at epoch 0 (the schedule scales it).
        batch: examples per mini-batch.
        seed: seeds the weights, the validation split, each epoch's shuffle and dropout.
        val_split: fraction of the training set held out (stratified) for validation.
        schedule: ``none``, ``step`` (``lr * gamma^floor(e / step_size)``) or ``cosine``.
        step_size, gamma: the step schedule's period (epochs; 0 = a third of the run)
            and factor.
        early_stopping: stop after this many epochs without a better validation
            score (0 = never).
        weight_decay: L2 factor added to the gradient (``g + lambda w``).
        clip_norm: global gradient-norm limit (``None`` = no clipping).
        loss: ``cross_entropy`` or ``squared``.
        normalize: standardise the inputs per channel with the training set's mean and
            standard deviation (:mod:`cnnspec.engine.train.normalize`).
        augment: shift each training image by a random whole number of pixels in
            ``[-augment, augment]`` along each axis, every epoch anew (0 = off).
        aux_weight: w in ``L = L_main + w * sum_a L_a`` over auxiliary heads (GoogLeNet's
            0.3; 0 leaves the heads untrained). Specs without heads ignore it.
    """

    epochs: int = DEFAULT_EPOCHS
    optimizer: str = DEFAULT_OPTIMIZER
    lr: float = DEFAULT_LR
    batch: int = DEFAULT_BATCH
    seed: int = 0
    val_split: float = DEFAULT_VAL_SPLIT
    schedule: str = DEFAULT_SCHEDULE
    step_size: int = 0
    gamma: float = 0.1
    early_stopping: int = 0
    weight_decay: float = 0.0
    clip_norm: float | None = None
    loss: str = "cross_entropy"
    normalize: bool = True
    augment: int = DEFAULT_AUGMENT
    aux_weight: float = DEFAULT_AUX_WEIGHT

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise TrainingError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch < 1:
            raise TrainingError(f"batch must be at least 1, got {self.batch}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise TrainingError(f"the learning rate must be > 0, got {self.lr}")
        if not 0.0 <= self.val_split < 1.0:
            raise TrainingError(f"val_split must be in [0, 1), got {self.val_split}",
                                hint="0.1 holds out a tenth of the training set")
        if self.schedule not in SCHEDULES:
            raise TrainingError(f"unknown schedule {self.schedule!r}",
                                hint=f"use one of: {', '.join(SCHEDULES)}")
        if self.loss not in LOSSES:
            raise TrainingError(f"unknown loss {self.loss!r}",
                                hint=f"use one of: {', '.join(LOSSES)}")
        if self.early_stopping < 0 or self.step_size < 0 or self.augment < 0:
            raise TrainingError("early_stopping, step_size and augment must be >= 0")
        if not (math.isfinite(self.aux_weight) and self.aux_weight >= 0):
            raise TrainingError(f"aux_weight must be >= 0, got {self.aux_weight}",
                                hint="0.3 is GoogLeNet's; 0 leaves the auxiliary heads untrained")
        if not 0.0 < self.gamma <= 1.0:
            raise TrainingError(f"gamma must be in (0, 1], got {self.gamma}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (stored in ``meta/info`` of each checkpoint)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """The inverse of :meth:`to_dict`; unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_epochs(self, epochs: int) -> TrainConfig:
        """The same settings with another epoch count."""
        return replace(self, epochs=epochs)
