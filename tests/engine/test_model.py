"""Whole networks built from specs: shapes, gradients, checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cnnspec
from cnnspec.engine.checkpoint import load_checkpoint
from cnnspec.engine.gradcheck import relative_error
from cnnspec.errors import DataError, EngineError

LENET = "Conv(5x5,6)-ReLU-MPool(2)-Conv(5x5,16)-ReLU-MPool(2)-FC(120)-ReLU-FC(84)-ReLU-FC(10)-SM"


def numeric_param_grad(model, x, y, name: str, eps: float = 1e-6, samples: int = 6,
                       include: tuple[int, ...] | None = None):
    """Central differences of the loss w.r.t. a few entries of one parameter.

    ``include`` adds one chosen entry (the largest analytic gradient) to the random ones.
    """
    param = model.params[name]
    rng = np.random.default_rng(3)
    idx = [tuple(int(rng.integers(0, s)) for s in param.shape) for _ in range(samples)]
    if include is not None:
        idx.append(include)
    out = []
    for i in idx:
        old = param[i]
        param[i] = old + eps
        plus, _ = model.loss_and_grads(x, y)
        param[i] = old - eps
        minus, _ = model.loss_and_grads(x, y)
        param[i] = old
        out.append((plus - minus) / (2 * eps))
    return idx, np.array(out)


def assert_param_grads(model, x: np.ndarray, y: np.ndarray,
                       cancelled: frozenset[str] = frozenset()) -> None:
    """Every parameter's analytic gradient matches central differences (float64).

    ``cancelled`` names parameters whose gradient is zero by construction (a conv bias
    followed by batch norm in training: the batch mean removes it); theirs must be zero
    both ways, and every other parameter's must not be.
    """
    _, grads = model.loss_and_grads(x, y)
    grads = {k: v.copy() for k, v in grads.items()}
    assert set(grads) == set(model.params)
    assert cancelled <= set(model.params)
    for name in model.params:
        if name in cancelled:
            _, numeric = numeric_param_grad(model, x, y, name)
            assert np.abs(grads[name]).max() < 1e-12 and np.abs(numeric).max() < 1e-9, name
            continue
        largest = np.unravel_index(int(np.argmax(np.abs(grads[name]))), grads[name].shape)
        idx, numeric = numeric_param_grad(model, x, y, name, include=tuple(map(int, largest)))
        analytic = np.array([grads[name][i] for i in idx])
        # a check must be able to fail: a parameter the loss ignores (zero both ways) is a bug
        assert np.abs(analytic).max() > 0 and np.abs(numeric).max() > 0, \
            f"{name}: gradient is zero both ways; the parameter does not reach the loss"
        # central differences with eps=1e-6 carry a rounding error of about
        # 1e-16 * loss / eps ~ 1e-10, which is 1e-6 of an entry of 1e-4: entries over
        # 1000 times smaller than the largest are judged against 1e-3 of the largest
        floor = 1e-3 * np.abs(analytic).max()
        error = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), floor)
        assert error.max() < 1e-6, (name, relative_error(analytic, numeric))


def check_all_grads(spec: str, shape: str, x_shape: tuple[int, ...], classes: int) -> None:
    model = cnnspec.load(spec, input_shape=shape).build(seed=1, dtype=np.float64)
    rng = np.random.default_rng(0)
    assert_param_grads(model, rng.standard_normal(x_shape), rng.integers(0, classes, x_shape[0]))


def test_lenet_shapes_and_probabilities() -> None:
    model = cnnspec.load(LENET, input_shape="32x32x1").build(seed=0)
    x = np.random.default_rng(1).standard_normal((4, 1, 32, 32)).astype(np.float32)
    probs = model.predict(x)
    assert probs.shape == (4, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert model.params["Conv:1.weight"].shape == (6, 1, 5, 5)
    assert model.params["FC:1.weight"].shape == (400, 120)
    assert sum(v.size for v in model.params.values()) == model.report.totals.trainable_params


def test_gradients_sequential_smooth() -> None:
    # tanh and average pooling keep the function smooth: no kinks
    check_all_grads("Conv(3x3,3,s=2,p=1)-Tanh-APool(2)-Conv(2x3,4,d=1)-Sigmoid-FC(5)",
                    "11x15x2", (3, 2, 11, 15), 5)


def test_gradients_residual_and_bn() -> None:
    model = cnnspec.load(Path(__file__).with_name("residual_block.yaml")).build(
        seed=2, dtype=np.float64)
    rng = np.random.default_rng(0)
    # the body's and the shortcut's first convs have biases that the next batch norm cancels
    assert_param_grads(model, rng.standard_normal((4, 3, 6, 6)), rng.integers(0, 3, 4),
                       cancelled=frozenset({"Conv:2.bias", "Conv:3.bias", "Conv:4.bias"}))


def test_gradients_concat_with_identity_branch() -> None:
    model = cnnspec.load(Path(__file__).with_name("dense_layer.yaml")).build(
        seed=4, dtype=np.float64)
    assert model.report.layers[-1].output == (3,)
    rng = np.random.default_rng(0)
    assert_param_grads(model, rng.standard_normal((2, 2, 5, 5)), rng.integers(0, 3, 2))


def test_input_gradient_matches_numeric() -> None:
    model = cnnspec.load("Conv(3x3,2,p=1)-Tanh-FC(3)", input_shape="4x4x1").build(
        seed=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4))
    y = np.array([0, 2])
    model.loss_and_grads(x, y)
    z = model.forward(x, training=True, logits=True)
    from cnnspec.engine.functional import softmax_cross_entropy

    _, dz = softmax_cross_entropy(z, y)
    dx = model.backward(dz, logits=True)
    eps = 1e-6
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        numeric[i] = (softmax_cross_entropy(model.forward(xp, logits=True), y)[0]
                      - softmax_cross_entropy(model.forward(xm, logits=True), y)[0]) / (2 * eps)
    assert relative_error(dx, numeric) < 1e-6


def test_nhwc_input_is_a_clear_error() -> None:
    model = cnnspec.load(LENET, input_shape="32x32x1").build()
    with pytest.raises(EngineError, match="transpose"):
        model.predict(np.zeros((2, 32, 32, 1), dtype=np.float32))


def test_seeded_build_is_reproducible() -> None:
    a = cnnspec.load(LENET, input_shape="32x32x1").build(seed=7)
    b = cnnspec.load(LENET, input_shape="32x32x1").build(seed=7)
    c = cnnspec.load(LENET, input_shape="32x32x1").build(seed=8)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert not np.array_equal(a.params["Conv:1.weight"], c.params["Conv:1.weight"])


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    model = cnnspec.load(LENET, input_shape="32x32x1").build(seed=3)
    x = np.random.default_rng(1).standard_normal((2, 1, 32, 32)).astype(np.float32)
    path = tmp_path / "lenet.npz"
    model.save(str(path), info={"epoch": 3})
    ckpt = load_checkpoint(path)
    assert ckpt.info == {"epoch": 3}
    np.testing.assert_array_equal(ckpt.build().predict(x), model.predict(x))
    with np.load(path, allow_pickle=False) as data:
        assert "meta/spec" in data.files and "param/Conv:1.weight" in data.files


def test_checkpoint_into_other_spec_names_the_layer(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    cnnspec.load(LENET, input_shape="32x32x1").build().save(str(path))
    other = cnnspec.load(LENET.replace("Conv(5x5,16)", "Conv(5x5,12)"),
                         input_shape="32x32x1").build()
    with pytest.raises(EngineError, match="layer Conv:2"):
        other.load_state_dict(load_checkpoint(path).state)


def test_a_run_folder_reads_as_its_best_then_its_last_checkpoint(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cnnspec.cli.main import cli
    from cnnspec.engine.checkpoint import checkpoint_file

    model = cnnspec.load(LENET, input_shape="32x32x1").build(seed=3)
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(DataError, match=r"neither best\.npz nor last\.npz"):
        load_checkpoint(run)
    model.save(str(run / "last.npz"), info={"epoch": 2})
    assert checkpoint_file(run) == run / "last.npz"
    model.save(str(run / "best.npz"), info={"epoch": 1})
    assert checkpoint_file(run) == run / "best.npz" and load_checkpoint(run).info == {"epoch": 1}
    assert checkpoint_file(run / "last.npz") == run / "last.npz"  # a file stays itself
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(cli, ["evaluate", str(empty)])
    assert result.exit_code == 1 and "neither best.npz nor last.npz" in result.output


def test_bad_checkpoint_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "none.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable"):
        load_checkpoint(bad)
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.zeros(3))
    with pytest.raises(DataError, match="no embedded spec"):
        load_checkpoint(plain)


def test_gradients_table_conv_transition_dual_path() -> None:
    model = cnnspec.load(Path(__file__).with_name("block_kinds.yaml")).build(
        seed=5, dtype=np.float64)
    table = model.params["TableConv:1.weight"]
    assert table.size == 3 * 3 * (2 + 2 + 2 + 3)
    assert sum(v.size for v in model.params.values()) == model.report.totals.trainable_params
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 8, 8))
    # batch norm and ReLU inside the blocks: keep the check away from ReLU's kink by
    # comparing on a batch large enough that no pre-activation sits within eps of 0
    assert_param_grads(model, x, rng.integers(0, 3, 4))


@pytest.mark.parametrize("name", ["lenet5-1998", "densenet121", "dpn68", "resnet18",
                                  "googlenet", "cifar10-vgg"])
def test_zoo_specs_build_with_the_analysis_counts(name: str) -> None:
    spec = cnnspec.load(name)
    model = spec.build(seed=0)
    totals = spec.report(include_aux=True).totals  # the engine builds the auxiliary heads
    assert sum(v.size for v in model.params.values()) == totals.trainable_params
    assert sum(v.size for v in model.buffers.values()) == totals.non_trainable_params


def test_backward_needs_a_training_forward() -> None:
    model = cnnspec.load("Conv(3x3,2)-FC(3)", input_shape="5x5x1").build()
    x = np.zeros((1, 1, 5, 5), dtype=np.float32)
    model.forward(x)
    with pytest.raises(EngineError, match="training forward"):
        model.backward(np.ones((1, 3), dtype=np.float32))
    model.forward(x, training=True)
    model.backward(np.ones((1, 3), dtype=np.float32))
    with pytest.raises(EngineError, match="training forward"):
        model.backward(np.ones((1, 3), dtype=np.float32))


@pytest.mark.parametrize("spec", [
    LENET,
    "[Conv(3x3,4,p=1)-ReLU-Conv(3x3,4,p=1)-ReLU-MPool(2)]-FC(3)",
])
def test_loss_and_grads_skips_only_the_input_gradient(spec: str) -> None:
    shape = "32x32x1" if spec == LENET else "8x8x2"
    model = cnnspec.load(spec, input_shape=shape).build(seed=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, *model.input_shape))
    y = rng.integers(0, 3, 3)
    for _ in range(2):  # the second step runs on the first one's conv workspaces
        skipped = {k: v.copy() for k, v in model.loss_and_grads(x, y, input_grad=False)[1].items()}
        full = {k: v.copy() for k, v in model.loss_and_grads(x, y)[1].items()}
        assert skipped.keys() == full.keys()
        for name in full:
            np.testing.assert_allclose(skipped[name], full[name], rtol=1e-12, err_msg=name)
    z = model.forward(x, training=True, logits=True)
    assert model.backward(np.ones_like(z), logits=True, input_grad=False) is None
    z = model.forward(x, training=True, logits=True)
    assert model.backward(np.ones_like(z), logits=True).shape == x.shape
