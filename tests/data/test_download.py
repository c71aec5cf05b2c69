import hashlib
import socket

import numpy as np
import pytest

from cnnspec.engine.data.cifar import load_cifar10
from cnnspec.engine.data.download import (
    MNIST,
    RemoteDataset,
    RemoteFile,
    download_dataset,
    fetch_file,
)
from cnnspec.engine.data.mnist import load_mnist
from cnnspec.errors import DataError

from .helpers import (
    ServerState,
    cifar_file_bytes,
    make_cifar_batches,
    make_mnist_arrays,
    mnist_file_bytes,
    serve,
    tar_gz,
)


def md5(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()


def mnist_like(files: dict[str, bytes]) -> RemoteDataset:
    """The MNIST source with the checksums of our generated files (no mirrors of its own)."""
    remote = tuple(RemoteFile(name, md5(body)) for name, body in files.items())
    return RemoteDataset("mnist", remote, mirrors=())


class Recorder:
    def __init__(self):
        self.events = []

    def start(self, name, total, completed):
        self.events.append(("start", name, total, completed))

    def advance(self, size):
        pass

    def finish(self, name, status):
        self.events.append(("finish", name, status))


@pytest.fixture
def mnist_files(rng):
    return mnist_file_bytes(make_mnist_arrays(rng, n_train=60, n_test=20))


def test_the_real_checksums_are_the_published_ones():
    assert [f.name for f in MNIST.files] == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert MNIST.files[0].md5 == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    from cnnspec.engine.data.download import CIFAR10

    assert CIFAR10.files[0].md5 == "c58f30108f718f92721af3b95e74349a"


def test_download_verify_then_cached(tmp_path, mnist_files):
    state = ServerState(dict(mnist_files))
    with serve(state) as url:
        report = download_dataset(mnist_like(mnist_files), tmp_path, mirrors=[url])
        assert [status for _, status in report.files] == ["downloaded"] * 4
        assert report.folder == tmp_path / "mnist"
        assert report.data_spec == f"mnist:{tmp_path / 'mnist'}"
        for name, body in mnist_files.items():
            assert (report.folder / name).read_bytes() == body
        assert not list(report.folder.glob("*.part"))
        requests_before = len(state.requests)
        again = download_dataset(mnist_like(mnist_files), tmp_path, mirrors=[url])
        assert [status for _, status in again.files] == ["cached"] * 4
        assert len(state.requests) == requests_before  # nothing fetched the second time
    assert load_mnist(report.folder).x_train.shape == (60, 1, 28, 28)


def test_resume_asks_for_the_rest_with_range(tmp_path, mnist_files):
    name = "train-images-idx3-ubyte.gz"
    body = mnist_files[name]
    dest = tmp_path / name
    (tmp_path / f"{name}.part").write_bytes(body[:1000])
    state = ServerState({name: body})
    progress = Recorder()
    with serve(state) as url:
        status = fetch_file([url + name], dest, md5(body), progress)
    assert status == "resumed"
    assert state.requests == [(f"/files/{name}", "bytes=1000-")]
    assert dest.read_bytes() == body and not (tmp_path / f"{name}.part").exists()
    assert progress.events == [("start", name, len(body), 1000), ("finish", name, "resumed")]


def test_corrupt_partial_is_deleted_and_fetched_again(tmp_path, mnist_files):
    name = "t10k-images-idx3-ubyte.gz"
    body = mnist_files[name]
    (tmp_path / f"{name}.part").write_bytes(b"\xff" * 500)  # wrong bytes
    state = ServerState({name: body})
    with serve(state) as url:
        status = fetch_file([url + name], tmp_path / name, md5(body))
    assert status == "restarted"
    assert [asked for _, asked in state.requests] == ["bytes=500-", None]
    assert (tmp_path / name).read_bytes() == body


def test_checksum_mismatch_is_an_error_and_leaves_nothing(tmp_path, mnist_files):
    name = "train-labels-idx1-ubyte.gz"
    state = ServerState({name: b"this is not the file you are looking for"})
    expected = md5(mnist_files[name])
    with serve(state) as url, pytest.raises(DataError) as info:
        fetch_file([url + name], tmp_path / name, expected)
    err = info.value
    assert err.message.startswith("checksum mismatch: got MD5 ")
    assert f"expected {expected}" in err.message and url + name in err.message
    assert err.loc.source == str(tmp_path / name)
    assert not (tmp_path / name).exists() and not (tmp_path / f"{name}.part").exists()


def test_dropped_connection_keeps_the_partial_for_the_next_run(tmp_path, mnist_files):
    name = "train-images-idx3-ubyte.gz"
    body = mnist_files[name]
    state = ServerState({name: body}, cut_after={name: 700})
    with serve(state) as url:
        with pytest.raises(DataError, match="download failed") as info:
            fetch_file([url + name], tmp_path / name, md5(body), timeout=5)
        assert f"{name}.part is kept, run again to resume" in info.value.hint
        assert (tmp_path / f"{name}.part").stat().st_size == 700
        assert fetch_file([url + name], tmp_path / name, md5(body)) == "resumed"
    assert state.requests[-1][1] == "bytes=700-"
    assert (tmp_path / name).read_bytes() == body


def test_server_without_range_support_sends_everything_again(tmp_path, mnist_files):
    name = "t10k-labels-idx1-ubyte.gz"
    body = mnist_files[name]
    (tmp_path / f"{name}.part").write_bytes(body[:10])
    with serve(ServerState({name: body}, ignore_range=True)) as url:
        assert fetch_file([url + name], tmp_path / name, md5(body)) == "downloaded"
    assert (tmp_path / name).read_bytes() == body


def test_complete_partial_gets_416_and_is_verified(tmp_path, mnist_files):
    name = "t10k-labels-idx1-ubyte.gz"
    body = mnist_files[name]
    (tmp_path / f"{name}.part").write_bytes(body)  # finished, but never renamed
    state = ServerState({name: body})
    with serve(state) as url:
        assert fetch_file([url + name], tmp_path / name, md5(body)) == "resumed"
    assert state.requests == [(f"/files/{name}", f"bytes={len(body)}-")]
    assert (tmp_path / name).read_bytes() == body


def test_next_mirror_after_a_404_and_corrupt_file_replaced(tmp_path, mnist_files):
    name = "train-labels-idx1-ubyte.gz"
    body = mnist_files[name]
    (tmp_path / name).write_bytes(b"corrupt final file")
    with serve(ServerState({})) as empty, serve(ServerState({name: body})) as good:
        assert fetch_file([empty + name, good + name], tmp_path / name, md5(body)) == "downloaded"
    assert (tmp_path / name).read_bytes() == body


def test_unreachable_mirror(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DataError, match=rf"download failed: http://127.0.0.1:{port}/f: ") as info:
        fetch_file([f"http://127.0.0.1:{port}/f"], tmp_path / "f", "0" * 32, timeout=5)
    assert "check the network connection" in info.value.hint


def test_force_fetches_again(tmp_path, mnist_files):
    state = ServerState(dict(mnist_files))
    with serve(state) as url:
        download_dataset(mnist_like(mnist_files), tmp_path, mirrors=[url.rstrip("/")])
        report = download_dataset(mnist_like(mnist_files), tmp_path, mirrors=[url], force=True)
    assert [status for _, status in report.files] == ["downloaded"] * 4
    assert len(state.requests) == 8


def test_unknown_dataset_name(tmp_path):
    with pytest.raises(DataError, match="no download for data set 'imagenet'") as info:
        download_dataset("imagenet", tmp_path)
    assert info.value.hint == "downloadable: cifar10, mnist"


def test_cifar_tarball_is_fetched_unpacked_and_loadable(tmp_path, rng):
    batches = make_cifar_batches(rng, per_batch=3)
    entries = [("cifar-10-batches-py", None)] + [
        (f"cifar-10-batches-py/{name}", body) for name, body in cifar_file_bytes(batches).items()]
    tarball = tar_gz(entries)
    source = RemoteDataset(
        "cifar10", (RemoteFile("cifar-10-python.tar.gz", md5(tarball)),), mirrors=(),
        unpack="cifar-10-batches-py",
        unpacked_files=("batches.meta", "test_batch", *(f"data_batch_{i}" for i in range(1, 6))))
    with serve(ServerState({"cifar-10-python.tar.gz": tarball})) as url:
        report = download_dataset(source, tmp_path, mirrors=[url])
        assert report.files == (("cifar-10-python.tar.gz", "downloaded"),
                                ("cifar-10-batches-py/", "unpacked"))
        assert report.folder == tmp_path / "cifar10" / "cifar-10-batches-py"
        again = download_dataset(source, tmp_path, mirrors=[url])
        assert again.files == (("cifar-10-python.tar.gz", "cached"),
                               ("cifar-10-batches-py/", "cached"))
    ds = load_cifar10(report.folder)
    assert ds.x_train.shape == (15, 3, 32, 32)
    np.testing.assert_array_equal(ds.y_test, batches["test_batch"][1])
    assert sorted(p.name for p in (tmp_path / "cifar10").iterdir()) == [
        "cifar-10-batches-py", "cifar-10-python.tar.gz"]  # no scratch folders left
