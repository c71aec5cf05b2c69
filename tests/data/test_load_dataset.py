import numpy as np
import pytest

from cnnspec.engine.data import DataSpec, load_dataset, parse_data_spec
from cnnspec.engine.data.paths import data_home
from cnnspec.errors import DataError

from .helpers import (
    cifar_file_bytes,
    make_cifar_batches,
    make_mnist_arrays,
    mnist_file_bytes,
    write_files,
)


@pytest.mark.parametrize("text, expected", [
    ("", DataSpec("digits")),
    ("digits", DataSpec("digits")),
    ("mnist", DataSpec("mnist")),
    ("MNIST:~/data/mnist", DataSpec("mnist", "~/data/mnist")),
    ("cifar10:/d/cifar-10-batches-py", DataSpec("cifar10", "/d/cifar-10-batches-py")),
    ("npz:runs/x.npz", DataSpec("npz", "runs/x.npz")),
    ("my data/set.NPZ", DataSpec("npz", "my data/set.NPZ")),
    ("C:/data/set.npz", DataSpec("npz", "C:/data/set.npz")),
])
def test_parse_data_spec(text, expected):
    assert parse_data_spec(text) == expected


@pytest.mark.parametrize("text, message", [
    ("imagenet", "unknown data set 'imagenet'"),
    ("cifar100:/x", "unknown data set 'cifar100:/x'"),
    ("digits:/x", "the embedded digits take no path"),
    ("npz:", "npz: needs a file"),
    ("npz", "unknown data set 'npz'"),
])
def test_bad_data_specs(text, message):
    with pytest.raises(DataError, match=message) as info:
        parse_data_spec(text)
    assert str(info.value.loc) == "--data"


def test_cache_root_follows_env_and_override(tmp_path, isolated_cache):
    assert data_home() == isolated_cache
    assert data_home(tmp_path / "x") == tmp_path / "x"


def test_default_digits_fit_the_network_input():
    pytest.importorskip("sklearn")
    ds = load_dataset(input_shape=(32, 32, 1))
    assert ds.x_train.shape == (1437, 1, 32, 32)
    assert load_dataset("digits").image_shape == (8, 8, 1)
    with pytest.raises(DataError, match="pass --resize to copy the grey plane"):
        load_dataset("digits", input_shape=(32, 32, 3))
    assert load_dataset("digits", input_shape=(16, 16, 3), resize=True).image_shape == (16, 16, 3)


def test_mnist_from_the_cache_and_cifar_from_a_folder(tmp_path, rng, isolated_cache):
    write_files(isolated_cache / "mnist", mnist_file_bytes(make_mnist_arrays(rng, 8, 4)))
    ds = load_dataset("mnist")
    assert ds.image_shape == (28, 28, 1) and len(ds.y_train) == 8
    with pytest.raises(DataError, match="28x28x1 \\(grey\\) images but the network's input is "
                                        "32x32x1"):
        load_dataset("mnist", input_shape=(32, 32, 1))
    padded = load_dataset("mnist", input_shape=(32, 32, 1), resize=True, method="pad")
    np.testing.assert_array_equal(padded.x_train[:, :, 2:30, 2:30], ds.x_train)
    folder = write_files(tmp_path / "c" / "cifar-10-batches-py",
                         cifar_file_bytes(make_cifar_batches(rng, 2)))
    assert load_dataset(f"cifar10:{folder.parent}").image_shape == (32, 32, 3)


def test_plain_npz_path(tmp_path, rng):
    path = tmp_path / "tiny.npz"
    np.savez(path, x=rng.integers(0, 256, (10, 6, 6), dtype=np.uint8), y=np.arange(10) % 2)
    ds = load_dataset(str(path), input_shape=(6, 6, 1))
    assert ds.name == "tiny" and len(ds.y_test) == 2
