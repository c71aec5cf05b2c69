import gzip

import numpy as np
import pytest

from cnnspec.engine.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from cnnspec.errors import DataError

from .helpers import idx_bytes


@pytest.mark.parametrize("gz", [False, True])
def test_reads_uint8_images_plain_and_gzipped(tmp_path, rng, gz):
    images = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    raw = idx_bytes(images)
    assert raw[:4] == b"\x00\x00\x08\x03"  # the MNIST image magic 0x00000803
    path = tmp_path / ("images.gz" if gz else "images")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    out = read_idx(path, IMAGES_MAGIC)
    assert out.dtype == np.uint8 and out.shape == (7, 28, 28)
    np.testing.assert_array_equal(out, images)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = tmp_path / "labels-no-gz-suffix"
    path.write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx(path, LABELS_MAGIC), labels)


def test_big_endian_wider_types_come_back_native(tmp_path):
    values = np.array([[1, -2, 70000], [2**30, 0, -(2**31)]], dtype=np.int32)
    path = tmp_path / "ints.idx"
    path.write_bytes(idx_bytes(values))
    assert path.read_bytes()[:4] == b"\x00\x00\x0c\x02"
    out = read_idx(path)
    assert out.dtype == np.dtype(np.int32) and out.dtype.isnative
    np.testing.assert_array_equal(out, values)


def test_swapped_files_name_both_magic_numbers(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.zeros(3, dtype=np.uint8)))
    with pytest.raises(DataError, match=r"0x00000801, expected 0x00000803") as info:
        read_idx(path, IMAGES_MAGIC)
    assert info.value.loc.source == str(path)
    assert "swapped" in info.value.hint


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello, world\n")
    with pytest.raises(DataError, match=r"bad magic number 0x68656C6C at offset 0"):
        read_idx(path)


def test_truncated_plain_file_names_sizes_and_offsets(tmp_path, rng):
    raw = idx_bytes(rng.integers(0, 256, (10, 28, 28), dtype=np.uint8))
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(raw[:5000])
    with pytest.raises(DataError) as info:
        read_idx(path, IMAGES_MAGIC)
    err = info.value
    # header 16 bytes; 10*28*28 = 7,840 data bytes needed; the file stops at 5,000
    assert "truncated" in err.message
    assert "10x28x28" in err.message and "7,840" in err.message
    assert "offset 16" in err.message and "offset 5,000" in err.message
    assert err.loc.source == str(path)
    assert "download it again" in err.hint


def test_truncated_inside_gzip_stream(tmp_path, rng):
    compressed = gzip.compress(idx_bytes(rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(DataError, match="corrupt or truncated gzip") as info:
        read_idx(path, IMAGES_MAGIC)
    assert info.value.loc.source == str(path)


def test_gzip_of_a_short_file_reports_offsets_after_decompression(tmp_path):
    raw = idx_bytes(np.arange(100, dtype=np.uint8))
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(raw[:50]))
    with pytest.raises(DataError, match=r"ends at offset 50 \(after decompression\)"):
        read_idx(path, LABELS_MAGIC)


def test_header_cut_inside_the_dimensions(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"\x00\x00\x08\x03" + b"\x00\x00\x00\x0a")
    with pytest.raises(DataError, match="promises 3 dimension sizes but the file ends at offset 8"):
        read_idx(path)


def test_extra_bytes_after_the_data(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.arange(4, dtype=np.uint8)) + b"\x00")
    with pytest.raises(DataError, match="unexpected bytes after offset 12"):
        read_idx(path)


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="0 bytes long, too short for an IDX header"):
        read_idx(empty)
    with pytest.raises(DataError, match="file not found"):
        read_idx(tmp_path / "absent")


def test_huge_claimed_size_does_not_allocate_it(tmp_path):
    # header claims 2^32-1 x 2^32-1 x 1 items: the reader must fail on the short file,
    # not try to allocate the claimed size
    path = tmp_path / "liar"
    path.write_bytes(b"\x00\x00\x08\x03" + b"\xff\xff\xff\xff" * 2 + b"\x00\x00\x00\x01" + b"ab")
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)
