"""Any image set saved as a NumPy ``.npz`` archive.

Room: engine (``cnnspec/engine/data``); imports NumPy and :mod:`cnnspec.errors` only.

Arrays the archive may hold (loaded with ``allow_pickle=False``: object arrays are
refused, so the file can only ever produce numbers and strings):

* ``x`` (required): images ``(N, H, W)`` (grey), ``(N, C, H, W)`` or ``(N, H, W, C)``
  with ``C`` in {1, 3}. A 4-D array whose axis 1 is 1 or 3 is read as NCHW, otherwise
  as NHWC when its last axis is 1 or 3.
* ``y`` (required): integer labels ``(N,)``, 0 .. K-1.
* ``x_test``, ``y_test`` (optional, together): the test part, same layout. Without
  them a fixed stratified ``test_fraction`` of ``x`` (seed 0) is held out as the test part.
* ``classes`` (optional): K class names (a string array).

Scaling: ``uint8`` images are divided by 255; float images are taken as already in
``[0, 1]`` (they must be finite); other dtypes are refused.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from cnnspec.engine.budget import require_memory
from cnnspec.engine.data.dataset import Dataset, make_dataset
from cnnspec.engine.data.npz_members import inspect_npz, read_members
from cnnspec.engine.data.split import stratified_split
from cnnspec.errors import DataError, Location

NPZ_TEST_FRACTION = 0.2
ARRAYS = ("x", "y", "x_test", "y_test", "classes")  # the members read; others are ignored
NPZ_SPLIT_SEED = 0


def to_nchw(x: np.ndarray, key: str, where: Location) -> np.ndarray:
    """``x`` as float32 NCHW in the scaling described in the module docstring."""
    if x.ndim == 3:
        x = x[:, None, :, :]  # (N, H, W) -> (N, 1, H, W)
    elif x.ndim == 4 and x.shape[1] not in (1, 3) and x.shape[3] in (1, 3):
        x = x.transpose(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    elif x.ndim != 4 or x.shape[1] not in (1, 3):
        raise DataError(f"{key!r} has shape {x.shape}", where,
                        "images must be (N, H, W), (N, C, H, W) or (N, H, W, C) with C = 1 or 3")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255)
    if np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
        if not np.isfinite(x).all():
            raise DataError(f"{key!r} holds NaN or infinite values", where,
                            "clean the images before saving them")
        return x
    raise DataError(f"{key!r} has dtype {x.dtype}", where,
                    "save images as uint8 (0..255) or as floats already scaled to [0, 1]")


def to_labels(y: np.ndarray, key: str, where: Location) -> np.ndarray:
    """``y`` as int64 ``(N,)``; a ``DataError`` for non-integers or negatives."""
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{key!r} has shape {y.shape} and dtype {y.dtype}", where,
                        "labels must be a 1-D integer array, one class index per image")
    if len(y) and y.min() < 0:
        raise DataError(f"{key!r} holds a negative label ({y.min()})", where,
                        "labels must be 0 .. number of classes - 1")
    return y.astype(np.int64)


def load_npz(path: str | Path, test_fraction: float = NPZ_TEST_FRACTION,
             seed: int = NPZ_SPLIT_SEED) -> Dataset:
    """The image set in the ``.npz`` file ``path`` as a :class:`Dataset`."""
    path = Path(path).expanduser()
    where = Location(source=str(path))
    if not path.is_file():
        raise DataError("file not found", where, "check the path of the .npz file")
    if not zipfile.is_zipfile(path):
        raise DataError("not a .npz archive (a single .npy array or another file)", where,
                        "np.savez(path, x=images, y=labels)")
    members = inspect_npz(path, where, lambda name: name in ARRAYS)
    images = sum(math.prod(m.shape) * 4 for m in members if m.name in ("x", "x_test"))
    require_memory({"arrays": sum(m.nbytes for m in members), "float32 images": images},
                   f"reading {path.name}", "use a smaller data set (fewer or smaller images)",
                   source=str(path))
    arrays = read_members(path, members, where)
    if "x" not in arrays or "y" not in arrays:
        found = ", ".join(sorted(arrays)) or "nothing"
        raise DataError(f"the archive needs arrays 'x' and 'y'; it holds {found}", where,
                        "np.savez(path, x=images, y=labels[, x_test=..., y_test=...])")
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DataError("'x_test' and 'y_test' must come together", where)
    x = to_nchw(arrays["x"], "x", where)
    y = to_labels(arrays["y"], "y", where)
    notes: list[str] = []
    if "x_test" in arrays:
        x_test = to_nchw(arrays["x_test"], "x_test", where)
        y_test = to_labels(arrays["y_test"], "y_test", where)
    else:
        if len(x) != len(y):
            raise DataError(f"'x' has {len(x)} images but 'y' has {len(y)} labels", where)
        test_count = round(len(y) * test_fraction)
        train_idx, test_idx = stratified_split(y, test_count, np.random.default_rng(seed))
        x, y, x_test, y_test = x[train_idx], y[train_idx], x[test_idx], y[test_idx]
        notes.append(f"no x_test/y_test: held out {len(test_idx)} of {len(test_idx) + len(y)} "
                     f"(stratified, seed {seed})")
    classes = class_names(arrays.get("classes"), int(max(y.max(initial=-1),
                                                         y_test.max(initial=-1))) + 1, where)
    return make_dataset(path.stem, str(path), x, y, x_test, y_test, classes, tuple(notes))


def class_names(stored: np.ndarray | None, needed: int, where: Location) -> tuple[str, ...]:
    """The ``classes`` array as strings, or ``"0" .. str(needed - 1)`` when absent."""
    if stored is None:
        return tuple(str(i) for i in range(needed))
    names = tuple(str(n) for n in np.asarray(stored).reshape(-1))
    if len(names) < needed:
        raise DataError(f"'classes' names {len(names)} classes but labels go up to {needed - 1}",
                        where, "give one name per class")
    return names
