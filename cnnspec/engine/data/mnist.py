"""MNIST from its four IDX files.

Room: engine (``cnnspec/engine/data``); imports NumPy and :mod:`cnnspec.errors` only.

Files (each may be gzipped, ``.gz``; the dotted names some mirrors use, e.g.
``train-images.idx3-ubyte``, are accepted too)::

    train-images-idx3-ubyte   60,000 x 28 x 28 uint8      train-labels-idx1-ubyte   60,000 uint8
    t10k-images-idx3-ubyte    10,000 x 28 x 28 uint8      t10k-labels-idx1-ubyte    10,000 uint8

Scaling: ``x = pixel / 255`` -> float32 ``(N, 1, 28, 28)`` in ``[0, 1]``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnspec.engine.data.dataset import Dataset, make_dataset
from cnnspec.engine.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from cnnspec.errors import DataError, Location

MNIST_CLASSES = tuple(str(d) for d in range(10))
MNIST_STEMS = {
    "train images": "train-images-idx3-ubyte",
    "train labels": "train-labels-idx1-ubyte",
    "test images": "t10k-images-idx3-ubyte",
    "test labels": "t10k-labels-idx1-ubyte",
}


def idx_candidates(stem: str) -> list[str]:
    """File names that may hold ``stem``: plain or ``.gz``, ``-idx`` or ``.idx``."""
    dotted = stem.replace("-idx", ".idx")
    return [stem, f"{stem}.gz", dotted, f"{dotted}.gz"]


def find_mnist_dir(root: str | Path) -> Path:
    """``root`` if it holds the MNIST files, else ``root/mnist`` (a cache root)."""
    root = Path(root).expanduser()
    first = MNIST_STEMS["train images"]
    for folder in (root, root / "mnist"):
        if any((folder / name).is_file() for name in idx_candidates(first)):
            return folder
    return root


def mnist_file(folder: Path, stem: str) -> Path:
    """The file in ``folder`` holding ``stem``, or a ``DataError`` naming what is missing."""
    for name in idx_candidates(stem):
        if (folder / name).is_file():
            return folder / name
    where = Location(source=str(folder))
    if not folder.is_dir():
        raise DataError("MNIST folder not found", where,
                        "run `cnnspec data download mnist`, or pass --data mnist:FOLDER")
    raise DataError(f"MNIST file {stem}[.gz] not found", where,
                    "run `cnnspec data download mnist` (add --dir to choose the folder)")


def load_mnist(root: str | Path) -> Dataset:
    """MNIST from the folder ``root`` (or ``root/mnist``) as a :class:`Dataset`.

    Checks that images are uint8 ``(N, H, W)``, labels uint8 ``(N,)`` in 0..9, and
    that each pair has the same ``N``; every failure is a ``DataError`` naming the file.
    """
    folder = find_mnist_dir(root)
    parts = []
    for part in ("train", "test"):
        image_path = mnist_file(folder, MNIST_STEMS[f"{part} images"])
        label_path = mnist_file(folder, MNIST_STEMS[f"{part} labels"])
        images = read_idx(image_path, IMAGES_MAGIC)
        labels = read_idx(label_path, LABELS_MAGIC)
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise DataError(f"{part} files hold {images.dtype}/{labels.dtype}, expected uint8",
                            Location(source=str(image_path)), "these are not MNIST files")
        if len(images) != len(labels):
            raise DataError(f"{len(images):,} images but {len(labels):,} labels in "
                            f"{label_path.name}", Location(source=str(image_path)),
                            "the images and labels files come from different sets")
        if len(labels) and labels.max() > 9:
            raise DataError(f"label {labels.max()} out of range 0..9",
                            Location(source=str(label_path)), "this is not an MNIST label file")
        x = images[:, None, :, :].astype(np.float32)  # (N, 1, H, W)
        x /= np.float32(255)
        parts.append((x, labels.astype(np.int64)))
    (x_train, y_train), (x_test, y_test) = parts
    return make_dataset("mnist", str(folder), x_train, y_train, x_test, y_test, MNIST_CLASSES)
