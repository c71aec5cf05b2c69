"""`show-filters` and `feature-maps`: a trained network's kernels and maps as pictures."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import cnnspec
from cnnspec.cli.main import cli
from cnnspec.errors import CnnspecError

pytest.importorskip("matplotlib")
from cnnspec.render.filters import draw_feature_maps, draw_filters, layer_output


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "lenet5.npz"
    cnnspec.load("lenet5").build(seed=0).save(str(path))
    return path


def test_layer_output_runs_the_model_up_to_a_layer() -> None:
    model = cnnspec.load("lenet5").build(seed=1)
    x = np.random.default_rng(0).uniform(0, 1, (2, 1, 32, 32)).astype(np.float32)
    assert layer_output(model, x, "MPool:1").shape == (2, 6, 14, 14)
    np.testing.assert_array_equal(layer_output(model, x, "SM:1"), model.forward(x))
    with pytest.raises(CnnspecError, match="no layer 'Conv:9'"):
        layer_output(model, x, "Conv:9")


def test_residual_blocks_are_reached_whole() -> None:
    model = cnnspec.load("resnet18", input_shape="32x32x3").build(seed=0)
    x = np.zeros((1, 3, 32, 32), np.float32)
    assert layer_output(model, x, "ReLU:1").shape == (1, 64, 16, 16)
    with pytest.raises(CnnspecError, match="main path"):
        layer_output(model, x, "Conv:2")  # inside the first residual block


def test_pictures_are_written(tmp_path) -> None:
    model = cnnspec.load("cifar10-cs231n").build(seed=0)
    assert draw_filters(model, tmp_path / "f.png") == "Conv:1"
    assert (tmp_path / "f.png").read_bytes().startswith(b"\x89PNG")
    image = np.random.default_rng(0).uniform(0, 1, model.input_shape).astype(np.float32)
    name, shape = draw_feature_maps(model, image, tmp_path / "m.svg")
    assert name == "ReLU:1" and shape[0] == model.params["Conv:1.weight"].shape[0]
    with pytest.raises(CnnspecError, match="not a conv layer"):
        draw_filters(model, tmp_path / "x.png", "FC:1")


def test_commands(checkpoint, tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["show-filters", str(checkpoint), "-o", str(tmp_path / "f.png")])
    assert result.exit_code == 0 and "(Conv:1)" in result.stderr
    digit = np.zeros((28, 28), np.float32)
    digit[4:24, 12:16] = 1.0
    np.save(tmp_path / "digit.npy", digit)
    result = runner.invoke(cli, ["feature-maps", str(checkpoint), str(tmp_path / "digit.npy"),
                                 "--layer", "MPool:2", "-o", str(tmp_path / "m.png")])
    assert result.exit_code == 0 and "MPool:2: 16 maps of 5x5" in result.stderr
    result = runner.invoke(cli, ["feature-maps", str(checkpoint), str(tmp_path / "digit.npy"),
                                 "--layer", "FC:1", "-o", str(tmp_path / "m.png")])
    assert result.exit_code == 1 and "not maps" in result.stderr
    result = runner.invoke(cli, ["show-filters", str(tmp_path / "none.npz"), "-o", "f.png"])
    assert result.exit_code == 1 and "no such checkpoint" in result.stderr
