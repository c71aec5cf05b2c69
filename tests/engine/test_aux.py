"""Auxiliary heads in the engine: trained with weight w beside the output, skipped at inference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cnnspec
from cnnspec.engine.checkpoint import load_checkpoint
from cnnspec.engine.functional import softmax_cross_entropy
from cnnspec.engine.gradcheck import numerical_gradient, relative_error
from cnnspec.engine.train import TrainConfig
from cnnspec.errors import TrainingError

SPEC = Path(__file__).with_name("aux_head.yaml")
# whole-network checks in float64: round-off on the smallest entries (|g| ~ 1e-4 against
# |L| ~ 2 with h = 1e-5) reaches a few 1e-7, so 1e-6 as in test_model's network checks
NET_TOL = 1e-6
HEAD_PARAMS = {"Conv:2.weight", "Conv:2.bias", "FC:1.weight", "FC:1.bias"}


def model64(spec: str | Path = SPEC, seed: int = 3):
    return cnnspec.load(spec if isinstance(spec, str) else str(spec)).build(
        seed=seed, dtype=np.float64)


def batch(seed: int = 0, n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 8, 8)), rng.integers(0, 10, n)


def test_the_engine_builds_the_head_and_its_parameters() -> None:
    model = model64()
    assert [h.name for h in model.aux_heads] == ["AuxHead:1"]
    assert set(model.params) >= HEAD_PARAMS
    assert model.params["Conv:2.weight"].shape == (2, 4, 1, 1)
    assert model.params["FC:1.weight"].shape == (8 * 8 * 2, 10)
    report = cnnspec.load(str(SPEC)).report(include_aux=True)
    assert sum(v.size for v in model.params.values()) == report.totals.trainable_params


@pytest.mark.parametrize("loss", ["cross_entropy", "squared"])
def test_gradients_of_the_total_loss_through_the_head(loss: str) -> None:
    model = model64()
    x, y = batch()
    total, grads = model.loss_and_grads(x, y, loss=loss, aux_weight=0.3)
    grads = {k: v.copy() for k, v in grads.items()}

    def f() -> float:
        return model.loss_and_grads(x, y, loss=loss, aux_weight=0.3)[0]

    for name, array in model.params.items():
        numeric = numerical_gradient(f, array)
        assert np.abs(numeric).max() > 0, name
        assert relative_error(grads[name], numeric) < NET_TOL, name
    assert total == pytest.approx(f())


def test_the_total_is_the_main_loss_plus_w_times_the_head_loss() -> None:
    model = model64()
    x, y = batch(1)
    main_only, _ = model.loss_and_grads(x, y, aux_weight=0.0)
    total, _ = model.loss_and_grads(x, y, aux_weight=0.3)
    head = model.aux_heads[0]
    assert head.z is not None and head.z.shape == (5, 10)
    head_loss, _ = softmax_cross_entropy(head.z, y)
    assert total == pytest.approx(main_only + 0.3 * float(head_loss), rel=1e-12)
    assert total > main_only


def test_the_input_gradient_adds_the_heads_path() -> None:
    model = model64()
    x, y = batch(2)

    def f() -> float:
        return model.loss_and_grads(x, y, aux_weight=0.3)[0]

    model.loss_and_grads(x, y, aux_weight=0.3, input_grad=True)
    z = model.forward(x, training=True, logits=True)
    _, dz = softmax_cross_entropy(z, y)
    from cnnspec.engine.aux import aux_losses

    aux_losses(model.aux_heads, y, "cross_entropy", 0.3)
    dx = model.backward(dz, logits=True)
    assert relative_error(dx, numerical_gradient(f, x)) < NET_TOL


def test_weight_zero_leaves_the_head_untouched_and_the_main_gradients_unchanged() -> None:
    model = model64()
    x, y = batch(3)
    _, grads = model.loss_and_grads(x, y, aux_weight=0.0)
    assert all(not grads[k].any() for k in HEAD_PARAMS)
    main = {k: v.copy() for k, v in grads.items() if k not in HEAD_PARAMS}
    plain = cnnspec.load("Conv(3x3,4,p=1)-Tanh-MPool(2)-FC(10)-SM", input_shape="8x8x1",
                         conventions="pytorch").build(seed=3, dtype=np.float64)
    for key in ("Conv:1.weight", "FC:2.weight"):
        plain_key = {"FC:2.weight": "FC:1.weight"}.get(key, key)
        plain.params[plain_key][...] = model.params[key]
    plain.params["Conv:1.bias"][...] = model.params["Conv:1.bias"]
    plain.params["FC:1.bias"][...] = model.params["FC:2.bias"]
    _, plain_grads = plain.loss_and_grads(x, y)
    np.testing.assert_allclose(main["FC:2.weight"], plain_grads["FC:1.weight"], rtol=1e-12)
    np.testing.assert_allclose(main["Conv:1.weight"], plain_grads["Conv:1.weight"], rtol=1e-12)


def test_inference_skips_the_head() -> None:
    model = model64()
    x, _ = batch(4)
    before = model.forward(x)
    for key in HEAD_PARAMS:
        model.params[key][...] = 7.0
    np.testing.assert_array_equal(model.forward(x), before)
    assert model.aux_heads[0].z is None
    assert model.predict(x).shape == (5, 10)


def test_a_head_ending_in_softmax_is_trained_on_its_logits(tmp_path: Path) -> None:
    text = ("input: 6x6x1\narchitecture:\n  - Conv(3x3, 3, p=1)\n  - Tanh\n"
            "  - aux: Flatten-FC(10)-SM\n  - Flatten\n  - FC(10)\n  - SM\n")
    path = tmp_path / "aux_softmax.yaml"
    path.write_text(text)
    model = cnnspec.load(str(path)).build(seed=1, dtype=np.float64)
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((4, 1, 6, 6)), rng.integers(0, 10, 4)
    model.loss_and_grads(x, y)
    head = model.aux_heads[0]
    np.testing.assert_allclose(head.out.sum(axis=1), 1.0)  # probabilities out
    assert not np.allclose(head.z.sum(axis=1), 1.0)  # the loss reads the logits

    def f() -> float:
        return model.loss_and_grads(x, y)[0]

    _, grads = model.loss_and_grads(x, y)
    weight = model.params["FC:1.weight"]
    assert relative_error(grads["FC:1.weight"].copy(), numerical_gradient(f, weight)) < NET_TOL


def test_googlenet_trains_two_heads_and_infers_without_them() -> None:
    model = cnnspec.load("googlenet", input_shape="96x96x3").build(seed=0)
    assert [h.name for h in model.aux_heads] == ["AuxHead:1", "AuxHead:2"]
    x = np.random.default_rng(0).standard_normal((2, 3, 96, 96)).astype(np.float32)
    y = np.array([1, 2])
    total, grads = model.loss_and_grads(x, y)
    assert np.isfinite(total)
    assert np.abs(grads["FC:2.weight"]).max() > 0  # the first head's classifier learns
    assert np.abs(grads["FC:4.weight"]).max() > 0
    assert model.forward(x).shape == (2, 1000)


def test_checkpoints_carry_the_head(tmp_path: Path) -> None:
    model = model64(seed=9)
    model.save(str(tmp_path / "w.npz"))
    checkpoint = load_checkpoint(tmp_path / "w.npz")
    assert set(checkpoint.state) >= HEAD_PARAMS
    again = checkpoint.build(dtype=np.float64)
    np.testing.assert_array_equal(again.params["FC:1.weight"], model.params["FC:1.weight"])


def test_train_config_checks_the_weight() -> None:
    assert TrainConfig().aux_weight == 0.3
    assert TrainConfig(aux_weight=0.0).aux_weight == 0.0
    with pytest.raises(TrainingError, match="aux_weight must be >= 0"):
        TrainConfig(aux_weight=-0.1)
    assert TrainConfig.from_dict(TrainConfig(aux_weight=0.5).to_dict()).aux_weight == 0.5
