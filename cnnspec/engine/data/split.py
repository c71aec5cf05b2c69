"""Seeded, stratified train/test (or train/validation) splits.

Room: engine (``cnnspec/engine/data``); imports NumPy and :mod:`cnnspec.errors` only.
"""

from __future__ import annotations

import numpy as np

from cnnspec.errors import DataError


def class_quotas(counts: np.ndarray, total: int) -> np.ndarray:
    """How many of each class go to the held-out part, summing exactly to ``total``.

    Largest-remainder rounding: class ``c`` with ``n_c`` of ``N`` examples gets
    ``floor(total * n_c / N)``, and the ``total - sum(floors)`` left over go one each to
    the classes with the largest fractional parts (ties: lower class index first).
    """
    n = int(counts.sum())
    ideal = counts * total / n
    quotas = np.floor(ideal).astype(np.int64)
    left = total - int(quotas.sum())
    # stable sort on -fraction: equal fractions keep class order
    order = np.argsort(-(ideal - quotas), kind="stable")
    quotas[order[:left]] += 1
    return quotas


def stratified_split(y: np.ndarray, test_count: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train_idx, test_idx)`` of a split that keeps the class proportions.

    Args:
        y: int labels, shape ``(N,)``.
        test_count: size of the held-out part, ``0 < test_count < N``.
        rng: the only source of randomness (which examples of each class are held out).

    Returns:
        Two sorted int64 index arrays, disjoint, together ``0 .. N-1``;
        ``len(test_idx) == test_count`` and class ``c`` contributes
        ``class_quotas(bincount(y), test_count)[c]`` of them.
    """
    n = len(y)
    if not 0 < test_count < n:
        raise DataError(f"cannot hold out {test_count} of {n} examples",
                        hint="the held-out part must be larger than 0 and smaller than the set")
    counts = np.bincount(y)
    quotas = class_quotas(counts, test_count)
    held_out = []
    for label, quota in enumerate(quotas):
        members = np.flatnonzero(y == label)
        held_out.append(rng.permutation(members)[:quota])
    test_idx = np.sort(np.concatenate(held_out)).astype(np.int64)
    mask = np.ones(n, dtype=bool)
    mask[test_idx] = False
    return np.flatnonzero(mask).astype(np.int64), test_idx
