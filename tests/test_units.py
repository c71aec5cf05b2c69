"""One way to write counts and bytes for people."""

from __future__ import annotations

import pytest

from cnnspec.units import SI, exact_bytes, exact_count, human_bytes, human_count


@pytest.mark.parametrize(("n", "text"), [
    (0, "0"), (999, "999"), (1_000, "1.000 k"), (362_496, "362.5 k"), (999_960, "1.000 M"),
    (62_369_152, "62.37 M"), (714_188_480, "714.2 M"), (4_089_184_256, "4.089 G"),
    (11_513_626_624, "11.51 G"), (-2_500, "-2.500 k"), (3 * 10**15, "3000.0 T"),
])
def test_counts_take_a_metric_prefix_by_magnitude(n: int, text: str) -> None:
    assert human_count(n) == text


def test_a_small_count_is_never_shown_as_zero_giga() -> None:
    assert exact_count(362_496) == "362,496 (362.5 k)"
    assert exact_count(416_520) == "416,520 (416.5 k)"
    assert exact_count(42) == "42"


@pytest.mark.parametrize(("n", "binary", "si"), [
    (512, "512 B", "512 B"), (1_024, "1.0 KiB", "1.0 kB"), (2**20 - 1, "1.0 MiB", "1.0 MB"),
    (249_476_608, "237.9 MiB", "249.5 MB"), (3_126_944, "3.0 MiB", "3.1 MB"),
    (10**13, "9.1 TiB", "10.0 TB"),
])
def test_bytes_in_binary_or_si_units(n: int, binary: str, si: str) -> None:
    assert human_bytes(n) == binary
    assert human_bytes(n, SI) == si


def test_exact_bytes() -> None:
    assert exact_bytes(249_476_608) == "249,476,608 bytes (237.9 MiB)"
    assert exact_bytes(249_476_608, SI) == "249,476,608 bytes (249.5 MB)"
    assert exact_bytes(100) == "100 bytes"
