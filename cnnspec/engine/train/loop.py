"""The training loop: epochs of seeded mini-batches, checkpoints, resume, Ctrl-C, NaN guard.

Room: engine (``cnnspec/engine/train``); imports NumPy, the engine and :mod:`cnnspec.errors`.
Progress goes out through a :class:`TrainCallback`; nothing here prints.

After every epoch the loop evaluates the validation set, appends a row to ``metrics.csv``,
writes ``last.npz`` (weights, optimiser state, position, RNG state) and ``best.npz`` when
the validation accuracy is at least the best so far (ties go to the later epoch; without
a validation set, the training loss decides). Early stopping counts the epochs since the
score (validation accuracy, then lower validation loss) last strictly improved.

Ctrl-C (SIGINT) is deferred to the end of the current batch, so the weights and the
optimiser state saved in ``last.npz`` always belong together; a second Ctrl-C stops at
once. A ``KeyboardInterrupt`` raised by a callback is handled the same way.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnspec.atomic import write_text
from cnnspec.engine.optim import make_optimizer
from cnnspec.engine.train.batches import (
    TrainData,
    epoch_batches,
    epoch_shifts,
    shift_images,
    train_step,
)
from cnnspec.engine.train.callbacks import BatchProgress, EpochRow, RunPlan, TrainCallback
from cnnspec.engine.train.config import TrainConfig
from cnnspec.engine.train.guard import non_finite_error, step_is_finite
from cnnspec.engine.train.metrics import evaluate
from cnnspec.engine.train.run_folder import BEST, LAST, METRICS
from cnnspec.engine.train.run_state import (
    metrics_csv,
    optimizer_state,
    rng_from_json,
    rng_to_json,
    save_run,
)
from cnnspec.engine.train.schedule import learning_rate
from cnnspec.engine.train.transfer import TransferReport, frozen_buffers, frozen_parameters
from cnnspec.errors import DataError, TrainingError

NOISE_STREAM = 1


@dataclass
class Partial:
    """Sums over the batches of the epoch in progress."""

    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0


@dataclass
class TrainResult:
    """How a run ended and where its files are."""

    out_dir: Path
    history: list[EpochRow]
    epochs_done: int
    position: int  # batches of the next epoch done (non-zero when interrupted mid-epoch)
    batches: int  # per epoch
    best_epoch: int | None
    stopped_early: bool
    interrupted: bool
    transfer: TransferReport
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)


class Trainer:
    """Trains ``model`` on ``data`` under ``config``, writing into ``out_dir``."""

    def __init__(self, model: Any, config: TrainConfig, data: TrainData, out_dir: str | Path,
                 *, callback: TrainCallback | None = None, frozen_layers: Iterable[str] = (),
                 transfer: TransferReport | None = None, data_info: dict[str, Any] | None = None):
        self.model = model
        self.config = config
        self.data = data
        self.out_dir = Path(out_dir)
        self.callback = callback or TrainCallback()
        self.frozen_layers = tuple(frozen_layers)
        self.transfer = transfer or TransferReport(frozen=self.frozen_layers,
                                                   new=tuple(_weighted_names(model)))
        self.data_info = data_info or {}
        self.optimizer = make_optimizer(config.optimizer, config.lr,
                                        weight_decay=config.weight_decay,
                                        clip_norm=config.clip_norm,
                                        frozen=frozen_parameters(model, self.frozen_layers))
        self.rng = np.random.default_rng([config.seed, NOISE_STREAM])
        self.epoch = 0  # epochs finished
        self.position = 0  # batches of the next epoch finished
        self.partial = Partial()
        self.history: list[EpochRow] = []
        self.best: dict[str, Any] | None = None
        self.peak: list[float] | None = None  # the best score so far, for early stopping
        self.stale = 0
        self.seconds = 0.0
        self.stopped_early = False
        self._stop_requested = False
        self._consistent = True
        self.last_holds: str | None = None  # what last.npz holds, once this run wrote it
        self._check_classes()

    # -- resuming ---------------------------------------------------------------------------
    def restore(self, checkpoint: Any) -> None:
        """Continue from a ``last.npz`` (:func:`cnnspec.engine.train.run_state.load_run`).

        Loads the weights (a checkpoint of another spec fails naming the layer), the
        optimiser state, the position, the history and the RNG state.
        """
        info = checkpoint.info
        self.model.load_state_dict(checkpoint.state)
        self.optimizer.load_state_dict(optimizer_state(checkpoint.optimizer_state))
        self.epoch = int(info["epoch"])
        self.position = int(info.get("position", 0))
        self.partial = Partial(**info.get("partial", {}))
        self.history = [EpochRow(**row) for row in info.get("history", [])]
        self.best = info.get("best")
        self.peak = info.get("peak")
        self.stale = int(info.get("stale", 0))
        self.seconds = float(info.get("seconds", 0.0))
        self.stopped_early = self._patience_spent()
        self.rng = rng_from_json(info["rng"])
        if "transfer" in info:
            self.transfer = TransferReport.from_dict(info["transfer"])
        self.last_holds = self._position_text()
        self._snapshot_frozen_buffers()

    # -- the loop ---------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        """Train until ``config.epochs`` are done, early stopping, or Ctrl-C."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._snapshot_frozen_buffers()
        batches = math.ceil(len(self.data.y_train) / self.config.batch)
        interrupted = False
        with self._deferred_sigint():
            try:
                self.callback.on_train_start(self._plan(batches))
                while self.epoch < self.config.epochs and not self.stopped_early:
                    self._run_epoch()
            except KeyboardInterrupt:
                if not self._consistent:
                    raise  # a second Ctrl-C inside a step: the state is half-updated
                interrupted = True
                self._save_last()
        result = TrainResult(self.out_dir, list(self.history), self.epoch, self.position,
                             batches, self.best["epoch"] if self.best else None,
                             self.stopped_early, interrupted, self.transfer, self.seconds,
                             self._files())
        self.callback.on_train_end(result)
        return result

    def _run_epoch(self) -> None:
        config, data = self.config, self.data
        lr = learning_rate(config, self.epoch)
        self.optimizer.lr = lr
        batches = epoch_batches(len(data.y_train), config.batch, config.seed, self.epoch)
        shifts = epoch_shifts(len(data.y_train), config.augment, config.seed, self.epoch) \
            if config.augment else None
        self.callback.on_epoch_start(self.epoch + 1, lr, len(batches))
        started = time.perf_counter() - self.partial.seconds
        for k in range(self.position, len(batches)):
            idx = batches[k]
            xb, yb = data.x_train[idx], data.y_train[idx]
            if shifts is not None:
                start = k * config.batch  # the shifts follow the position in the epoch
                xb = shift_images(xb, shifts[start:start + len(idx)], data.blank)
            self._consistent = False
            before = self.rng.bit_generator.state
            # overflow shows up as inf/NaN, which the guard below reports by layer;
            # NumPy's own warnings would only clutter that message
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                value, scores = train_step(self.model, xb, yb, config.loss, self.rng,
                                           config.aux_weight)
            grads = self.model.grads
            if not step_is_finite(value, grads):
                self._consistent = True
                raise self._non_finite(xb, yb, value, lr, k, before)
            self.optimizer.step(self.model.params, grads)
            self._restore_frozen_buffers()
            p = self.partial
            p.loss_sum += value * len(idx)
            p.correct += int(np.sum(scores.argmax(axis=1) == yb))
            p.seen += len(idx)
            p.seconds = time.perf_counter() - started
            self.position = k + 1
            self._consistent = True
            if self._stop_requested:
                raise KeyboardInterrupt
            self.callback.on_batch_end(BatchProgress(
                self.epoch + 1, config.epochs, k + 1, len(batches), p.seen,
                p.loss_sum / p.seen, p.correct / p.seen, p.seconds))
        self._finish_epoch(lr, time.perf_counter() - started)

    def _finish_epoch(self, lr: float, seconds: float) -> None:
        """Validate, record the row, write the checkpoints; ``seconds``: the whole epoch."""
        data = self.data
        self._consistent = False
        val_loss, val_acc, _ = evaluate(self.model, data.x_val, data.y_val, self.config.loss)
        p = self.partial
        row = EpochRow(self.epoch + 1, lr, p.loss_sum / max(p.seen, 1),
                       p.correct / max(p.seen, 1), val_loss, val_acc, seconds)
        self.history.append(row)
        self.seconds += seconds
        self.epoch += 1
        self.position = 0
        self.partial = Partial()
        score = _score(row)
        if self.peak is None or score > tuple(self.peak):
            self.peak, self.stale = list(score), 0
        else:
            self.stale += 1
        improved = self.best is None or _selects(row, self.best)
        if improved:
            self.best = {"epoch": row.epoch, **row.to_dict()}
            save_run(self.out_dir / BEST, self.model, self._info())
        self.stopped_early = self._patience_spent()
        self._save_last()
        write_text(self.out_dir / METRICS, metrics_csv(self.history))
        self._consistent = True
        if self._stop_requested:
            raise KeyboardInterrupt
        self.callback.on_epoch_end(row, improved)

    # -- helpers ----------------------------------------------------------------------------
    def _patience_spent(self) -> bool:
        return bool(self.config.early_stopping) and self.stale >= self.config.early_stopping

    def _non_finite(self, xb: np.ndarray, yb: np.ndarray, value: float, lr: float, k: int,
                    rng_state: dict[str, Any]) -> TrainingError:
        replay = np.random.default_rng()
        replay.bit_generator.state = rng_state
        error = non_finite_error(self.model, xb, yb, loss_name=self.config.loss, loss=value,
                                 lr=lr, epoch=self.epoch + 1, batch=k + 1, rng=replay)
        last = self.out_dir / LAST
        if self.last_holds is not None:
            error.hint = f"{error.hint}; {last} holds the weights {self.last_holds}"
        elif last.is_file():
            error.hint = f"{error.hint}; {last} is from an earlier run, not this one"
        else:
            error.hint = (f"{error.hint}; no checkpoint was written (the run stopped in its "
                          "first epoch)")
        return error

    def _position_text(self) -> str:
        """Where the run stands, as last.npz records it: after epoch N, or mid-epoch."""
        if self.position:
            return f"of epoch {self.epoch + 1} after batch {self.position}"
        return f"after epoch {self.epoch}" if self.epoch else "before the first step"

    def _info(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "position": self.position,
            "partial": vars(self.partial),
            "config": self.config.to_dict(),
            "history": [row.to_dict() for row in self.history],
            "best": self.best,
            "peak": self.peak,
            "stale": self.stale,
            "stopped_early": self.stopped_early,
            "seconds": self.seconds,
            "rng": rng_to_json(self.rng),
            "data": self.data_info,
            "classes": list(self.data.classes),
            "transfer": self.transfer.to_dict(),
        }

    def _save_last(self) -> None:
        save_run(self.out_dir / LAST, self.model, self._info(), self.optimizer)
        self.last_holds = self._position_text()

    def _files(self) -> dict[str, Path]:
        names = {"last": LAST, "best": BEST, "metrics": METRICS}
        return {key: self.out_dir / name for key, name in names.items()
                if (self.out_dir / name).is_file()}

    def _plan(self, batches: int) -> RunPlan:
        return RunPlan(self.model.network.name, self.epoch, self.position, self.config.epochs,
                       len(self.data.y_train), len(self.data.y_val), batches,
                       self.config.to_dict(), self.transfer.to_dict(), str(self.out_dir),
                       [row.to_dict() for row in self.history])

    def _snapshot_frozen_buffers(self) -> None:
        live = frozen_buffers(self.model, self.frozen_layers)
        self._frozen_buffers = {name: (value, value.copy()) for name, value in live.items()}

    def _restore_frozen_buffers(self) -> None:
        # batch norm updates its running statistics in the forward pass; a frozen
        # layer keeps the ones it was loaded with
        for live, kept in self._frozen_buffers.values():
            live[...] = kept

    def _check_classes(self) -> None:
        x = self.data.x_train[:1]
        if len(x) == 0:
            raise DataError("the training set is empty")
        if self.config.augment and x.ndim != 4:
            raise TrainingError("shift augmentation needs image input, but "
                                f"{self.model.network.name} takes a flat vector",
                                hint="train without --augment")
        outputs = int(np.prod(self.model.forward(x, logits=True).shape[1:]))
        labels = int(max(self.data.y_train.max(), self.data.y_val.max(initial=0))) + 1
        if labels > outputs:
            raise DataError(f"the data has {labels} classes but {self.model.network.name} "
                            f"ends in {outputs} outputs",
                            hint=f"give the last layer {labels} units, e.g. FC({labels})")

    @contextmanager
    def _deferred_sigint(self) -> Iterator[None]:
        """Turn the first Ctrl-C into a request to stop after the current batch."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def request_stop(signum: int, frame: Any) -> None:
            if self._stop_requested:
                raise KeyboardInterrupt
            self._stop_requested = True

        previous = signal.signal(signal.SIGINT, request_stop)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def _score(row: EpochRow) -> tuple[float, ...]:
    """Larger is better: (validation accuracy, -validation loss), or (-training loss,)."""
    if math.isnan(row.val_acc):
        return (-row.train_loss,)
    return (row.val_acc, -row.val_loss)


def _selects(row: EpochRow, best: dict[str, Any]) -> bool:
    """Whether ``row`` replaces ``best`` as best.npz: validation accuracy at least as high
    (a tie goes to the later epoch, which trained longer at a lower rate), or without a
    validation set a training loss at least as low."""
    if math.isnan(row.val_acc):
        return row.train_loss <= best["train_loss"]
    return row.val_acc >= best["val_acc"]


def _weighted_names(model: Any) -> list[str]:
    return [layer.name for layer in model.layers if layer.params]
