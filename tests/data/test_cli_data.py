import hashlib
import json

import numpy as np
import pytest
from click.testing import CliRunner

from cnnspec.cli.main import cli
from cnnspec.engine.data import download as download_module
from cnnspec.engine.data.download import RemoteDataset, RemoteFile

from .helpers import ServerState, make_mnist_arrays, mnist_file_bytes, serve, write_files


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result


def test_info_digits_table_and_json():
    pytest.importorskip("sklearn")
    result = run("data", "info")
    assert result.exit_code == 0
    assert "data set: digits (scikit-learn load_digits)" in result.stdout
    assert "8x8x1 (H x W x C)" in result.stdout and "1,437" in result.stdout
    info = json.loads(run("data", "info", "digits", "--input", "32x32x1", "-f", "json").stdout)
    assert info["image_shape"] == [32, 32, 1] and info["train"] == 1437 and info["test"] == 360
    assert sum(info["test_per_class"]) == 360
    csv_rows = run("data", "info", "-f", "csv").stdout.splitlines()
    assert csv_rows[0] == "label,class,train,test" and len(csv_rows) == 11


def test_info_npz_to_file_and_markdown(tmp_path):
    path = tmp_path / "set.npz"
    np.savez(path, x=np.zeros((10, 4, 4), np.uint8), y=np.arange(10) % 2,
             classes=np.array(["cat", "dog"]))
    out = tmp_path / "info.md"
    result = run("data", "info", str(path), "-f", "md", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    text = out.read_text()
    assert "| 1 | dog | 4 | 1 |" in text and "- data set: set" in text


def test_info_shape_mismatch_is_one_line_and_exit_1(tmp_path):
    pytest.importorskip("sklearn")
    result = run("data", "info", "digits", "--input", "32x32x3")
    assert result.exit_code == 1 and result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line
    assert "network's input is 32x32x3 (colour); pass --resize" in line
    fitted = run("data", "info", "digits", "--input", "32x32x3", "--resize", "-f", "json")
    assert json.loads(fitted.stdout)["image_shape"] == [32, 32, 3]


def test_info_errors_for_bad_files(tmp_path, rng):
    files = mnist_file_bytes(make_mnist_arrays(rng), gz=False)
    files["train-images-idx3-ubyte"] = b"\x00\x00\x08\x03\x00"
    bad = write_files(tmp_path / "images", files)
    result = run("data", "info", f"mnist:{bad}")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{bad / 'train-images-idx3-ubyte'}: error: header promises 3")
    assert run("data", "info", "imagenet").stderr.startswith("--data: error: unknown data set")


@pytest.fixture
def local_mnist(rng, monkeypatch):
    files = mnist_file_bytes(make_mnist_arrays(rng, n_train=12, n_test=6))
    source = RemoteDataset("mnist", tuple(RemoteFile(n, hashlib.md5(b).hexdigest())
                                          for n, b in files.items()), mirrors=())
    monkeypatch.setitem(download_module.SOURCES, "mnist", source)
    return files


def test_download_prints_the_data_spec_and_status(tmp_path, local_mnist):
    with serve(ServerState(dict(local_mnist))) as url:
        quiet = run("data", "download", "mnist", "--dir", str(tmp_path), "--mirror", url, "-q")
        loud = run("data", "download", "mnist", "--dir", str(tmp_path), "--mirror", url)
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert quiet.stdout == f"mnist:{tmp_path / 'mnist'}\n"
    assert loud.stdout == quiet.stdout
    assert "train-images-idx3-ubyte.gz: cached" in loud.stderr
    assert f"mnist: ready in {tmp_path / 'mnist'}" in loud.stderr
    info = json.loads(run("data", "info", quiet.stdout.strip(), "-f", "json").stdout)
    assert info["train"] == 12 and info["image_shape"] == [28, 28, 1]


def test_download_default_dir_is_the_env_cache(isolated_cache, local_mnist):
    with serve(ServerState(dict(local_mnist))) as url:
        result = run("data", "download", "mnist", "--mirror", url, "-q")
    assert result.stdout == f"mnist:{isolated_cache / 'mnist'}\n"
    assert run("data", "info", "mnist", "-f", "json").exit_code == 0


def test_download_checksum_mismatch_exits_1_with_one_line(tmp_path, local_mnist):
    served = dict(local_mnist)
    served["t10k-images-idx3-ubyte.gz"] = b"tampered"
    with serve(ServerState(served)) as url:
        result = run("data", "download", "mnist", "--dir", str(tmp_path), "--mirror", url, "-q")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"{tmp_path / 'mnist' / 't10k-images-idx3-ubyte.gz'}: error: checksum mismatch")
    assert not (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz.part").exists()


def test_download_rejects_unknown_names():
    result = run("data", "download", "imagenet")
    assert result.exit_code == 2 and "imagenet" in result.stderr


def test_progress_bar_draws_on_a_terminal(tmp_path, local_mnist):
    import io

    from rich.console import Console

    from cnnspec.cli.data import RichDownloadProgress
    from cnnspec.engine.data.download import download_dataset

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with serve(ServerState(dict(local_mnist))) as url, RichDownloadProgress(console) as progress:
        download_dataset("mnist", tmp_path, [url], progress)
    drawn = buffer.getvalue()
    assert "━" in drawn  # the bar was drawn
    assert "train-images-idx3-ubyte.gz: downloaded\n" in drawn
