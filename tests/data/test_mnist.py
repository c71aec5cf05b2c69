import numpy as np
import pytest

from cnnspec.engine.data.mnist import load_mnist
from cnnspec.errors import DataError

from .helpers import idx_bytes, make_mnist_arrays, mnist_file_bytes, write_files


@pytest.mark.parametrize("gz", [True, False])
def test_loads_and_scales_mnist(tmp_path, rng, gz):
    arrays = make_mnist_arrays(rng, n_train=30, n_test=12)
    folder = write_files(tmp_path / "mnist", mnist_file_bytes(arrays, gz=gz))
    ds = load_mnist(folder)
    assert ds.name == "mnist" and ds.classes == tuple("0123456789")
    assert ds.x_train.shape == (30, 1, 28, 28) and ds.x_test.shape == (12, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.image_shape == (28, 28, 1)
    # scaling: pixel / 255
    np.testing.assert_allclose(ds.x_train[:, 0] * 255, arrays["train-images-idx3-ubyte"],
                               atol=1e-4)
    np.testing.assert_array_equal(ds.y_test, arrays["t10k-labels-idx1-ubyte"])


def test_cache_root_and_dotted_names_are_found(tmp_path, rng):
    arrays = make_mnist_arrays(rng, n_train=5, n_test=5)
    files = {name.replace("-idx", ".idx"): content
             for name, content in mnist_file_bytes(arrays).items()}
    write_files(tmp_path / "root" / "mnist", files)
    assert len(load_mnist(tmp_path / "root").y_train) == 5


def test_missing_file_names_it_and_suggests_download(tmp_path, rng):
    files = mnist_file_bytes(make_mnist_arrays(rng))
    del files["t10k-labels-idx1-ubyte.gz"]
    folder = write_files(tmp_path / "mnist", files)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\[\.gz\] not found") as info:
        load_mnist(folder)
    assert "cnnspec data download mnist" in info.value.hint


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="MNIST folder not found") as info:
        load_mnist(tmp_path / "nowhere")
    assert info.value.loc.source == str(tmp_path / "nowhere")


def test_count_mismatch_between_images_and_labels(tmp_path, rng):
    arrays = make_mnist_arrays(rng, n_train=10)
    arrays["train-labels-idx1-ubyte"] = arrays["train-labels-idx1-ubyte"][:9]
    folder = write_files(tmp_path / "m", mnist_file_bytes(arrays))
    with pytest.raises(DataError, match="10 images but 9 labels"):
        load_mnist(folder)


def test_label_out_of_range(tmp_path, rng):
    arrays = make_mnist_arrays(rng)
    arrays["t10k-labels-idx1-ubyte"][3] = 12
    folder = write_files(tmp_path / "m", mnist_file_bytes(arrays))
    with pytest.raises(DataError, match=r"label 12 out of range 0\.\.9") as info:
        load_mnist(folder)
    assert info.value.loc.source.endswith("t10k-labels-idx1-ubyte.gz")


def test_corrupt_file_in_the_set_is_named(tmp_path, rng):
    files = mnist_file_bytes(make_mnist_arrays(rng), gz=False)
    files["train-images-idx3-ubyte"] = files["train-images-idx3-ubyte"][:-1]
    folder = write_files(tmp_path / "m", files)
    with pytest.raises(DataError, match="truncated") as info:
        load_mnist(folder)
    assert info.value.loc.source == str(folder / "train-images-idx3-ubyte")


def test_non_uint8_idx_is_refused(tmp_path, rng):
    arrays = make_mnist_arrays(rng)
    files = mnist_file_bytes(arrays, gz=False)
    files["train-labels-idx1-ubyte"] = idx_bytes(arrays["train-labels-idx1-ubyte"].astype(np.int8))
    folder = write_files(tmp_path / "m", files)
    # an int8 label file has magic 0x00000901, not the labels' 0x00000801
    with pytest.raises(DataError, match="0x00000901, expected 0x00000801"):
        load_mnist(folder)
