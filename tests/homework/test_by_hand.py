"""Convolution and pooling by hand: the steps agree with the NumPy engine."""

from __future__ import annotations

import numpy as np
import pytest

from cnnspec.conventions import Rounding
from cnnspec.errors import AnalysisError, DataError
from cnnspec.homework.by_hand import conv_by_hand, pool_by_hand
from cnnspec.homework.matrices import Channels, read_matrix

SEED_IMAGE = "1 1 1 0 0; 0 1 1 1 0; 0 0 1 1 1; 0 0 1 1 0; 0 1 1 0 0"
SEED_KERNEL = "1 0 1; 0 1 0; 1 0 1"


def channels(array: np.ndarray) -> Channels:
    """A (C, H, W) array as the matrices a user would type."""
    text = " | ".join("; ".join(" ".join(repr(float(v)) for v in row) for row in m)
                      for m in array)
    return read_matrix(text)


def test_the_lecture_example() -> None:
    result = conv_by_hand(read_matrix(SEED_IMAGE), read_matrix(SEED_KERNEL))
    assert result.result == [[[4, 3, 4], [2, 4, 3], [2, 3, 4]]]
    assert result.steps[0].text == "y_11 = 1*1+1*0+1*1+0*0+1*1+1*0+0*1+0*0+1*1 = 4"
    assert [s.name for s in result.steps[:4]] == ["y_11", "y_12", "y_13", "y_21"]
    assert result.size == ["O = (5 + 2*0 - 3)/1 + 1 = 3  ->  output 3x3"]


def test_steps_match_the_matrix_for_the_lecture_example() -> None:
    result = conv_by_hand(read_matrix(SEED_IMAGE), read_matrix(SEED_KERNEL))
    flat = [v for row in result.result[0] for v in row]
    assert [s.value for s in result.steps] == flat


@pytest.mark.parametrize(("stride", "pad", "bias", "depth"), [
    ((1, 1), (0, 0), 0.0, 1), ((2, 2), (1, 1), 1.0, 1), ((1, 2), (1, 0), -0.5, 3),
    ((3, 3), (2, 2), 2.0, 2),
])
def test_random_convolutions_agree_with_the_engine(stride, pad, bias, depth) -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(-3, 4, size=(depth, 7, 7)).astype(float)
    w = rng.integers(-2, 3, size=(depth, 3, 3)).astype(float)
    result = conv_by_hand(channels(x), channels(w), stride=stride, padding=pad, bias=bias,
                          rounding=Rounding.FLOOR)
    flat = [v for row in result.result[0] for v in row]
    assert [s.value for s in result.steps] == pytest.approx(flat)
    # and the engine's matrix is an honest convolution: check one value independently
    xp = np.pad(x, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    assert result.result[0][0][0] == pytest.approx(float((xp[:, :3, :3] * w).sum() + bias))


def test_colour_steps_name_the_channels() -> None:
    image = read_matrix("1 2; 3 4 | 1 1; 1 1 | 0 2; 0 0")
    kernel = read_matrix("1 0; 0 1 | 1 1; 1 1 | 1 1; 0 0")
    result = conv_by_hand(image, kernel, bias=1)
    assert result.result == [[[1 + 4 + 4 + 2 + 1]]]
    assert result.steps[0].text == ("y_11 = [1] 1*1+2*0+3*0+4*1 (= 5) + [2] 1*1+1*1+1*1+1*1 "
                                    "(= 4) + [3] 0*1+2*1+0*0+0*0 (= 2) + 1 = 12")


def test_kernel_depth_must_match() -> None:
    with pytest.raises(DataError, match=r"the kernel has 1 channel.*the image has 3") as info:
        conv_by_hand(read_matrix("1 2; 3 4 | 1 1; 1 1 | 0 2; 0 0"), read_matrix("1 0; 0 1"))
    assert "X_R*W_R" in (info.value.hint or "")


def test_stride_that_does_not_fit() -> None:
    with pytest.raises(AnalysisError, match=r"\(7 \+ 2\*0 - 3\)/3 \+ 1 = 2.33 is not a whole"
                                            r" number: stride 3 does not fit") as info:
        conv_by_hand(channels(np.ones((1, 7, 7))), read_matrix(SEED_KERNEL), stride=(3, 3))
    assert "padding 1 (-> 3)" in (info.value.hint or "")
    floor = conv_by_hand(channels(np.ones((1, 7, 7))), read_matrix(SEED_KERNEL), stride=(3, 3),
                         rounding=Rounding.FLOOR)
    assert np.array(floor.result).shape == (1, 2, 2) and "-> 2 (floor)" in floor.size[0]


FMAP = "1 1 2 4; 5 6 7 8; 3 2 1 0; 1 2 3 4"


def test_max_and_average_pooling() -> None:
    fmap = read_matrix(FMAP)
    top = pool_by_hand(fmap, size=(2, 2), mode="max")
    assert top.result == [[[6, 8], [3, 4]]]
    assert top.steps[0].text == "y_11 = max(1, 1, 5, 6) = 6"
    mean = pool_by_hand(fmap, size=(2, 2), mode="avg")
    assert mean.result == [[[3.25, 5.25], [2, 2]]]
    assert mean.steps[1].text == "y_12 = (2+4+7+8)/4 = 5.25"


def test_stochastic_pooling_probabilities_and_inference_value() -> None:
    result = pool_by_hand(read_matrix(FMAP), size=(2, 2), mode="stochastic")
    first = result.steps[0]
    assert first.details == ["window (1, 1, 5, 6), sum 13: p = 1/13 = 0.077, 1/13 = 0.077, "
                             "5/13 = 0.385, 6/13 = 0.462"]
    assert "= 63/13 = 4.84615" in first.text
    assert result.result[0][0][0] == pytest.approx(63 / 13)
    assert [s.value for s in result.steps] == pytest.approx(
        [63 / 13, (4 + 16 + 49 + 64) / 21, 18 / 8, 26 / 8])
    assert result.sampled is None


def test_stochastic_training_draw_is_one_of_the_window() -> None:
    result = pool_by_hand(read_matrix(FMAP), size=(2, 2), mode="stochastic", seed=3)
    windows = [{1, 5, 6}, {2, 4, 7, 8}, {3, 2, 1}, {1, 3, 4}]
    drawn = [v for row in result.sampled[0] for v in row]
    assert all(v in w for v, w in zip(drawn, windows, strict=True))
    again = pool_by_hand(read_matrix(FMAP), size=(2, 2), mode="stochastic", seed=3)
    assert again.sampled == result.sampled and len(result.sampled_steps) == 4


def test_stochastic_pooling_rejects_negative_values() -> None:
    with pytest.raises(DataError, match="non-negative values, but row 2 holds -4") as info:
        pool_by_hand(read_matrix("1 2; 3 -4"), size=(2, 2), mode="stochastic")
    assert info.value.loc.column == 8


@pytest.mark.parametrize(("mode", "rounding", "pad"), [
    ("max", Rounding.CEIL, (0, 0)), ("avg", Rounding.CEIL, (0, 0)), ("max", Rounding.FLOOR,
                                                                    (1, 1)),
    ("avg", Rounding.FLOOR, (1, 1)), ("stochastic", Rounding.CEIL, (1, 1)),
])
def test_pooling_steps_agree_with_the_engine(mode: str, rounding: Rounding, pad) -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 9, size=(2, 5, 5)).astype(float)
    result = pool_by_hand(channels(x), size=(3, 3), stride=(2, 2), padding=pad, mode=mode,
                          rounding=rounding)
    flat = [v for m in result.result for row in m for v in row]
    assert len(result.steps) == len(flat)
    assert [s.value for s in result.steps] == pytest.approx(flat)
