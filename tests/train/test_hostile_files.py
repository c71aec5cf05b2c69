"""Files that lie about their size or content: refused from their headers, before decoding."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cnnspec.cli.main import cli
from cnnspec.engine.budget import ENV_LIMIT, ENV_SKIP
from cnnspec.engine.checkpoint import load_checkpoint
from cnnspec.engine.data.idx import read_idx
from cnnspec.engine.data.npz import load_npz
from cnnspec.engine.train import DataChoice, TrainConfig, train
from cnnspec.errors import DataError, EngineError
from tests.train.conftest import tiny


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_LIMIT, raising=False)
    monkeypatch.delenv(ENV_SKIP, raising=False)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, digits_file: Path) -> Path:
    out = tmp_path_factory.mktemp("runs") / "tiny"
    train(tiny().network, TrainConfig(epochs=1, batch=32, augment=0),
          data=DataChoice(f"npz:{digits_file}"), out_dir=out)
    return out / "best.npz"


def png_declaring(path: Path, width: int, height: int, idat: bytes = b"") -> Path:
    """A PNG whose header declares ``width x height`` grey pixels, with ``idat`` as data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", idat or zlib.compress(b"")) + chunk(b"IEND", b""))
    return path


def invoke(*args: object, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def test_a_tiny_png_declaring_ten_billion_pixels_is_refused(checkpoint: Path,
                                                            tmp_path: Path) -> None:
    image = png_declaring(tmp_path / "bomb.png", 100_000, 100_000)
    assert image.stat().st_size < 100
    for command in (["predict", checkpoint, image],
                    ["feature-maps", checkpoint, image, "-o", tmp_path / "maps.png"]):
        result = invoke(*command)
        assert result.exit_code == 1
        assert result.stderr.strip() == (
            f"{image}: error: the image declares 100000x100000 pixels (10,000,000,000), more "
            "than the 64,000,000 cnnspec decodes; scale the image down first (the network "
            "sees only its input size); or, if it is genuine, pass --no-memory-check")
    assert not (tmp_path / "maps.png").exists()


def test_a_compressed_15000_square_png_is_refused_from_its_header(checkpoint: Path,
                                                                  tmp_path: Path) -> None:
    rows = zlib.compressobj(9)
    data = b"".join(rows.compress(b"\x00" * 15_001) for _ in range(15_000)) + rows.flush()
    image = png_declaring(tmp_path / "flat.png", 15_000, 15_000, data)
    assert image.stat().st_size < 300_000  # 225 million pixels in a few hundred kB
    result = invoke("predict", checkpoint, image)
    assert result.exit_code == 1 and "declares 15000x15000 pixels" in result.stderr


def test_the_pixel_cap_and_memory_apply_to_npy_images(checkpoint: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cnnspec.engine.train.images.MAX_IMAGE_PIXELS", 100)
    image = tmp_path / "big.npy"
    np.save(image, np.zeros((20, 100), np.uint8))
    result = invoke("predict", checkpoint, image)
    assert result.exit_code == 1 and "declares 100x20 pixels (2,000)" in result.stderr
    assert invoke("predict", checkpoint, image, "--no-memory-check").exit_code == 0
    monkeypatch.setattr("cnnspec.engine.train.images.MAX_IMAGE_PIXELS", 10**6)
    result = invoke("predict", checkpoint, image, env={ENV_LIMIT: "10K"})
    # 2,000 pixels * 1 channel * 12 B = 24,000 B (the checkpoint's 6.3 KiB fit)
    assert result.exit_code == 1 and "decoding" in result.stderr \
        and "needs about 23.4 KiB, but only 10.0 KiB" in result.stderr


def test_a_checkpoint_whose_spec_is_not_json(checkpoint: Path, tmp_path: Path) -> None:
    arrays = dict(np.load(checkpoint))
    arrays["meta/spec"] = np.array("{not json")
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(DataError) as info:
        load_checkpoint(bad)
    assert info.value.message.startswith("not a cnnspec checkpoint: meta/spec is not a valid "
                                         "spec (Invalid JSON: key must be a string")
    assert info.value.loc.source == str(bad)
    arrays["meta/spec"] = np.array('{"name": "x", "layers": 5}')
    np.savez(bad, **arrays)
    result = invoke("predict", bad, tmp_path / "any.png")
    assert result.exit_code == 1
    assert "error: not a cnnspec checkpoint: meta/spec is not a valid spec (layers: " \
           in result.stderr and "ValidationError" not in result.stderr
    arrays["meta/spec"] = np.arange(3)
    np.savez(bad, **arrays)
    with pytest.raises(DataError, match="meta/spec is not a text"):
        load_checkpoint(bad)


def test_a_checkpoint_array_larger_than_its_spec_is_refused_unread(checkpoint: Path,
                                                                   tmp_path: Path) -> None:
    arrays = dict(np.load(checkpoint))
    arrays["param/Conv:1.weight"] = np.zeros(10**6, np.uint8)  # the spec has 80 + 730 parameters
    bad = tmp_path / "big.npz"
    np.savez_compressed(bad, **arrays)
    with pytest.raises(DataError, match=r"param/Conv:1\.weight declares 1,000,000 values, but "
                                        r"the embedded spec has 810 parameters in all"):
        load_checkpoint(bad)


def npz_with_lying_header(path: Path, shape: tuple[int, ...], payload: bytes) -> Path:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": shape})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", header.getvalue() + payload)
        labels = io.BytesIO()
        np.save(labels, np.zeros(3, np.int64))
        archive.writestr("y.npy", labels.getvalue())
    return path


def test_a_member_declaring_more_than_it_holds(tmp_path: Path) -> None:
    path = npz_with_lying_header(tmp_path / "liar.npz", (100_000, 100_000), b"\x00" * 64)
    with pytest.raises(DataError, match=r"member 'x' declares 100000x100000 uint8 "
                                        r"\(10,000,000,000 bytes\) but holds at most \d+ bytes"):
        load_npz(path)


def test_an_npz_inflating_past_memory_is_refused_before_inflating(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, x=np.zeros((1000, 32, 32), np.uint8), y=np.zeros(1000, np.int64))
    assert path.stat().st_size < 20_000  # 1 MB of images, deflated
    monkeypatch.setenv(ENV_LIMIT, "1M")
    with pytest.raises(EngineError) as info:
        load_npz(path)
    # arrays 1,024,000 + 8,000 B; float32 images 4,096,000 B
    assert info.value.message == ("reading zeros.npz needs about 4.9 MiB (arrays 1007.8 KiB "
                                  "+ float32 images 3.9 MiB), but only 1.0 MiB of memory is "
                                  "available")
    monkeypatch.setenv(ENV_SKIP, "1")
    assert load_npz(path).x_train.shape[1:] == (1, 32, 32)


def test_a_gzip_idx_inflating_past_memory_is_refused(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as stream:
        stream.write(b"\x00\x00\x08\x03" + struct.pack(">III", 2000, 28, 28))
        stream.write(bytes(2000 * 28 * 28))
    monkeypatch.setenv(ENV_LIMIT, "1M")
    with pytest.raises(EngineError, match=r"reading train-images-idx3-ubyte\.gz \(2000x28x28 "
                                          r"uint8\) needs about 7\.5 MiB"):
        read_idx(path)
    monkeypatch.delenv(ENV_LIMIT)
    assert read_idx(path).shape == (2000, 28, 28)


def test_a_checkpoint_with_more_arrays_than_its_spec_can_have(checkpoint: Path,
                                                              tmp_path: Path) -> None:
    arrays = dict(np.load(checkpoint))
    arrays.update({f"param/extra{i}": np.zeros(1, np.float32) for i in range(100)})
    bad = tmp_path / "many.npz"
    np.savez(bad, **arrays)
    with pytest.raises(DataError) as info:
        load_checkpoint(bad)
    assert info.value.message.startswith("not a cnnspec checkpoint: it holds 1")
    assert "can have at most 68" in info.value.message  # 12 * 5 rows + 8


def test_members_a_data_set_does_not_use_are_not_opened(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from cnnspec.engine.data import npz_members

    path = tmp_path / "extra.npz"
    np.savez(path, x=np.zeros((4, 8, 8), np.uint8), y=np.arange(4) % 2,
             **{f"junk{i}": np.zeros(1) for i in range(50)})
    opened: list[str] = []
    header = npz_members._header
    monkeypatch.setattr(npz_members, "_header",
                        lambda stream, where, name: opened.append(name) or header(stream, where,
                                                                                  name))
    assert load_npz(path).classes == ("0", "1")
    assert sorted(opened) == ["x", "y"]
