"""Builders for small, real-format data files, and a local HTTP server with Range support."""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
             np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array``: 0, 0, type code, ndim, big-endian sizes, big-endian data."""
    header = bytes([0, 0, IDX_CODES[array.dtype], array.ndim])
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def make_mnist_arrays(rng: np.random.Generator, n_train: int = 40, n_test: int = 20,
                      size: int = 28) -> dict[str, np.ndarray]:
    """Random uint8 images and labels 0..9 under the four MNIST file stems."""
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, size, size), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def mnist_file_bytes(arrays: dict[str, np.ndarray], gz: bool = True) -> dict[str, bytes]:
    """File name -> content for the MNIST arrays (gzipped with ``.gz`` names by default)."""
    out = {}
    for stem, array in arrays.items():
        raw = idx_bytes(array)
        # mtime=0: the same arrays always give the same bytes (and MD5)
        out[f"{stem}.gz" if gz else stem] = gzip.compress(raw, mtime=0) if gz else raw
    return out


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


# --- CIFAR-10 batches, written opcode by opcode the way Python 2's cPickle wrote them -----

def _short_str(text: bytes) -> bytes:
    """SHORT_BINSTRING (a Python 2 ``str`` of < 256 bytes)."""
    return b"U" + bytes([len(text)]) + text


def _int(value: int) -> bytes:
    if 0 <= value < 256:
        return b"K" + bytes([value])  # BININT1
    if 0 <= value < 65536:
        return b"M" + struct.pack("<H", value)  # BININT2
    return b"J" + struct.pack("<i", value)  # BININT


def py2_array_pickle(array: np.ndarray, module: bytes = b"numpy.core.multiarray") -> bytes:
    """The protocol-2 opcodes Python 2 NumPy emitted for a uint8 array (no PROTO/STOP)."""
    assert array.dtype == np.uint8
    raw = array.tobytes()
    shape = b"(" + b"".join(_int(d) for d in array.shape) + b"t"
    dtype = (b"cnumpy\ndtype\n" + _short_str(b"u1") + _int(0) + _int(1) + b"\x87R"
             + b"(" + _int(3) + _short_str(b"|") + b"NNN" + _int(-1) + _int(-1) + _int(0)
             + b"tb")
    return (b"c" + module + b"\n_reconstruct\n" + b"cnumpy\nndarray\n" + _int(0) + b"\x85"
            + _short_str(b"b") + b"\x87R"
            + b"(" + _int(1) + shape + dtype + b"\x89" + b"T" + struct.pack("<I", len(raw)) + raw
            + b"tb")


def py2_batch_pickle(data: np.ndarray, labels: list[int], batch_label: bytes = b"batch",
                     module: bytes = b"numpy.core.multiarray") -> bytes:
    """A whole CIFAR-10 batch dict as Python 2 pickled it (protocol 2, str keys)."""
    label_ops = b"]" + (b"(" + b"".join(_int(v) for v in labels) + b"e" if labels else b"")
    names = b"](" + b"".join(_short_str(f"img_{i}.png".encode()) for i in range(len(labels))) \
        + b"e"
    return (b"\x80\x02}(" + _short_str(b"batch_label") + _short_str(batch_label)
            + _short_str(b"labels") + label_ops
            + _short_str(b"data") + py2_array_pickle(data, module)
            + _short_str(b"filenames") + names + b"u.")


def py2_meta_pickle(names: list[str]) -> bytes:
    items = b"".join(_short_str(n.encode()) for n in names)
    return (b"\x80\x02}(" + _short_str(b"label_names") + b"](" + items + b"e"
            + _short_str(b"num_cases_per_batch") + _int(10) + b"u.")


CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck"]


def make_cifar_batches(rng: np.random.Generator, per_batch: int = 10) -> dict[str, tuple]:
    """Batch name -> (uint8 (n, 3072) data, labels list) for the six CIFAR-10 batches."""
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return {name: (rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                   rng.integers(0, 10, per_batch).tolist()) for name in names}


def cifar_file_bytes(batches: dict[str, tuple]) -> dict[str, bytes]:
    files = {name: py2_batch_pickle(data, labels) for name, (data, labels) in batches.items()}
    files["batches.meta"] = py2_meta_pickle(CIFAR_NAMES)
    return files


def tar_gz(entries: list[tuple[str, bytes | None]], links: dict[str, str] | None = None) -> bytes:
    """A .tar.gz of ``(name, content)`` (``None`` content: a folder) plus symlinks."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if content is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()


# --- a local HTTP server ------------------------------------------------------------------

@dataclass
class ServerState:
    """What the server serves and how; ``requests`` logs ``(path, Range header)``."""

    files: dict[str, bytes]
    ignore_range: bool = False
    cut_after: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)


def _handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1]
            asked = self.headers.get("Range")
            state.requests.append((self.path, asked))
            body = state.files.get(name)
            if body is None:
                self.send_error(404)
                return
            start = 0
            if asked and not state.ignore_range:
                start = int(asked.removeprefix("bytes=").split("-")[0])
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            payload = body[start:]
            if name in state.cut_after:
                # promise the whole length, send part of it, then drop the connection
                payload = payload[:state.cut_after.pop(name)]
            self.wfile.write(payload)

    return Handler


@contextmanager
def serve(state: ServerState) -> Iterator[str]:
    """Serve ``state.files`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/files/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
