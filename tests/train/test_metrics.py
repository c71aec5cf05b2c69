"""Accuracy, confusion matrix, per-class precision/recall, schedules, config checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnnspec.engine.train import TrainConfig
from cnnspec.engine.train.metrics import class_scores, confusion_matrix
from cnnspec.engine.train.schedule import learning_rate
from cnnspec.errors import TrainingError


def test_confusion_matrix_and_scores_by_hand() -> None:
    y = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 2, 2])
    confusion = confusion_matrix(y, predicted, 3)
    assert confusion.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    scores = class_scores(confusion, ("a", "b", "c"))
    # class b: predicted twice (once right) -> precision 1/2; two b's, one found -> recall 1/2
    assert (scores[1].precision, scores[1].recall, scores[1].support) == (0.5, 0.5, 2)
    assert scores[0].precision == 1.0 and scores[0].recall == pytest.approx(2 / 3)
    assert scores[0].f1 == pytest.approx(2 * 1.0 * (2 / 3) / (1.0 + 2 / 3))
    assert scores[2].precision == 0.5 and scores[2].recall == 1.0


def test_a_class_never_predicted_has_precision_zero() -> None:
    scores = class_scores(confusion_matrix(np.array([0, 1]), np.array([0, 0]), 2), ("a", "b"))
    assert (scores[1].precision, scores[1].recall, scores[1].f1) == (0.0, 0.0, 0.0)


def test_schedules() -> None:
    step = TrainConfig(epochs=9, lr=0.1, schedule="step", gamma=0.5)
    assert [learning_rate(step, e) for e in (0, 2, 3, 6, 8)] == [0.1, 0.1, 0.05, 0.025, 0.025]
    cosine = TrainConfig(epochs=4, lr=1.0, schedule="cosine")
    assert learning_rate(cosine, 0) == 1.0
    assert learning_rate(cosine, 2) == pytest.approx(0.5)
    assert learning_rate(cosine, 3) == pytest.approx(0.5 * (1 + math.cos(math.pi * 3 / 4)))
    assert learning_rate(TrainConfig(lr=0.3, schedule="none"), 7) == 0.3


@pytest.mark.parametrize("options, text", [
    ({"epochs": 0}, "epochs must be at least 1"),
    ({"lr": -1.0}, "learning rate must be > 0"),
    ({"val_split": 1.0}, "val_split"),
    ({"schedule": "linear"}, "unknown schedule"),
    ({"loss": "hinge"}, "unknown loss"),
])
def test_config_checks(options: dict, text: str) -> None:
    with pytest.raises(TrainingError, match=text):
        TrainConfig(**options)


def test_config_round_trips() -> None:
    config = TrainConfig(epochs=3, clip_norm=2.0, normalize=False)
    assert TrainConfig.from_dict(config.to_dict()) == config
