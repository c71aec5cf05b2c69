"""The ``Dataset`` record every loader returns.

Room: engine (``cnnspec/engine/data``); imports NumPy and :mod:`cnnspec.errors` only.

Layout and scaling, once for every loader:

* images ``x_*``: float32, NCHW ``(N, C, H, W)``, values in ``[0, 1]``
  (8-bit sources are divided by 255, the digits' 0..16 by 16);
* labels ``y_*``: int64, shape ``(N,)``, values in ``0 .. len(classes) - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnspec.errors import DataError, Location


@dataclass(frozen=True, eq=False)  # arrays inside: no element-wise __eq__
class Dataset:
    """A labelled image set split into train and test parts.

    Attributes:
        name: short name (``"digits"``, ``"mnist"``, ``"cifar10"``, or the npz file's stem).
        x_train: float32 ``(N_train, C, H, W)`` in ``[0, 1]``.
        y_train: int64 ``(N_train,)``.
        x_test: float32 ``(N_test, C, H, W)`` in ``[0, 1]``.
        y_test: int64 ``(N_test,)``.
        classes: one name per label value.
        source: where the arrays came from (a path, or ``"scikit-learn"``).
        notes: what was done to the data on the way (split, resize), for reports.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    source: str
    notes: tuple[str, ...] = field(default=())

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of one image, the order a spec's ``input`` uses."""
        _, c, h, w = self.x_train.shape
        return (h, w, c)

    @property
    def num_classes(self) -> int:
        """How many classes (``len(classes)``)."""
        return len(self.classes)

    def with_images(self, x_train: np.ndarray, x_test: np.ndarray, note: str) -> Dataset:
        """The same data set with new image arrays and one more note."""
        return Dataset(self.name, x_train, self.y_train, x_test, self.y_test, self.classes,
                       self.source, (*self.notes, note))

    def to_dict(self) -> dict[str, Any]:
        """Sizes, shape, classes and per-class counts as plain JSON values."""
        h, w, c = self.image_shape
        return {
            "name": self.name,
            "source": self.source,
            "image_shape": [h, w, c],
            "train": len(self.y_train),
            "test": len(self.y_test),
            "classes": list(self.classes),
            "train_per_class": np.bincount(self.y_train, minlength=self.num_classes).tolist(),
            "test_per_class": np.bincount(self.y_test, minlength=self.num_classes).tolist(),
            "value_range": [float(self.x_train.min(initial=0.0)),
                            float(self.x_train.max(initial=0.0))],
            "notes": list(self.notes),
        }


def make_dataset(name: str, source: str, x_train: np.ndarray, y_train: np.ndarray,
                 x_test: np.ndarray, y_test: np.ndarray, classes: tuple[str, ...],
                 notes: tuple[str, ...] = ()) -> Dataset:
    """A :class:`Dataset` after checking the layout contract; a ``DataError`` otherwise.

    Checks: 4-D float32 images with the same ``(C, H, W)`` in both parts, 1-D int64
    labels as long as the images, every label in ``0 .. len(classes) - 1``.
    """
    where = Location(source=source)
    for part, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim != 4 or x.dtype != np.float32:
            raise DataError(f"{part} images have shape {x.shape} and dtype {x.dtype}, "
                            "expected float32 (N, C, H, W)", where)
        if y.ndim != 1 or y.dtype != np.int64:
            raise DataError(f"{part} labels have shape {y.shape} and dtype {y.dtype}, "
                            "expected int64 (N,)", where)
        if len(x) != len(y):
            raise DataError(f"{part} part has {len(x)} images but {len(y)} labels", where,
                            "every image needs exactly one label")
        if len(y) and (y.min() < 0 or y.max() >= len(classes)):
            raise DataError(f"{part} labels run from {y.min()} to {y.max()}, but there are "
                            f"{len(classes)} classes", where,
                            "labels must be 0 .. number of classes - 1")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(f"train images are {x_train.shape[1:]} (C, H, W) but test images are "
                        f"{x_test.shape[1:]}", where, "both parts must have the same image size")
    return Dataset(name, x_train, y_train, x_test, y_test, tuple(classes), source, tuple(notes))
