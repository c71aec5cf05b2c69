import numpy as np
import pytest

from cnnspec.engine.init import conv_fans, fc_fans, he_normal, xavier_uniform
from cnnspec.errors import EngineError


def test_fans():
    assert conv_fans((64, 3, 7, 7)) == (3 * 49, 64 * 49)
    # grouped conv: weight (F, C/groups, KH, KW) = (32, 16/4, 3, 3)
    assert conv_fans((32, 4, 3, 3), groups=4) == (4 * 9, 8 * 9)
    assert fc_fans((9216, 4096)) == (9216, 4096)
    with pytest.raises(EngineError, match="divide"):
        conv_fans((30, 4, 3, 3), groups=4)


def test_he_normal_is_reproducible_and_has_the_right_std():
    a = he_normal((256, 32, 3, 3), fan_in=288, rng=np.random.default_rng(1))
    b = he_normal((256, 32, 3, 3), fan_in=288, rng=np.random.default_rng(1))
    c = he_normal((256, 32, 3, 3), fan_in=288, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32
    # 73,728 samples: the sample std is within ~0.3% of sqrt(2/288) = 0.0833
    assert a.std() == pytest.approx(np.sqrt(2 / 288), rel=0.01)
    assert abs(a.mean()) < 0.002


def test_xavier_uniform_bounds_and_variance():
    w = xavier_uniform(
        (400, 300), fan_in=400, fan_out=300, rng=np.random.default_rng(3), dtype=np.float64
    )
    limit = np.sqrt(6 / 700)
    assert w.dtype == np.float64
    assert w.min() >= -limit and w.max() <= limit
    assert w.max() > 0.99 * limit and w.min() < -0.99 * limit
    assert w.var() == pytest.approx(2 / 700, rel=0.02)
    again = xavier_uniform(
        (400, 300), fan_in=400, fan_out=300, rng=np.random.default_rng(3), dtype=np.float64
    )
    np.testing.assert_array_equal(w, again)


def test_bad_fan_or_dtype():
    with pytest.raises(EngineError, match="fan_in"):
        he_normal((3, 3), fan_in=0, rng=np.random.default_rng(0))
    with pytest.raises(EngineError, match="float32 or float64"):
        he_normal((3, 3), fan_in=3, rng=np.random.default_rng(0), dtype=np.int32)
