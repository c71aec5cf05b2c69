"""Downloading MNIST and CIFAR-10 from their canonical mirrors, verified and resumable.

Room: engine (``cnnspec/engine/data``); standard library and :mod:`cnnspec.errors` only
(progress is reported through the :class:`DownloadProgress` protocol; the CLI draws it).

For each file, :func:`fetch_file`:

1. keeps a file already in place when its MD5 matches (a mismatching one is fetched again);
2. downloads into ``NAME.part``; if a ``.part`` exists it asks for the rest with
   ``Range: bytes=<size>-`` and appends (a server answering 200 instead of 206 gets
   the whole file written from the start);
3. checks the MD5 of the whole ``.part``; on a match, fsyncs and renames it over ``NAME``
   (atomic: a reader never sees a half-written file);
4. on a mismatch deletes the ``.part``; if it had been resumed, the old bytes may be
   the corrupt ones, so it downloads once more from zero; a mismatch on a fresh
   download is a ``DataError`` naming the file, both checksums and the URL;
5. on a network failure keeps the ``.part`` (so the next run resumes) and tries the
   next mirror.

The checksums are the published MD5s of the distribution files (the list torchvision
checks for MNIST; the CIFAR-10 page's for its tarball). Tests inject ``mirrors`` and
their own :class:`RemoteDataset` to run against a local HTTP server.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cnnspec.engine.data.extract import extract_tar, is_complete
from cnnspec.engine.data.paths import data_home
from cnnspec.errors import DataError, Location

CHUNK = 1 << 16
USER_AGENT = "cnnspec (python urllib)"


@dataclass(frozen=True)
class RemoteFile:
    """One file of a distribution and its published MD5 (hex)."""

    name: str
    md5: str


@dataclass(frozen=True)
class RemoteDataset:
    """Where a data set is published and what its files must hash to.

    ``mirrors`` are base URLs tried in order (each ends with ``/``); the file URL is
    ``mirror + file.name``. When ``unpack`` is set, the (single) file is a tarball
    holding the folder ``unpack`` with the files ``unpacked_files``.
    """

    name: str
    files: tuple[RemoteFile, ...]
    mirrors: tuple[str, ...]
    unpack: str | None = None
    unpacked_files: tuple[str, ...] = ()


MNIST = RemoteDataset(
    name="mnist",
    files=(
        RemoteFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        RemoteFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        RemoteFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        RemoteFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ),
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
             "http://yann.lecun.com/exdb/mnist/"),
)

CIFAR10 = RemoteDataset(
    name="cifar10",
    files=(RemoteFile("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"),),
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
    unpack="cifar-10-batches-py",
    unpacked_files=("batches.meta", "test_batch", *(f"data_batch_{i}" for i in range(1, 6))),
)

SOURCES: dict[str, RemoteDataset] = {MNIST.name: MNIST, CIFAR10.name: CIFAR10}


class DownloadProgress(Protocol):
    """What a download reports; the CLI implements it with a rich progress bar."""

    def start(self, name: str, total: int | None, completed: int) -> None:
        """A transfer of ``name`` begins; ``total`` bytes (None: unknown), ``completed`` kept."""

    def advance(self, size: int) -> None:
        """``size`` more bytes arrived."""

    def finish(self, name: str, status: str) -> None:
        """``name`` is done: ``cached``, ``downloaded``, ``resumed`` or ``restarted``."""


class SilentProgress:
    """A :class:`DownloadProgress` that reports nothing."""

    def start(self, name: str, total: int | None, completed: int) -> None:
        pass

    def advance(self, size: int) -> None:
        pass

    def finish(self, name: str, status: str) -> None:
        pass


@dataclass(frozen=True)
class DownloadReport:
    """The outcome of :func:`download_dataset`: where the data is, what happened per file."""

    name: str
    folder: Path
    files: tuple[tuple[str, str], ...]

    @property
    def data_spec(self) -> str:
        """The ``--data`` value that loads what was downloaded, e.g. ``mnist:/path``."""
        return f"{self.name}:{self.folder}"


class TransferError(Exception):
    """A network failure (the ``.part`` file, if any, is kept for resuming)."""


def file_md5(path: Path) -> str:
    """The MD5 of the file at ``path``, hex (an integrity check, not a security one)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def part_path(dest: Path) -> Path:
    """Where the bytes of ``dest`` collect while downloading."""
    return dest.with_name(dest.name + ".part")


def _content_range_start(header: str | None) -> int | None:
    """``"bytes 100-199/200"`` -> 100; None when absent or unreadable."""
    match = re.match(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)", header or "")
    return int(match.group(1)) if match else None


def transfer(url: str, part: Path, progress: DownloadProgress, timeout: float) -> str:
    """Bring ``part`` up to the whole file at ``url``; ``"resumed"`` or ``"downloaded"``.

    Raises :class:`TransferError` on HTTP or network failures, after writing what arrived.
    """
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            return "resumed"  # the partial already holds every byte; the checksum decides
        raise TransferError(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise TransferError(str(getattr(exc, "reason", exc))) from None
    with response:
        start = _content_range_start(response.headers.get("Content-Range"))
        if response.status == 206 and start != offset:
            part.unlink(missing_ok=True)
            raise TransferError(f"asked for bytes from {offset:,}, the server sent a range "
                                f"from {start}")
        resumed = bool(offset) and response.status == 206
        if not resumed:
            offset = 0  # the server ignored the Range header and sent the whole file
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        progress.start(part.name.removesuffix(".part"), total, offset)
        received = offset
        try:
            with open(part, "ab" if resumed else "wb") as sink:
                while True:
                    block = response.read(CHUNK)
                    if not block:
                        break
                    sink.write(block)
                    received += len(block)
                    progress.advance(len(block))
        except (OSError, http.client.HTTPException) as exc:
            raise TransferError(f"connection lost after {received:,} bytes ({exc!r})") from None
    if total is not None and received < total:
        raise TransferError(f"connection closed after {received:,} of {total:,} bytes")
    return "resumed" if resumed else "downloaded"


def fetch_file(urls: Sequence[str], dest: Path, md5: str,
               progress: DownloadProgress | None = None, timeout: float = 60.0) -> str:
    """Make ``dest`` hold the file whose MD5 is ``md5``, trying ``urls`` in order.

    Returns ``"cached"`` (already there), ``"downloaded"``, ``"resumed"`` (a ``.part``
    was completed) or ``"restarted"`` (a resumed ``.part`` was corrupt and was fetched
    again from zero). See the module docstring for the steps.
    """
    progress = progress or SilentProgress()
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_file():
        if file_md5(dest) == md5:
            progress.finish(dest.name, "cached")
            return "cached"
        dest.unlink()
    part = part_path(dest)
    failures: list[str] = []
    mismatch: str | None = None
    for url in urls:
        for attempt in range(2):  # a resumed .part that fails the checksum gets one fresh try
            try:
                status = transfer(url, part, progress, timeout)
            except TransferError as exc:
                failures.append(f"{url}: {exc}")
                break
            status = "restarted" if attempt else status
            digest = file_md5(part)
            if digest == md5:
                with open(part, "rb+") as handle:
                    os.fsync(handle.fileno())
                os.replace(part, dest)
                progress.finish(dest.name, status)
                return status
            part.unlink()
            if status != "resumed":
                mismatch = f"got MD5 {digest}, expected {md5} (from {url})"
                failures.append(f"{url}: checksum mismatch")
                break
    where = Location(source=str(dest))
    if mismatch is not None:
        raise DataError(f"checksum mismatch: {mismatch}", where,
                        "the download was deleted; try again later or another mirror (--mirror)")
    kept = f"; {part.name} is kept, run again to resume" if part.exists() else ""
    raise DataError(f"download failed: {'; '.join(failures)}", where,
                    f"check the network connection{kept}")


def download_dataset(source: RemoteDataset | str, root: str | Path | None = None,
                     mirrors: Sequence[str] | None = None,
                     progress: DownloadProgress | None = None, timeout: float = 60.0,
                     force: bool = False) -> DownloadReport:
    """Fetch, verify (and unpack) a data set into ``<root>/<name>``.

    Args:
        source: ``"mnist"``, ``"cifar10"`` or a :class:`RemoteDataset`.
        root: the cache root (see :mod:`cnnspec.engine.data.paths`).
        mirrors: base URLs to use instead of the source's own.
        progress: receives per-file progress; silent when None.
        timeout: seconds to wait on a silent connection.
        force: delete the files (and ``.part`` files) first and fetch everything again.
    """
    if isinstance(source, str):
        if source not in SOURCES:
            raise DataError(f"no download for data set {source!r}",
                            hint=f"downloadable: {', '.join(sorted(SOURCES))}")
        source = SOURCES[source]
    bases = tuple(mirrors) if mirrors else source.mirrors
    bases = tuple(base if base.endswith("/") else base + "/" for base in bases)
    folder = data_home(root) / source.name
    statuses = []
    for remote in source.files:
        dest = folder / remote.name
        if force:
            for stale in (dest, part_path(dest)):
                stale.unlink(missing_ok=True)
        urls = [base + remote.name for base in bases]
        statuses.append((remote.name, fetch_file(urls, dest, remote.md5, progress, timeout)))
    if source.unpack is None:
        return DownloadReport(source.name, folder, tuple(statuses))
    unpacked = folder / source.unpack
    if force or not is_complete(unpacked, source.unpacked_files):
        extract_tar(folder / source.files[0].name, folder, source.unpack, source.unpacked_files)
        statuses.append((source.unpack + "/", "unpacked"))
    else:
        statuses.append((source.unpack + "/", "cached"))
    return DownloadReport(source.name, unpacked, tuple(statuses))
