"""How a student's written values are read."""

from __future__ import annotations

from fractions import Fraction

import pytest

from cnnspec.errors import DataError, Location
from cnnspec.homework.values import about, parse_number, parse_shape, squeeze


@pytest.mark.parametrize(("text", "value"), [
    ("34944", 34944), ("34,944", 34944), ("34_944", 34944), (34944, 34944),
    ("(11x11x3+1)x96", 34944), ("(3*3*3)*64", 1728), ("6x6x256x4096", 37748736),
    ("(11x11x3+1)x96 (=34,944)", 34944), ("4096 × 1000", 4096000), ("10 - 4 / 2", 8),
])
def test_exact_numbers_and_expressions(text: object, value: int) -> None:
    given = parse_number(text)
    assert given.exact and given.integer == value


def test_working_then_answer_keeps_both() -> None:
    given = parse_number("(5x5x96)x256 = 614,400")
    assert given.integer == 614400
    assert given.working == "(5x5x96)x256" and given.working_value == 614400


@pytest.mark.parametrize(("text", "value", "tolerance"), [
    ("3.2M", 3_200_000, 50_000), ("~24M", 24_000_000, 500_000),
    ("138M parameters", 138_000_000, 500_000), ("15.2 M", 15_200_000, 50_000),
    ("~237", 237, Fraction(1, 2)), ("~93MB / image", 93, Fraction(1, 2)),
    ("58.1 MiB", Fraction(581, 10), Fraction(5, 100)),
])
def test_rounded_figures_carry_their_precision(text: str, value: object,
                                               tolerance: object) -> None:
    given = parse_number(text)
    assert given.number == Fraction(value) and given.tolerance == Fraction(tolerance)
    assert not given.exact


def test_rounded_answer_after_exact_working_stands_for_the_working() -> None:
    # cs231n writes "224*224*3=150K": the exact product is the answer
    assert parse_number("224*224*3=150K").integer == 150528
    assert parse_number("56*56*256=800K").integer == 802816
    slip = parse_number("224*224*64=2.2M")  # the figure does not abbreviate the working
    assert slip.number == 2_200_000 and slip.working_value == 3_211_264


def test_matches_uses_the_tolerance() -> None:
    assert parse_number("3.2M").matches(3_211_264)
    assert not parse_number("3.2M").matches(3_260_000)
    assert not parse_number("24M").matches(15_237_608)
    assert parse_number("138M").matches(138_357_544)


@pytest.mark.parametrize(("text", "shape"), [
    ("55x55x96", (55, 55, 96)), ("[224x224x64]", (224, 224, 64)), ("4096", (4096,)),
    ([55, 55, 96], (55, 55, 96)), (1000, (1000,)), ("55 x 55 x 96 (=290,400)", (55, 55, 96)),
])
def test_shapes(text: object, shape: tuple[int, ...]) -> None:
    assert parse_shape(text).shape == shape


def test_squeeze_treats_1x1xN_as_N() -> None:
    assert squeeze((1, 1, 4096)) == (4096,) and squeeze((7, 7, 512)) == (7, 7, 512)


@pytest.mark.parametrize("text", ["abc", "3 4", "(3", "3..2", "", "=5"])
def test_unreadable_numbers_are_located_errors(text: str) -> None:
    where = Location("answers.yaml", 4, 12)
    with pytest.raises(DataError, match="cannot read") as info:
        parse_number(text, where)
    assert info.value.loc == where and "3.2M" in (info.value.hint or "")


def test_division_by_zero_is_an_error() -> None:
    with pytest.raises(DataError, match="divides by zero"):
        parse_number("5/0")


@pytest.mark.parametrize("text", ["55x", "fifty", "0x5x5", True])
def test_bad_shapes(text: object) -> None:
    with pytest.raises(DataError, match="shape"):
        parse_shape(text)


def test_about() -> None:
    assert about(15_237_608) == "15.2 M" and about(781_736) == "781.7 k" and about(12) == "12"
