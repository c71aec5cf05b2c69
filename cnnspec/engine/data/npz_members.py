"""Reading ``.npz`` archives with every size checked before anything is inflated.

Room: engine (``cnnspec/engine/data``); imports NumPy, :mod:`cnnspec.errors` and the
memory check of :mod:`cnnspec.engine.budget`.

An ``.npz`` file is a zip archive of ``.npy`` members. Its sizes can lie twice: a
deflated member of a few megabytes may inflate to gigabytes, and the ``.npy`` header
inside it declares a shape that NumPy allocates before it reads the data. So
:func:`inspect_npz` reads only the zip directory and each member's ``.npy`` header and
checks them against each other:

* the header's ``prod(shape) * itemsize`` must fit in the member's declared
  uncompressed size (``file_size``, which zipfile also enforces while inflating);
* object arrays (which need pickle) are refused.

The caller then compares the declared bytes with the memory available
(:func:`cnnspec.engine.budget.require_memory`) and only then calls
:func:`read_members`.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnspec.errors import DataError, Location

NPY_SUFFIX = ".npy"


@dataclass(frozen=True)
class Member:
    """One array of an archive as its header declares it."""

    name: str  # without ``.npy``, as ``np.load(...).files`` lists it
    shape: tuple[int, ...]
    dtype: np.dtype
    nbytes: int  # prod(shape) * itemsize


def _header(stream: object, where: Location, name: str) -> tuple[tuple[int, ...], np.dtype]:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = reader(stream, max_header_size=10_000)
    except (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise DataError(f"member {name!r} is not a readable .npy array ({exc})", where,
                        "write the file with numpy.savez or numpy.savez_compressed") from None
    return tuple(int(d) for d in shape), np.dtype(dtype)


def inspect_npz(path: Path, where: Location,
                wanted: Callable[[str], bool] | None = None) -> list[Member]:
    """The arrays of archive ``path`` as declared, checked as the module docstring says.

    Only members whose name (without ``.npy``) passes ``wanted`` are opened: an archive
    of many members the reader has no use for costs only its directory.
    """
    members = []
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(NPY_SUFFIX):
                    continue
                name = info.filename[:-len(NPY_SUFFIX)]
                if wanted is not None and not wanted(name):
                    continue
                with archive.open(info) as stream:
                    shape, dtype = _header(stream, where, name)
                if dtype.hasobject:
                    raise DataError(f"cannot read the archive: member {name!r} holds Python "
                                    f"objects (dtype {dtype}), which only pickle can read",
                                    where,
                                    "save plain numeric arrays (uint8, float, int, strings)")
                nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
                if nbytes > info.file_size:
                    raise DataError(f"member {name!r} declares {'x'.join(map(str, shape))} "
                                    f"{dtype} ({nbytes:,} bytes) but holds at most "
                                    f"{info.file_size:,} bytes", where,
                                    "the file is corrupt; write it again with numpy.savez")
                members.append(Member(name, shape, dtype, nbytes))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"not a readable .npz archive ({exc})", where,
                        "write it with numpy.savez or numpy.savez_compressed") from None
    return members


def read_members(path: Path, members: list[Member], where: Location) -> dict[str, np.ndarray]:
    """The arrays of ``members`` (from :func:`inspect_npz`), read without pickle."""
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in members:
                with archive.open(member.name + NPY_SUFFIX) as stream:
                    arrays[member.name] = np.lib.format.read_array(
                        stream, allow_pickle=False, max_header_size=10_000)
    except (ValueError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"not a readable .npz archive ({exc})", where,
                        "write it with numpy.savez or numpy.savez_compressed") from None
    return arrays
