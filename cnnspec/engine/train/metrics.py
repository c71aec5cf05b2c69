"""Loss and accuracy of a model on a data set, and per-class scores.

Room: engine (``cnnspec/engine/train``); imports NumPy and the engine.

For labels ``y`` and predictions ``p = argmax_k out_k`` over ``N`` examples and ``K``
classes:

* accuracy ``= 1/N sum_i [p_i = y_i]``
* confusion matrix ``C[t, q] = #{i : y_i = t, p_i = q}`` (rows: true class)
* precision of class k ``= C[k, k] / sum_t C[t, k]`` (of those predicted k, how many are k)
* recall of class k ``= C[k, k] / sum_q C[k, q]`` (of the k's, how many were found)
* F1 ``= 2 P R / (P + R)``; a class never predicted has precision 0 (and so F1 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnspec.engine.budget import fitting_batch
from cnnspec.engine.functional import softmax_cross_entropy, squared_error_loss

EVAL_BATCH = 256


def batch_loss(model: Any, x: np.ndarray, y: np.ndarray, loss: str) -> tuple[float, np.ndarray]:
    """``(mean loss, scores (N, K))`` of one batch in inference mode.

    ``cross_entropy`` scores are the logits; ``squared`` scores are the outputs.
    """
    if loss == "squared":
        out = model.forward(x).reshape(len(x), -1)  # (N, K)
        target = np.eye(out.shape[1], dtype=out.dtype)[y]
        value, _ = squared_error_loss(out, target)
        return value, out
    z = model.forward(x, logits=True).reshape(len(x), -1)  # (N, K)
    value, _ = softmax_cross_entropy(z, y)
    return value, z


def evaluate(model: Any, x: np.ndarray, y: np.ndarray, loss: str = "cross_entropy",
             batch_size: int = EVAL_BATCH) -> tuple[float, float, np.ndarray]:
    """``(mean loss, accuracy, predicted labels)`` over the whole set, in batches."""
    if len(x) == 0:
        return float("nan"), float("nan"), np.zeros(0, dtype=np.int64)
    if hasattr(model, "report"):  # fewer images at a time when a full batch would not fit
        batch_size = fitting_batch(model.report, batch_size, model.dtype.itemsize)
    total, preds = 0.0, []
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        value, scores = batch_loss(model, xb, yb, loss)
        total += value * len(xb)
        preds.append(scores.argmax(axis=1))
    predicted = np.concatenate(preds)
    return total / len(x), float(np.mean(predicted == y)), predicted


def confusion_matrix(y: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """``C[t, q]``: how many examples of true class t were predicted as q (int64, K x K)."""
    flat = y.astype(np.int64) * num_classes + predicted.astype(np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)  # (K, K)


@dataclass(frozen=True)
class ClassScore:
    """Precision, recall, F1 and support (true examples) of one class."""

    label: int
    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """A model's scores on one labelled set."""

    examples: int
    loss: float
    accuracy: float
    classes: tuple[ClassScore, ...]
    confusion: np.ndarray  # (K, K), rows = true class

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "examples": self.examples,
            "loss": self.loss,
            "accuracy": self.accuracy,
            "classes": [vars(c) for c in self.classes],
            "confusion": self.confusion.tolist(),
        }


def class_scores(confusion: np.ndarray, names: tuple[str, ...]) -> tuple[ClassScore, ...]:
    """Per-class precision, recall and F1 from a confusion matrix (module formulas)."""
    hits = np.diag(confusion).astype(np.float64)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    scores = []
    for k, name in enumerate(names):
        p = hits[k] / predicted[k] if predicted[k] else 0.0
        r = hits[k] / actual[k] if actual[k] else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        scores.append(ClassScore(k, name, float(p), float(r), float(f1), int(actual[k])))
    return tuple(scores)


def evaluate_classes(model: Any, x: np.ndarray, y: np.ndarray, names: tuple[str, ...],
                     loss: str = "cross_entropy") -> Evaluation:
    """Loss, accuracy, per-class scores and the confusion matrix of ``model`` on (x, y)."""
    value, accuracy, predicted = evaluate(model, x, y, loss)
    # a network with more outputs than the data has classes may predict a label no
    # example has: give it a column of its own rather than drop it
    extra = int(predicted.max(initial=-1)) + 1 - len(names)
    names = (*names, *(str(len(names) + i) for i in range(max(0, extra))))
    confusion = confusion_matrix(y, predicted, len(names))
    return Evaluation(len(y), value, accuracy, class_scores(confusion, names), confusion)
