import pickle

import numpy as np
import pytest

from cnnspec.engine.data.cifar import (
    CIFAR10_CLASSES,
    load_cifar10,
    load_restricted_pickle,
    read_cifar_batch,
)
from cnnspec.errors import DataError

from .helpers import (
    CIFAR_NAMES,
    cifar_file_bytes,
    make_cifar_batches,
    py2_batch_pickle,
    write_files,
)


def test_loads_python2_style_batches(tmp_path, rng):
    batches = make_cifar_batches(rng, per_batch=6)
    folder = write_files(tmp_path / "cifar-10-batches-py", cifar_file_bytes(batches))
    ds = load_cifar10(folder)
    assert ds.name == "cifar10" and ds.classes == CIFAR10_CLASSES == tuple(CIFAR_NAMES)
    assert ds.x_train.shape == (30, 3, 32, 32) and ds.x_test.shape == (6, 3, 32, 32)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    # row layout: 1024 red, then 1024 green, then 1024 blue values, each plane row by row
    first = batches["data_batch_1"][0][0]
    np.testing.assert_allclose(ds.x_train[0, 1, 2, 5] * 255, first[1024 + 2 * 32 + 5], atol=1e-4)
    np.testing.assert_allclose(ds.x_train[0] * 255, first.reshape(3, 32, 32), atol=1e-4)
    expected = [label for i in range(1, 6) for label in batches[f"data_batch_{i}"][1]]
    np.testing.assert_array_equal(ds.y_train, expected)
    np.testing.assert_array_equal(ds.y_test, batches["test_batch"][1])


def test_parent_folder_and_numpy2_module_name(tmp_path, rng):
    batches = make_cifar_batches(rng, per_batch=2)
    files = {name: py2_batch_pickle(data, labels, module=b"numpy._core.multiarray")
             for name, (data, labels) in batches.items()}
    write_files(tmp_path / "cifar-10-batches-py", files)
    ds = load_cifar10(tmp_path)  # no batches.meta: the standard names
    assert ds.classes == CIFAR10_CLASSES and len(ds.y_test) == 2


def test_python3_pickle_of_a_batch_loads(tmp_path, rng):
    data = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({b"data": data, b"labels": [0, 9, 4]}, protocol=4))
    images, labels = read_cifar_batch(path)
    assert images.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(labels, [0, 9, 4])


class RunsACommand:
    """Pickles to a call of os.system -- the classic malicious pickle."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        import os

        return (os.system, (self.command,))


class CallsEval:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_pickle_calling_os_system_is_refused_and_never_run(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "data_batch_1"
    payload = {"data": RunsACommand(f"touch {marker}"), "labels": [1]}
    path.write_bytes(pickle.dumps(payload, protocol=protocol))
    with pytest.raises(DataError, match=r"pickle refused: it asks for (posix|os|nt)\.system") \
            as info:
        load_restricted_pickle(path)
    assert not marker.exists()
    assert info.value.loc.source == str(path)
    assert "do not load this file" in info.value.hint


@pytest.mark.parametrize("evil, name", [
    (CallsEval(), "__builtin__.eval"),  # protocol 2 writes Python 2 module names
    (np.float64(1.5), "numpy._core.multiarray.scalar"),  # a numpy scalar is not plain data
    # a method is pickled (protocol 2) as getattr(class, name): getattr is refused first
    (RunsACommand.__init__, "__builtin__.getattr"),
])
def test_every_other_global_is_refused(tmp_path, evil, name):
    path = tmp_path / "batch"
    try:
        path.write_bytes(pickle.dumps(evil, protocol=2))
    except (pickle.PicklingError, AttributeError):
        pytest.skip("not picklable here")
    with pytest.raises(DataError, match="pickle refused: it asks for") as info:
        load_restricted_pickle(path)
    assert f"asks for {name}," in info.value.message


def test_hand_written_global_is_refused(tmp_path):
    # GLOBAL 'subprocess check_output', then call it: refused at the GLOBAL opcode
    path = tmp_path / "batch"
    path.write_bytes(b"csubprocess\ncheck_output\n(S'id'\ntR.")
    with pytest.raises(DataError, match=r"subprocess\.check_output"):
        load_restricted_pickle(path)


def test_truncated_and_garbage_pickles(tmp_path, rng):
    data = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
    good = py2_batch_pickle(data, [1, 2])
    short = tmp_path / "short"
    short.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="truncated"):
        read_cifar_batch(short)
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00not a pickle at all")
    with pytest.raises(DataError, match="not a valid pickle"):
        read_cifar_batch(junk)


def test_wrong_contents_are_named(tmp_path, rng):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(DataError, match="expected a dict, found list"):
        read_cifar_batch(path)
    path.write_bytes(pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "fine_labels": [1, 2]}))
    with pytest.raises(DataError, match="no 'labels' entry") as info:
        read_cifar_batch(path)
    assert "CIFAR-100" in info.value.hint
    path.write_bytes(pickle.dumps({"data": np.zeros((2, 3072), np.float32), "labels": [1, 2]}))
    with pytest.raises(DataError, match=r"'data' is float32 \(2, 3072\), expected uint8"):
        read_cifar_batch(path)
    path.write_bytes(pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [1, 10]}))
    with pytest.raises(DataError, match="labels run from 1 to 10"):
        read_cifar_batch(path)


def test_missing_batches(tmp_path, rng):
    with pytest.raises(DataError, match="no CIFAR-10 python batches") as info:
        load_cifar10(tmp_path)
    assert "cnnspec data download cifar10" in info.value.hint
    files = cifar_file_bytes(make_cifar_batches(rng, per_batch=1))
    del files["data_batch_4"]
    folder = write_files(tmp_path / "cifar-10-batches-py", files)
    with pytest.raises(DataError, match="file not found") as info:
        load_cifar10(folder)
    assert info.value.loc.source == str(folder / "data_batch_4")
