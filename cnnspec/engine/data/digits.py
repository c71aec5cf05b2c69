"""The embedded default data set: scikit-learn's bundled handwritten digits.

Room: engine (``cnnspec/engine/data``); imports NumPy, :mod:`cnnspec.errors` and,
lazily, scikit-learn (its ``load_digits`` reads a file shipped inside the wheel,
so this works offline on a fresh machine).

The set holds 1,797 real 8x8 grey images of the digits 0-9 (UCI "Optical Recognition
of Handwritten Digits"); each pixel counts the ink in a 4x4 block of a 32x32 bitmap,
0..16. Here:

* scaling: ``x = pixel / 16`` -> float32 in ``[0, 1]``, NCHW ``(N, 1, 8, 8)``;
* split: a fixed stratified split, 1,437 train / 360 test, drawn with
  ``np.random.default_rng(0)`` (:func:`cnnspec.engine.data.split.stratified_split`),
  so every run and every machine sees the same test images;
* size: resized to the network's input with :func:`resize_images`
  (bilinear by default, e.g. 8x8 -> 32x32 for LeNet-5).
"""

from __future__ import annotations

import numpy as np

from cnnspec.engine.data.dataset import Dataset, make_dataset
from cnnspec.engine.data.resize import ResizeMethod, parse_method, resize_images
from cnnspec.engine.data.split import stratified_split
from cnnspec.errors import DataError

DIGIT_CLASSES = tuple(str(d) for d in range(10))
DIGITS_TEST_COUNT = 360
DIGITS_SEED = 0
DIGITS_MAX = 16.0
SOURCE = "scikit-learn load_digits"


def load_digits(size: tuple[int, int] | None = None,
                method: ResizeMethod | str = ResizeMethod.BILINEAR,
                test_count: int = DIGITS_TEST_COUNT, seed: int = DIGITS_SEED) -> Dataset:
    """The digits as a :class:`Dataset`, optionally resized to ``size = (H, W)``.

    Returns float32 ``(1437, 1, H, W)`` / ``(360, 1, H, W)`` images in ``[0, 1]``
    (``H = W = 8`` when ``size`` is ``None``) and int64 labels 0..9.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise DataError("the embedded digits need scikit-learn, which is not installed",
                        hint="pip install 'cnnspec[train]' (or scikit-learn), "
                             "or pass --data mnist:PATH / npz:PATH") from None
    bunch = sklearn_digits()
    images = np.asarray(bunch.images, dtype=np.float32) / DIGITS_MAX  # (1797, 8, 8)
    x = images[:, None, :, :]  # (N, 1, 8, 8)
    y = np.asarray(bunch.target, dtype=np.int64)
    train_idx, test_idx = stratified_split(y, test_count, np.random.default_rng(seed))
    notes = [f"fixed stratified split {len(train_idx)}/{len(test_idx)} (seed {seed})"]
    if size is not None and tuple(size) != (8, 8):
        x = resize_images(x, size, method)
        notes.append(f"resized 8x8 -> {size[0]}x{size[1]} ({parse_method(method).value})")
    return make_dataset("digits", SOURCE, x[train_idx], y[train_idx], x[test_idx], y[test_idx],
                        DIGIT_CLASSES, tuple(notes))
