import numpy as np
import pytest

from cnnspec.engine.data.split import class_quotas, stratified_split
from cnnspec.errors import DataError


def test_quotas_use_largest_remainders_and_sum_exactly():
    # ideal 4 * 5/15 = 1.33 each: floors 1, 1, 1; the one left goes to class 0 (tie -> first)
    np.testing.assert_array_equal(class_quotas(np.array([5, 5, 5]), 4), [2, 1, 1])
    # ideal 3.0, 1.5, 0.5 -> floors 3, 1, 0; remainders .0 .5 .5: one left -> class 1
    np.testing.assert_array_equal(class_quotas(np.array([6, 3, 1]), 5), [3, 2, 0])


def test_split_is_disjoint_complete_stratified_and_seeded():
    y = np.repeat(np.arange(4), [30, 20, 40, 10])
    train, test = stratified_split(y, 25, np.random.default_rng(7))
    assert len(test) == 25 and len(train) == 75
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(100))
    np.testing.assert_array_equal(np.bincount(y[test]), [8, 5, 10, 2])  # 25% of each class
    again = stratified_split(y, 25, np.random.default_rng(7))[1]
    other = stratified_split(y, 25, np.random.default_rng(8))[1]
    np.testing.assert_array_equal(again, test)
    assert not np.array_equal(other, test)


@pytest.mark.parametrize("count", [0, 10, -1])
def test_impossible_holdout(count):
    with pytest.raises(DataError, match=f"cannot hold out {count} of 10"):
        stratified_split(np.arange(10) % 2, count, np.random.default_rng(0))
