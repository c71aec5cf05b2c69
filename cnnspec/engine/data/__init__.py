"""Data sets for the NumPy engine: loaders, resizing, input matching, downloads.

Room: engine (``cnnspec/engine/data``); imports NumPy, :mod:`cnnspec.errors`, the memory
check of :mod:`cnnspec.engine.budget` (file headers are checked before reading) and,
lazily, scikit-learn (for the embedded digits only). Nothing here imports click or rich.

Every loader returns a :class:`Dataset`: float32 NCHW images scaled to ``[0, 1]``
(8-bit pixels / 255, the digits' 0..16 / 16) and int64 labels. The data spec string:

========================  ===============================================================
``digits`` (default)      scikit-learn's 1,797 8x8 digits, resized to the network's input
``mnist[:FOLDER]``        the four MNIST IDX files (FOLDER defaults to the cache)
``cifar10[:FOLDER]``      the CIFAR-10 python batches (FOLDER defaults to the cache)
``npz:FILE`` or ``FILE.npz``  arrays ``x``, ``y`` (and optionally ``x_test``, ``y_test``)
========================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cnnspec.engine.data.dataset import Dataset, make_dataset
from cnnspec.engine.data.match import check_input, match_input
from cnnspec.engine.data.paths import data_home, dataset_dir
from cnnspec.engine.data.resize import ResizeMethod, convert_channels, resize_images
from cnnspec.engine.data.split import stratified_split
from cnnspec.errors import DataError, Location

DATA_KINDS = ("digits", "mnist", "cifar10", "npz")
DATA_HINT = "use digits, mnist[:FOLDER], cifar10[:FOLDER], npz:FILE or a path ending in .npz"


@dataclass(frozen=True)
class DataSpec:
    """A parsed ``--data`` value: which loader, and its path (None: the default)."""

    kind: str
    path: str | None = None


def parse_data_spec(text: str) -> DataSpec:
    """``"mnist:~/data/mnist"`` -> ``DataSpec("mnist", "~/data/mnist")``; see the module table."""
    value = text.strip()
    if value == "":
        return DataSpec("digits")
    kind, colon, rest = value.partition(":")
    if colon and kind.lower() in DATA_KINDS:
        kind = kind.lower()
        path = rest.strip() or None
        if kind == "digits" and path is not None:
            raise DataError(f"the embedded digits take no path ({value!r})",
                            Location(source="--data"), "write just: digits")
        if kind == "npz" and path is None:
            raise DataError("npz: needs a file", Location(source="--data"), "write npz:FILE.npz")
        return DataSpec(kind, path)
    if value.lower() in DATA_KINDS and value.lower() != "npz":
        return DataSpec(value.lower())
    if value.lower().endswith(".npz"):
        return DataSpec("npz", value)
    raise DataError(f"unknown data set {value!r}", Location(source="--data"), DATA_HINT)


def load_dataset(spec: str = "digits", *, input_shape: Sequence[int] | None = None,
                 resize: bool = False, method: ResizeMethod | str = ResizeMethod.BILINEAR,
                 cache_dir: str | Path | None = None) -> Dataset:
    """Load the data set named by ``spec`` and fit it to ``input_shape`` ``(H, W, C)``.

    Args:
        spec: a data spec string (module table), e.g. ``"digits"`` or ``"mnist:~/mnist"``.
        input_shape: the network's input, ``(H, W, C)`` or ``(D,)``; None skips matching.
        resize: when the images do not fit ``input_shape``, resize ``H x W`` and convert
            grey <-> colour instead of raising ``DataError``. The embedded digits are
            always resized to ``H x W`` (they exist to fit any network); their channel
            count still needs ``resize=True`` to change.
        method: ``bilinear`` (default), ``nearest``, ``area`` or ``pad``
            (see :mod:`cnnspec.engine.data.resize`).
        cache_dir: the download cache root for ``mnist``/``cifar10`` without a folder.

    Returns:
        A :class:`Dataset` with float32 ``(N, C, H, W)`` images in ``[0, 1]``.
    """
    parsed = parse_data_spec(spec)
    if parsed.kind == "digits":
        from cnnspec.engine.data.digits import load_digits

        size = (int(input_shape[0]), int(input_shape[1])) \
            if input_shape is not None and len(input_shape) == 3 else None
        dataset = load_digits(size, method)
    elif parsed.kind == "mnist":
        from cnnspec.engine.data.mnist import load_mnist

        dataset = load_mnist(parsed.path or dataset_dir("mnist", cache_dir))
    elif parsed.kind == "cifar10":
        from cnnspec.engine.data.cifar import load_cifar10

        dataset = load_cifar10(parsed.path or dataset_dir("cifar10", cache_dir))
    else:
        from cnnspec.engine.data.npz import load_npz

        dataset = load_npz(str(parsed.path))
    if input_shape is None:
        return dataset
    return match_input(dataset, input_shape, resize=resize, method=method)


__all__ = [
    "DATA_KINDS",
    "DataSpec",
    "Dataset",
    "ResizeMethod",
    "check_input",
    "convert_channels",
    "data_home",
    "dataset_dir",
    "load_dataset",
    "make_dataset",
    "match_input",
    "parse_data_spec",
    "resize_images",
    "stratified_split",
]
