"""Reading matrices from text files, CSV and inline strings."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnspec.errors import DataError
from cnnspec.homework.matrices import read_matrix


def test_inline_rows_and_channels() -> None:
    one = read_matrix("1 1 0; 0 1 1")
    assert one.data == [[[1, 1, 0], [0, 1, 1]]] and one.depth == 1
    colour = read_matrix("1 2; 3 4 | 5 6; 7 8 | 0 0; 0 1")
    assert colour.depth == 3 and colour.data[1] == [[5, 6], [7, 8]]


def test_text_file_with_commas_comments_and_channels(tmp_path: Path) -> None:
    path = tmp_path / "rgb.txt"
    path.write_text("# R\n1, 2\n3, 4\n\n# G\n5 6\n7 8\n\n# B\n0 0\n0 1\n")
    image = read_matrix(str(path))
    assert image.depth == 3 and image.names == ["R", "G", "B"]
    assert image.data[2] == [[0, 0], [0, 1]]


def test_csv_file(tmp_path: Path) -> None:
    path = tmp_path / "k.csv"
    path.write_text("1,0,1\n0,1,0\n1,0,1\n")
    assert read_matrix(str(path)).data == [[[1, 0, 1], [0, 1, 0], [1, 0, 1]]]


def test_ragged_row_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("1 2 3\n4 5 6\n7 8\n")
    with pytest.raises(DataError, match="row 3 of the image has 2 numbers, but row 1 has 3"
                       ) as info:
        read_matrix(str(path), "image")
    assert info.value.loc.line == 3 and info.value.loc.source == str(path)


def test_non_number_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("1 2 3\n4 five 6\n")
    with pytest.raises(DataError, match="'five' in the kernel is not a number") as info:
        read_matrix(str(path), "kernel")
    assert (info.value.loc.line, info.value.loc.column) == (2, 3)


def test_inline_error_column_points_at_the_value() -> None:
    with pytest.raises(DataError, match="'x'") as info:
        read_matrix("1 2; 3 x")
    assert info.value.loc.column == 8
    assert info.value.render().splitlines()[-1].index("^") == 2 + 7


def test_channels_of_different_sizes() -> None:
    with pytest.raises(DataError, match="channel 2 of the image is 1x2, but channel 1 is 2x2"):
        read_matrix("1 2; 3 4 | 5 6", "image")


def test_missing_file_and_nan() -> None:
    with pytest.raises(DataError, match="no such file"):
        read_matrix("nothere.txt")
    with pytest.raises(DataError, match="'nan'"):
        read_matrix("1 nan; 2 3")
