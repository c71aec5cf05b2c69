"""How the training loop reports progress: a callback object with five hooks.

Room: engine (``cnnspec/engine/train``); imports the standard library only.

The loop calls the hooks in this order::

    on_train_start(plan)
    for each epoch:  on_epoch_start(epoch, lr, batches)
                     on_batch_end(progress)      # after every optimiser step
                     on_epoch_end(row, improved) # after last.npz (and best.npz) are written
    on_train_end(result)

A hook may raise ``KeyboardInterrupt`` (that is what Ctrl-C does): the loop saves
``last.npz`` where it stopped and returns a result with ``interrupted=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EpochRow:
    """One line of ``metrics.csv``; epochs count from 1."""

    epoch: int
    lr: float
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    seconds: float

    COLUMNS = ("epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "seconds")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (NaN when there is no validation set)."""
        return {name: getattr(self, name) for name in self.COLUMNS}


@dataclass(frozen=True)
class BatchProgress:
    """Where an epoch is, after one optimiser step; loss and accuracy are running means."""

    epoch: int  # 1-based
    epochs: int
    batch: int  # 1-based, within the epoch
    batches: int
    examples: int  # examples seen this epoch
    loss: float
    accuracy: float
    seconds: float  # spent in this epoch so far


@dataclass(frozen=True)
class RunPlan:
    """What is about to happen; given to ``on_train_start``."""

    name: str
    start_epoch: int  # epochs already done (resuming) -- 0 for a fresh run
    start_batch: int  # batches already done in the first epoch to run
    epochs: int
    train_examples: int
    val_examples: int
    batches: int  # per epoch
    config: dict[str, Any]
    transfer: dict[str, Any]
    out_dir: str
    history: list[dict[str, Any]]  # rows of the epochs done before (resuming)


class TrainCallback:
    """Receives progress from the loop; every hook does nothing unless overridden."""

    def on_train_start(self, plan: RunPlan) -> None:
        """Before the first batch."""

    def on_epoch_start(self, epoch: int, lr: float, batches: int) -> None:
        """At the start of epoch ``epoch`` (1-based) with learning rate ``lr``."""

    def on_batch_end(self, progress: BatchProgress) -> None:
        """After every optimiser step."""

    def on_epoch_end(self, row: EpochRow, improved: bool) -> None:
        """After an epoch's metrics and checkpoints; ``improved``: best.npz was rewritten."""

    def on_train_end(self, result: Any) -> None:
        """When training ends: finished, stopped early or interrupted (not on errors)."""
