"""A trained checkpoint put to use: scored on a data set, or asked about images.

Room: engine (``cnnspec/engine/train``); imports NumPy, the engine and :mod:`cnnspec.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnspec.engine.checkpoint import Checkpoint, load_checkpoint
from cnnspec.engine.data import Dataset, load_dataset
from cnnspec.engine.train.metrics import Evaluation, evaluate_classes
from cnnspec.engine.train.normalize import Standardize, apply_standardize, standardize_from_info
from cnnspec.engine.train.session import DataChoice, network_input
from cnnspec.errors import DataError

PARTS = ("test", "train")


@dataclass
class Trained:
    """A checkpoint's model with what it was trained on: classes and standardisation."""

    checkpoint: Checkpoint
    model: Any
    classes: tuple[str, ...]
    norm: Standardize | None

    @property
    def data(self) -> dict[str, Any]:
        """``info["data"]``: the data spec, resize flags and notes of the training run."""
        return self.checkpoint.info.get("data", {})


def load_trained(path: str | Path) -> Trained:
    """The model of checkpoint ``path`` with its weights, classes and standardisation."""
    checkpoint = load_checkpoint(path)
    model = checkpoint.build()
    classes = tuple(checkpoint.info.get("classes", ()))
    if not classes:
        outputs = int(np.prod(model.forward(
            np.zeros((1, *model.input_shape), dtype=model.dtype), logits=True).shape[1:]))
        classes = tuple(str(k) for k in range(outputs))
    return Trained(checkpoint, model, classes, standardize_from_info(checkpoint.info))


@dataclass(frozen=True)
class Scored:
    """A checkpoint's scores on one part of a data set."""

    evaluation: Evaluation
    dataset: Dataset
    part: str
    data_spec: str


def score(trained: Trained, data: DataChoice | None = None, part: str = "test",
          cache_dir: str | None = None) -> Scored:
    """Evaluate ``trained`` on ``part`` of ``data`` (default: the data it was trained on)."""
    if part not in PARTS:
        raise DataError(f"unknown part {part!r}", hint=f"use one of: {', '.join(PARTS)}")
    saved = trained.data
    choice = data or DataChoice(saved.get("spec", "digits"), saved.get("resize", False),
                                saved.get("method", "bilinear"), cache_dir)
    model = trained.model
    dataset = load_dataset(choice.spec, input_shape=model.report.input, resize=choice.resize,
                           method=choice.method, cache_dir=choice.cache_dir)
    x, y = (dataset.x_test, dataset.y_test) if part == "test" else \
        (dataset.x_train, dataset.y_train)
    if len(y) == 0:
        raise DataError(f"the {part} part of {dataset.name} is empty")
    x = network_input(model, apply_standardize(trained.norm, x))
    loss = trained.checkpoint.info.get("config", {}).get("loss", "cross_entropy")
    classes = dataset.classes if len(dataset.classes) >= len(trained.classes) \
        else trained.classes
    return Scored(evaluate_classes(model, x, y, classes, loss), dataset, part, choice.spec)


@dataclass(frozen=True)
class Prediction:
    """The top classes for one input: ``(label, class name, probability)`` best first."""

    source: str
    top: tuple[tuple[int, str, float], ...]
    steps: tuple[str, ...]
    light_background: bool


def predict_top(trained: Trained, images: list[tuple[str, np.ndarray]], k: int = 3,
                invert: bool = False, method: str = "bilinear") -> list[Prediction]:
    """Top-``k`` classes of each ``(name, array)``; arrays as :mod:`.images` describes."""
    from cnnspec.engine.train.images import prepare_image

    model = trained.model
    prepared = [prepare_image(array, model.input_shape, source=name, invert=invert,
                              method=method, norm=trained.norm) for name, array in images]
    if not prepared:
        return []
    probs = model.predict(np.stack([p.x for p in prepared]))  # (N, K)
    names = [*trained.classes, *(str(i) for i in range(len(trained.classes), probs.shape[1]))]
    out = []
    for (name, _), image, row in zip(images, prepared, probs, strict=True):
        order = np.argsort(-row, kind="stable")[:k]
        top = tuple((int(j), names[j], float(row[j])) for j in order)
        out.append(Prediction(name, top, image.steps, image.light_background))
    return out
