"""CIFAR-10 from the python batches, read through a restricted unpickler.

Room: engine (``cnnspec/engine/data``); imports NumPy and :mod:`cnnspec.errors` only.

A pickle is a program: unpickling may call any importable function. The batches
are untrusted input, so :class:`RestrictedUnpickler` resolves only the globals that a
NumPy ``uint8`` array needs (``_reconstruct``, ``ndarray``, ``dtype``) and refuses
every other one *before* anything is called; lists, dicts, str, bytes and numbers need
no global at all.

Folder ``cifar-10-batches-py``: ``data_batch_1`` .. ``data_batch_5`` (10,000 images
each) and ``test_batch`` (10,000), each a dict with ``data``, a uint8 ``(10000, 3072)``
array whose rows hold the red, green then blue 32x32 planes row by row, and ``labels``,
a list of ints 0..9; ``batches.meta`` holds ``label_names``.

Scaling: ``x = pixel / 255`` -> float32 ``(N, 3, 32, 32)`` in ``[0, 1]``.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnnspec.engine.data.dataset import Dataset, make_dataset
from cnnspec.errors import DataError, Location

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
CIFAR_DIRNAME = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META_FILE = "batches.meta"
IMAGE_CHW = (3, 32, 32)


def _numpy_reconstruct() -> Callable[..., Any]:
    try:  # NumPy >= 2 (and 1.26, which carries the new name for forward compatibility)
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # pragma: no cover - older NumPy
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def allowed_globals() -> dict[tuple[str, str], Any]:
    """``(module, name) -> object`` for the only globals a batch may name."""
    reconstruct = _numpy_reconstruct()
    return {
        ("numpy.core.multiarray", "_reconstruct"): reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle named a global outside the allow-list; nothing was called."""

    def __init__(self, module: str, name: str):
        super().__init__(f"{module}.{name}")
        self.module = module
        self.name = name


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds plain data and NumPy arrays, and nothing else.

    Every ``GLOBAL``/``STACK_GLOBAL``/``INST``/``EXT`` opcode goes through
    :meth:`find_class`, which returns one of :func:`allowed_globals` or raises
    :class:`RefusedGlobal`. Python 2 strings are decoded as latin-1, which is
    how NumPy expects the raw bytes of Python 2 array pickles.
    """

    def __init__(self, file: Any):
        super().__init__(file, encoding="latin1")
        self._allowed = allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise RefusedGlobal(module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed")


def load_restricted_pickle(path: str | Path) -> Any:
    """The object in the pickle file ``path``, built by :class:`RestrictedUnpickler`.

    A refused global, a truncated file or anything else that is not a clean pickle
    is a ``DataError`` naming the file.
    """
    where = Location(source=str(path))
    if not Path(path).is_file():
        raise DataError("file not found", where,
                        "run `cnnspec data download cifar10`, or pass --data cifar10:FOLDER")
    try:
        with open(path, "rb") as handle:
            return RestrictedUnpickler(handle).load()
    except RefusedGlobal as exc:
        raise DataError(f"pickle refused: it asks for {exc.module}.{exc.name}, which a data "
                        "batch never needs (only NumPy arrays, lists, dicts, str, bytes and "
                        "numbers are allowed)", where,
                        "do not load this file; get the batches from the official CIFAR-10 "
                        "archive (`cnnspec data download cifar10`)") from None
    except EOFError:
        raise DataError("pickle ends early: the file is truncated", where,
                        "download it again") from None
    except (pickle.UnpicklingError, ValueError, TypeError, IndexError, KeyError,
            AttributeError, OverflowError, MemoryError) as exc:
        raise DataError(f"not a valid pickle ({type(exc).__name__}: {exc})", where,
                        "download it again") from None


def _plain_keys(obj: Any, where: Location) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise DataError(f"expected a dict, found {type(obj).__name__}", where,
                        "this is not a CIFAR-10 python batch")
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in obj.items()}


def read_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> ``(images uint8 (N, 3, 32, 32), labels int64 (N,))``."""
    where = Location(source=str(path))
    batch = _plain_keys(load_restricted_pickle(path), where)
    for key in ("data", "labels"):
        if key not in batch:
            raise DataError(f"batch has no {key!r} entry", where,
                            "this is not a CIFAR-10 python batch (CIFAR-100 uses 'fine_labels')")
    data = batch["data"]
    size = int(np.prod(IMAGE_CHW))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != size:
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataError(f"'data' is {got}, expected uint8 (N, {size})", where,
                        "this is not a CIFAR-10 python batch")
    try:
        labels = np.asarray(batch["labels"], dtype=np.int64)
    except (TypeError, ValueError):
        raise DataError("'labels' is not a list of integers", where) from None
    if labels.shape != (len(data),):
        raise DataError(f"{len(data):,} images but labels of shape {labels.shape}", where,
                        "the batch is damaged; download it again")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(CIFAR10_CLASSES)):
        raise DataError(f"labels run from {labels.min()} to {labels.max()}, expected 0..9", where,
                        "this is not a CIFAR-10 batch")
    return data.reshape(len(data), *IMAGE_CHW), labels  # (N, 3072) -> (N, 3, 32, 32)


def read_label_names(folder: Path) -> tuple[str, ...]:
    """``label_names`` from ``batches.meta`` when present and sane, else the standard ten."""
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        return CIFAR10_CLASSES
    meta = _plain_keys(load_restricted_pickle(meta_path), Location(source=str(meta_path)))
    names = meta.get("label_names")
    if isinstance(names, list) and len(names) == len(CIFAR10_CLASSES):
        return tuple(n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names)
    return CIFAR10_CLASSES


def find_cifar_dir(root: str | Path) -> Path:
    """The batches folder: ``root`` itself, ``root/cifar-10-batches-py`` or
    ``root/cifar10/cifar-10-batches-py`` (a cache root), the first holding ``test_batch``."""
    root = Path(root).expanduser()
    for folder in (root, root / CIFAR_DIRNAME, root / "cifar10" / CIFAR_DIRNAME):
        if (folder / TEST_BATCH).is_file():
            return folder
    where = Location(source=str(root))
    raise DataError(f"no CIFAR-10 python batches ({TEST_BATCH}, data_batch_1..5) here", where,
                    "run `cnnspec data download cifar10`, or pass the cifar-10-batches-py folder")


def load_cifar10(root: str | Path) -> Dataset:
    """CIFAR-10 (50,000 train / 10,000 test, 32x32x3) from the python batches."""
    folder = find_cifar_dir(root)
    train = [read_cifar_batch(folder / name) for name in TRAIN_BATCHES]
    x_test_u8, y_test = read_cifar_batch(folder / TEST_BATCH)
    x_train_u8 = np.concatenate([x for x, _ in train])  # (50000, 3, 32, 32)
    y_train = np.concatenate([y for _, y in train])
    return make_dataset("cifar10", str(folder), scale_uint8(x_train_u8), y_train,
                        scale_uint8(x_test_u8), y_test, read_label_names(folder))


def scale_uint8(x: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 ``x / 255`` in ``[0, 1]`` (divided in place: one float copy)."""
    out = x.astype(np.float32)
    out /= np.float32(255)
    return out
