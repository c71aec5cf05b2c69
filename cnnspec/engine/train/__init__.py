"""Training in NumPy: the loop, checkpoints, metrics, schedules, transfer learning.

Room: engine (``cnnspec/engine/train``); imports NumPy, the engine and :mod:`cnnspec.errors`.
No click, no rich, no matplotlib: progress leaves through a :class:`TrainCallback`.

========================  =================================================================
``config``                :class:`TrainConfig`, the settings a checkpoint records
``schedule``              learning rate per epoch (none / step / cosine)
``batches``               validation split, seeded mini-batches, one training step
``loop``                  :class:`Trainer`: epochs, checkpoints, Ctrl-C, NaN guard
``guard``                 finding the layer where a NaN/inf began
``metrics``               loss, accuracy, per-class precision/recall, confusion matrix
``transfer``              loading matching layers, freezing, the loaded/frozen/new report
``run_state``             what ``last.npz``/``best.npz`` hold beyond the weights
``run_folder``            the run folder checked before the first batch; ``--overwrite``
``session``               :func:`train`: a whole ``cnnspec train`` run
``compare``               the seven optimisers on the same batches
``images``                user images -> network input (``cnnspec predict``)
========================  =================================================================
"""

from __future__ import annotations

from cnnspec.engine.train.batches import TrainData, epoch_batches, split_validation, train_step
from cnnspec.engine.train.callbacks import BatchProgress, EpochRow, RunPlan, TrainCallback
from cnnspec.engine.train.config import TrainConfig
from cnnspec.engine.train.loop import Trainer, TrainResult
from cnnspec.engine.train.metrics import Evaluation, evaluate, evaluate_classes
from cnnspec.engine.train.session import DataChoice, RunOutcome, resume, train
from cnnspec.engine.train.transfer import TransferReport

__all__ = [
    "BatchProgress",
    "DataChoice",
    "EpochRow",
    "Evaluation",
    "RunOutcome",
    "RunPlan",
    "TrainCallback",
    "TrainConfig",
    "TrainData",
    "TrainResult",
    "Trainer",
    "TransferReport",
    "epoch_batches",
    "evaluate",
    "evaluate_classes",
    "resume",
    "split_validation",
    "train",
    "train_step",
]
