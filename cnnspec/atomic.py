"""Atomic file writes: a reader never sees a half-written file.

Shared by every room; imports nothing from cnnspec.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was. An
    ``OSError`` (read-only folder, full disk) names ``path``, not the temporary file.
    """
    target = Path(path)
    with _naming(target):  # mkstemp names the temporary file
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or ".tmp",
                                   dir=target.parent)
        os.close(fd)
    tmp_path = Path(tmp)
    try:
        with _naming(target):
            yield tmp_path
            with open(tmp_path, "rb+") as handle:
                os.fsync(handle.fileno())
            os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
            os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextmanager
def _naming(target: Path, tmp: Path | None = None) -> Iterator[None]:
    """Re-raise an OSError about the temporary file (or no file) as one about ``target``."""
    try:
        yield
    except OSError as exc:
        name = exc.filename
        if exc.errno is not None and (name is None or Path(name).name.startswith(
                f".{target.name}.")):
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_with(path: str | Path, writer: Callable[[IO[bytes]], None], suffix: str = "") -> None:
    """Call ``writer(binary_file)`` on a temporary file, then move it over ``path``."""
    with atomic_path(path, suffix) as tmp, open(tmp, "wb") as handle:
        writer(handle)
