import pytest

from cnnspec.engine.data.extract import extract_tar, member_path
from cnnspec.errors import DataError, Location

from .helpers import tar_gz

EXPECTED = ("a.bin", "b.bin")


def write_tar(tmp_path, entries, links=None):
    archive = tmp_path / "dl" / "archive.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(tar_gz(entries, links))
    return archive


def test_extracts_into_place(tmp_path):
    archive = write_tar(tmp_path, [("top", None), ("top/a.bin", b"A"), ("top/b.bin", b"BB")])
    target = extract_tar(archive, archive.parent, "top", EXPECTED)
    assert target == archive.parent / "top"
    assert (target / "b.bin").read_bytes() == b"BB"
    assert sorted(p.name for p in archive.parent.iterdir()) == ["archive.tar.gz", "top"]


@pytest.mark.parametrize("evil", ["../escape.bin", "top/../../escape.bin", "/tmp/escape.bin",
                                  "C:\\escape.bin", "top\\..\\..\\escape.bin"])
def test_escaping_members_are_refused_and_nothing_lands(tmp_path, evil):
    archive = write_tar(tmp_path, [("top/a.bin", b"A"), (evil, b"X"), ("top/b.bin", b"B")])
    with pytest.raises(DataError, match=r"absolute path|points outside the folder") as info:
        extract_tar(archive, archive.parent, "top", EXPECTED)
    assert info.value.loc.source == str(archive)
    assert "refusing to extract" in info.value.hint
    assert not (tmp_path / "escape.bin").exists()
    assert sorted(p.name for p in archive.parent.iterdir()) == ["archive.tar.gz"]


def test_links_are_refused(tmp_path):
    archive = write_tar(tmp_path, [("top/a.bin", b"A")], links={"top/b.bin": "/etc/passwd"})
    with pytest.raises(DataError, match=r"'top/b\.bin' is a link or special file"):
        extract_tar(archive, archive.parent, "top", EXPECTED)
    assert not (archive.parent / "top").exists()


def test_incomplete_archive_and_garbage(tmp_path):
    archive = write_tar(tmp_path, [("top/a.bin", b"A")])
    with pytest.raises(DataError, match=r"does not hold top/ with a\.bin, b\.bin"):
        extract_tar(archive, archive.parent, "top", EXPECTED)
    archive.write_bytes(b"not a tarball")
    with pytest.raises(DataError, match="cannot unpack the archive"):
        extract_tar(archive, archive.parent, "top", EXPECTED)
    assert sorted(p.name for p in archive.parent.iterdir()) == ["archive.tar.gz"]


def test_member_path_accepts_ordinary_names():
    assert member_path("cifar-10-batches-py/data_batch_1", Location()).parts == (
        "cifar-10-batches-py", "data_batch_1")
