"""One ``cnnspec train`` run from start to test score: data, model, transfer, resume.

Room: engine (``cnnspec/engine/train``); imports NumPy, the engine and :mod:`cnnspec.errors`.

:func:`train` is what the CLI and the Python API call. It

1. refuses to overwrite a run folder that already holds ``last.npz`` (unless asked),
   refuses a run whose memory estimate exceeds the memory available, and checks that
   the run folder is writable with room for the checkpoints -- all before the first
   batch; ``overwrite`` removes the older run's files just before training starts;
2. on ``resume``, reads the run's settings from ``last.npz`` (``epochs`` and
   ``early_stopping`` may be changed; everything else is the run's own);
3. build the model from ``config.seed``, load the data fitted to the spec's input,
   hold out the validation split and standardise the inputs;
4. for transfer learning, load the matching layers of ``init_from`` and freeze
   ``freeze``;
5. train (:class:`Trainer`) and, unless interrupted, score ``best.npz`` on the
   data set's test part.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from cnnspec.analysis import analyze
from cnnspec.engine.budget import estimate, require_memory
from cnnspec.engine.checkpoint import load_checkpoint
from cnnspec.engine.data import Dataset, load_dataset
from cnnspec.engine.model import build
from cnnspec.engine.train.batches import TrainData, split_validation
from cnnspec.engine.train.callbacks import TrainCallback
from cnnspec.engine.train.config import TrainConfig
from cnnspec.engine.train.loop import BEST, LAST, Trainer, TrainResult
from cnnspec.engine.train.metrics import Evaluation, evaluate_classes
from cnnspec.engine.train.normalize import Standardize, apply_standardize, standardize_from_info
from cnnspec.engine.train.run_folder import check_run_folder, checkpoint_bytes, clear_run_files
from cnnspec.engine.train.run_state import load_run
from cnnspec.engine.train.transfer import (
    TransferReport,
    init_from,
    select_layers,
    weighted_layers,
)
from cnnspec.errors import TrainingError
from cnnspec.spec.tree import Network


@dataclass(frozen=True)
class DataChoice:
    """Which data to train on and how to fit it to the spec's input."""

    spec: str = "digits"
    resize: bool = False
    method: str = "bilinear"
    cache_dir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (stored in checkpoints, so evaluate can find the data)."""
        return {"spec": self.spec, "resize": self.resize, "method": self.method}


@dataclass
class RunOutcome:
    """A finished (or interrupted) run, its test score, and the settings it used."""

    result: TrainResult
    config: TrainConfig
    test: Evaluation | None
    dataset: Dataset
    resumed_from: int | None  # epochs done before this call, when resuming


def network_input(model: Any, x: Any) -> Any:
    """Images ``(N, C, H, W)`` as the model takes them: flattened for a vector input."""
    if len(model.input_shape) == 1 and x.ndim == 4:
        return x.reshape(len(x), -1)  # (N, C*H*W)
    return x


@dataclass(frozen=True)
class PreparedData:
    """The data set, its train/validation split and test images as the network takes them."""

    dataset: Dataset
    split: TrainData
    x_test: Any
    norm: Standardize | None


def prepare_data(model: Any, data: DataChoice, val_split: float, seed: int,
                 normalize: bool | Standardize | None) -> PreparedData:
    """Load ``data`` fitted to ``model``'s input, split off validation, standardise.

    ``normalize``: ``True`` fits :class:`Standardize` on the training part, a
    :class:`Standardize` is used as given (resuming), ``False``/``None`` leaves the
    images in ``[0, 1]``.
    """
    dataset = load_dataset(data.spec, input_shape=model.report.input, resize=data.resize,
                           method=data.method, cache_dir=data.cache_dir)
    split = split_validation(dataset, val_split, seed)
    if normalize is True:
        norm: Standardize | None = Standardize.fit(split.x_train)
    else:
        norm = normalize or None

    def prepare(x: Any) -> Any:
        return network_input(model, apply_standardize(norm, x))

    channels = dataset.x_train.shape[1]
    blank = apply_standardize(norm, np.zeros((1, channels, 1, 1), dtype=np.float32))
    split = TrainData(prepare(split.x_train), split.y_train, prepare(split.x_val),
                      split.y_val, split.classes, tuple(float(v) for v in blank.ravel()))
    return PreparedData(dataset, split, prepare(dataset.x_test), norm)


def existing_run(out_dir: Path) -> None:
    """A TrainingError when ``out_dir`` already holds a run's ``last.npz``."""
    last = out_dir / LAST
    if last.is_file():
        raise TrainingError(f"{out_dir} already holds a run ({last})",
                            hint="pass --resume to continue it, --out-dir DIR to start a new "
                                 "one beside it, or --overwrite to replace it")


def resume_settings(out_dir: Path, epochs: int | None,
                    early_stopping: int | None) -> tuple[Any, TrainConfig]:
    """``(last.npz checkpoint, the run's config with the allowed changes)``."""
    checkpoint = load_run(out_dir / LAST)
    saved = TrainConfig.from_dict(checkpoint.info["config"])
    config = replace(saved, epochs=epochs or saved.epochs,
                     early_stopping=saved.early_stopping if early_stopping is None
                     else early_stopping)
    done = int(checkpoint.info["epoch"])
    if done >= config.epochs and not checkpoint.info.get("position"):
        raise TrainingError(f"the run in {out_dir} has already trained {done} of "
                            f"{config.epochs} epochs", hint=f"pass --epochs {done + 5} (a "
                            "total, not a count of extra epochs) to train further")
    return checkpoint, config


def transfer_layers(model: Any, source: str | None, freeze: tuple[str, ...]) -> TransferReport:
    """Load the matching layers of checkpoint ``source`` and pick the frozen layers."""
    loaded: list[str] = []
    reasons: dict[str, str] = {}
    if source is not None:
        loaded, reasons = init_from(model, load_checkpoint(source).state)
        if not loaded:
            raise TrainingError(f"--init-from {source}: no layer of {model.network.name} "
                                "matches a layer of the checkpoint by name and shape",
                                hint="give the reused layers the same labels (e.g. Conv:1) "
                                     "and sizes as in the trained spec")
    frozen = select_layers(model, freeze)
    new = tuple(layer.name for layer in weighted_layers(model) if layer.name not in loaded)
    return TransferReport(source, tuple(loaded), tuple(frozen), new, reasons)


def checked_build(network: Network, config: TrainConfig, out: Path) -> Any:
    """The model, after the memory and run-folder checks (module docstring, step 1)."""
    report = analyze(network)
    parts = estimate(report, batch=config.batch, optimizer=config.optimizer)
    require_memory(parts, f"training {network.name} with batches of {config.batch} "
                          f"({config.optimizer})",
                   "use a smaller --batch or a smaller --input, or an optimiser with less "
                   "state (--optimizer sgd or momentum)")
    check_run_folder(out, checkpoint_bytes(parts))
    return build(network, seed=config.seed, report=report)


def train(network: Network, config: TrainConfig | None = None, *,
          data: DataChoice | None = None, out_dir: str | Path = "runs/run",
          overwrite: bool = False, init_from: str | None = None, freeze: tuple[str, ...] = (),
          callback: TrainCallback | None = None) -> RunOutcome:
    """A new run of ``network`` as ``cnnspec train`` makes it (module docstring)."""
    out = Path(out_dir).expanduser()
    if not overwrite:
        existing_run(out)
    config = config or TrainConfig()
    data = data or DataChoice()
    model = checked_build(network, config, out)
    prepared = prepare_data(model, data, config.val_split, config.seed, config.normalize)
    transfer = transfer_layers(model, init_from, tuple(freeze))
    if overwrite:
        clear_run_files(out)  # only now: a refused set-up leaves the older run intact
    trainer = Trainer(model, config, prepared.split, out, callback=callback,
                      frozen_layers=transfer.frozen, transfer=transfer,
                      data_info=_data_info(data, prepared))
    return _finish(trainer, prepared, None)


def resume(network: Network, out_dir: str | Path, *, epochs: int | None = None,
           early_stopping: int | None = None, data: DataChoice | None = None,
           callback: TrainCallback | None = None) -> RunOutcome:
    """Continue the run in ``out_dir`` from its ``last.npz``, exactly.

    Every setting is the run's own except ``epochs`` (the new total) and
    ``early_stopping``; ``data`` defaults to the data the run was trained on.
    """
    out = Path(out_dir).expanduser()
    checkpoint, config = resume_settings(out, epochs, early_stopping)
    saved = checkpoint.info.get("data", {})
    data = data or DataChoice(saved.get("spec", "digits"), saved.get("resize", False),
                              saved.get("method", "bilinear"))
    model = checked_build(network, config, out)
    prepared = prepare_data(model, data, config.val_split, config.seed,
                            standardize_from_info(checkpoint.info))
    frozen = tuple(checkpoint.info.get("transfer", {}).get("frozen", ()))
    trainer = Trainer(model, config, prepared.split, out, callback=callback,
                      frozen_layers=frozen, data_info=_data_info(data, prepared))
    trainer.restore(checkpoint)
    return _finish(trainer, prepared, trainer.epoch)


def _data_info(data: DataChoice, prepared: PreparedData) -> dict[str, Any]:
    dataset, norm = prepared.dataset, prepared.norm
    return {**data.to_dict(), "name": dataset.name, "source": dataset.source,
            "notes": list(dataset.notes), "normalize": norm.to_dict() if norm else None}


def _finish(trainer: Trainer, prepared: PreparedData, done_before: int | None) -> RunOutcome:
    """Train, then score best.npz on the test part (unless interrupted)."""
    result = trainer.fit()
    model, dataset, best = trainer.model, prepared.dataset, trainer.out_dir / BEST
    test = None
    if not result.interrupted and best.is_file() and len(dataset.y_test):
        model.load_state_dict(load_checkpoint(best).state)
        test = evaluate_classes(model, prepared.x_test, dataset.y_test, dataset.classes,
                                trainer.config.loss)
    return RunOutcome(result, trainer.config, test, dataset, done_before)
