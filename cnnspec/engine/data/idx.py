"""Reading IDX files, the format of the MNIST distribution (gzipped or not).

Room: engine (``cnnspec/engine/data``); imports NumPy, :mod:`cnnspec.errors` and the
memory check of :mod:`cnnspec.engine.budget`.

Layout (all integers big-endian)::

    offset 0   2 zero bytes
    offset 2   type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    offset 3   number of dimensions d
    offset 4   d dimension sizes, 4 bytes each
    offset 4+4d  prod(sizes) items, row-major

so the first four bytes read as one number give the "magic number": 0x00000803 for
MNIST images (uint8, 3-D: N x 28 x 28) and 0x00000801 for labels (uint8, 1-D: N).
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from cnnspec.engine.budget import require_memory
from cnnspec.errors import DataError, Location

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
GZIP_MAGIC = b"\x1f\x8b"
READ_CHUNK = 1 << 24  # 16 MiB: a corrupt header cannot make us allocate its claimed size


def read_idx(path: str | Path, expected_magic: int | None = None) -> np.ndarray:
    """The array stored in the IDX file ``path`` (native byte order).

    Gzip is detected from the file's first bytes, not its name. Raises ``DataError``
    naming the file (and the byte offset, counted after decompression for ``.gz``)
    when the file is missing, not gzip-clean, has a bad magic number, is shorter than
    its header says, or has bytes after the last item.
    """
    path = Path(path)
    where = Location(source=str(path))
    if not path.is_file():
        raise DataError("file not found", where, "check the path, or run `cnnspec data download`")
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
    opener = gzip.open if gzipped else open
    try:
        with opener(path, "rb") as stream:
            return _read_idx_stream(stream, where, expected_magic, gzipped,
                                    None if gzipped else path.stat().st_size)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        if not gzipped:
            raise DataError(f"cannot read the file ({exc})", where) from None
        raise DataError(f"corrupt or truncated gzip data ({exc})", where,
                        "download the file again") from None


def _read_idx_stream(stream: BinaryIO, where: Location, expected_magic: int | None,
                     gzipped: bool, file_size: int | None = None) -> np.ndarray:
    after = " (after decompression)" if gzipped else ""
    redownload = "the file is cut short; download it again"
    header = stream.read(4)
    if len(header) < 4:
        raise DataError(f"file is {len(header)} bytes long{after}, too short for an IDX header",
                        where, redownload)
    magic = int.from_bytes(header, "big")
    if header[:2] != b"\x00\x00" or header[2] not in IDX_TYPES or header[3] == 0:
        raise DataError(f"bad magic number 0x{magic:08X} at offset 0: not an IDX file", where,
                        "MNIST files start with 0x00000803 (images) or 0x00000801 (labels)")
    if expected_magic is not None and magic != expected_magic:
        what = {IMAGES_MAGIC: "an image file", LABELS_MAGIC: "a label file"}
        raise DataError(f"magic number 0x{magic:08X}, expected 0x{expected_magic:08X} "
                        f"({what.get(expected_magic, 'IDX')})", where,
                        "check that the images and labels files are not swapped")
    dtype, ndim = IDX_TYPES[header[2]], header[3]
    dim_bytes = stream.read(4 * ndim)
    if len(dim_bytes) < 4 * ndim:
        raise DataError(f"header promises {ndim} dimension sizes but the file ends at "
                        f"offset {4 + len(dim_bytes)}{after}", where, redownload)
    shape = tuple(int(d) for d in np.frombuffer(dim_bytes, dtype=">u4"))
    count_bytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow on bad headers
    data_offset = 4 + 4 * ndim
    dims = "x".join(map(str, shape))
    if file_size is not None and data_offset + count_bytes > file_size:  # known without reading
        raise DataError(f"truncated: the header ({dims} {dtype.name}) needs {count_bytes:,} "
                        f"data bytes from offset {data_offset}, but the file ends at offset "
                        f"{file_size:,}", where, redownload)
    # the header's sizes are checked before anything is read: a small gzip file can
    # inflate to gigabytes, and image files become float32 copies (4 bytes a pixel)
    images = math.prod(shape) * 4 if ndim >= 3 else 0
    require_memory({"file data": count_bytes, "float32 images": images},
                   f"reading {Path(where.source).name} ({dims} {dtype.name})",
                   "use a smaller data set", source=where.source)
    buffer = bytearray(count_bytes)
    view = memoryview(buffer)
    have = 0
    while have < count_bytes:  # at most the declared bytes, in chunks
        got = stream.readinto(view[have:min(have + READ_CHUNK, count_bytes)])
        if not got:
            break
        have += got
    if have < count_bytes:
        raise DataError(f"truncated: the header ({dims} {dtype.name}) needs {count_bytes:,} "
                        f"data bytes from offset {data_offset}, but the file ends at offset "
                        f"{data_offset + have:,}{after}", where, redownload)
    if stream.read(1):
        raise DataError(f"unexpected bytes after offset {data_offset + count_bytes:,}{after}: "
                        f"the header ({dims}) accounts for less data than the file holds",
                        where, "this is not a valid IDX file; download it again")
    flat = np.frombuffer(buffer, dtype=dtype)
    return flat.reshape(shape).astype(dtype.newbyteorder("="), copy=False)
