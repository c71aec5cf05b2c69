"""Unpacking a downloaded tarball without letting it write outside its folder.

Room: engine (``cnnspec/engine/data``); standard library and :mod:`cnnspec.errors` only.

Members are read one by one and written by this code (``TarFile.extract`` is never
called). A member is refused -- and nothing is moved into place -- when its name is
absolute (``/etc/x``, ``C:\\x``), contains a ``..`` component, or when it is anything
but a regular file or a folder (links, devices, FIFOs).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath

from cnnspec.errors import DataError, Location


def member_path(name: str, where: Location) -> PurePosixPath:
    """The relative path of a tar member; a ``DataError`` if it could escape the folder."""
    posix = PurePosixPath(name)
    windows = PureWindowsPath(name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or name.startswith("\\"):
        raise DataError(f"archive member {name!r} has an absolute path", where,
                        "refusing to extract it; the archive is not the official one")
    if ".." in posix.parts or ".." in windows.parts:
        raise DataError(f"archive member {name!r} points outside the folder ('..')", where,
                        "refusing to extract it; the archive is not the official one")
    return posix


def is_complete(folder: Path, expected: Iterable[str]) -> bool:
    """True when ``folder`` holds every file named in ``expected``."""
    return folder.is_dir() and all((folder / name).is_file() for name in expected)


def extract_tar(archive: Path, dest: Path, top: str, expected: Iterable[str]) -> Path:
    """Extract ``archive`` so that ``dest/top`` appears whole, or not at all.

    The members go into a temporary folder inside ``dest``; only when every member
    passed the checks and ``top/`` holds every file in ``expected`` is ``top/``
    renamed into place (replacing an incomplete earlier extraction). Returns ``dest/top``.
    """
    where = Location(source=str(archive))
    expected = tuple(expected)
    target = dest / top
    scratch = Path(tempfile.mkdtemp(prefix=f".{top}.", dir=dest))
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                relative = member_path(member.name, where)
                out = scratch.joinpath(*relative.parts)
                if member.isdir():
                    out.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    out.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    if source is None:  # pragma: no cover - isfile() members always have data
                        continue
                    with source, open(out, "wb") as sink:
                        shutil.copyfileobj(source, sink)
                else:
                    raise DataError(f"archive member {member.name!r} is a link or special file",
                                    where, "only regular files and folders are extracted")
        unpacked = scratch / top
        if not is_complete(unpacked, expected):
            raise DataError(f"the archive does not hold {top}/ with {', '.join(expected)}", where,
                            "delete it and download it again")
        if target.exists():
            shutil.rmtree(target)
        os.replace(unpacked, target)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataError(f"cannot unpack the archive ({exc})", where,
                        "delete it and download it again") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
