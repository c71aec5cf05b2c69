"""Each optimiser against its update equation, worked out by hand step by step.

The toy problem is f(w) = sum(w^2), so g = 2w at the current w. The expected
values are written with the formula of SEEDS.md on plain Python floats, never
by calling the classes.
"""

import math

import numpy as np
import pytest

from cnnspec.engine.optim import (
    OPTIMIZERS,
    AdaDelta,
    AdaGrad,
    Adam,
    GradientDescent,
    Momentum,
    Nesterov,
    RMSprop,
    make_optimizer,
)
from cnnspec.errors import EngineError


def trajectory(opt, w0: float, steps: int) -> list[float]:
    params = {"w": np.array([w0])}
    out = []
    for _ in range(steps):
        opt.step(params, {"w": 2 * params["w"]})
        out.append(float(params["w"][0]))
    return out


def test_gradient_descent():
    # w <- w - eta g, eta = 0.1, g = 2w
    w1 = 1.0 - 0.1 * (2 * 1.0)  # 0.8
    w2 = w1 - 0.1 * (2 * w1)  # 0.64
    w3 = w2 - 0.1 * (2 * w2)  # 0.512
    assert trajectory(GradientDescent(0.1), 1.0, 3) == pytest.approx([w1, w2, w3], rel=1e-15)
    assert [w1, w2, w3] == pytest.approx([0.8, 0.64, 0.512])


def test_momentum():
    # D_t = a D_{t-1} + eta g; w <- w - D_t; a = 0.9, eta = 0.1
    d1 = 0.9 * 0.0 + 0.1 * (2 * 1.0)  # 0.2
    w1 = 1.0 - d1  # 0.8
    d2 = 0.9 * d1 + 0.1 * (2 * w1)  # 0.34
    w2 = w1 - d2  # 0.46
    d3 = 0.9 * d2 + 0.1 * (2 * w2)  # 0.398
    w3 = w2 - d3  # 0.062
    assert [w1, w2, w3] == pytest.approx([0.8, 0.46, 0.062])
    assert trajectory(Momentum(0.1, momentum=0.9), 1.0, 3) == pytest.approx([w1, w2, w3], rel=1e-14)


def test_nesterov_by_hand_and_equivalent_to_the_lecture_form():
    # Lecture: D_t = a D_{t-1} + eta grad(w_{t-1} - a D_{t-1}); w_t = w_{t-1} - D_t.
    a, eta = 0.9, 0.1
    w, d = 1.0, 0.0
    lookahead = []
    for _ in range(4):
        d = a * d + eta * 2 * (w - a * d)
        w = w - d
        lookahead.append(w - a * d)  # what the optimiser stores: u_t = w_t - a D_t
    # step 1 by hand: g at 1.0 is 2; D1 = 0.2; w1 = 0.8; u1 = 0.8 - 0.18 = 0.62
    assert lookahead[0] == pytest.approx(0.62)
    # the re-parametrised update: u_t = u_{t-1} - eta g(u_{t-1}) - a D_t
    u1 = 1.0 - 0.1 * 2.0 - 0.9 * 0.2
    assert u1 == pytest.approx(0.62)
    assert trajectory(Nesterov(eta, momentum=a), 1.0, 4) == pytest.approx(lookahead, rel=1e-13)


def test_adagrad():
    # G += g^2; w <- w - eta / sqrt(G + eps) g; eta = 0.5, eps = 1e-8
    g1 = 2 * 1.0
    big_g1 = 0.0 + g1**2  # 4
    w1 = 1.0 - 0.5 / math.sqrt(big_g1 + 1e-8) * g1  # ~0.5
    g2 = 2 * w1
    big_g2 = big_g1 + g2**2  # 5
    w2 = w1 - 0.5 / math.sqrt(big_g2 + 1e-8) * g2  # 0.5 - 0.5/sqrt(5)
    assert w2 == pytest.approx(0.5 - 0.5 / math.sqrt(5))
    assert trajectory(AdaGrad(0.5, eps=1e-8), 1.0, 2) == pytest.approx([w1, w2], rel=1e-14)


def test_adadelta():
    # E[g2] = rho E + (1-rho) g^2; dw = -RMS[dw]_{t-1} / RMS[g]_t g;
    # E[dw2] = rho E + (1-rho) dw^2; w += eta dw; RMS[x] = sqrt(E[x^2] + eps)
    rho, eps, eta = 0.9, 1e-6, 1.0
    g1 = 2.0
    eg1 = rho * 0.0 + (1 - rho) * g1**2  # 0.4
    dw1 = -math.sqrt(0.0 + eps) / math.sqrt(eg1 + eps) * g1
    edw1 = rho * 0.0 + (1 - rho) * dw1**2
    w1 = 1.0 + eta * dw1
    g2 = 2 * w1
    eg2 = rho * eg1 + (1 - rho) * g2**2
    dw2 = -math.sqrt(edw1 + eps) / math.sqrt(eg2 + eps) * g2
    w2 = w1 + eta * dw2
    assert dw1 == pytest.approx(-0.001 / math.sqrt(0.400001) * 2)
    assert trajectory(AdaDelta(eta, rho=rho, eps=eps), 1.0, 2) == pytest.approx([w1, w2], rel=1e-14)
    # eta only scales the applied step, not what E[dw^2] accumulates
    assert trajectory(AdaDelta(0.5, rho=rho, eps=eps), 1.0, 1) == pytest.approx([1.0 + 0.5 * dw1])


def test_rmsprop():
    # E = gamma E + (1-gamma) g^2; w <- w - eta / sqrt(E + eps) g
    gamma, eps, eta = 0.9, 1e-8, 0.01
    g1 = 2.0
    e1 = gamma * 0.0 + (1 - gamma) * g1**2  # 0.4
    w1 = 1.0 - eta / math.sqrt(e1 + eps) * g1
    g2 = 2 * w1
    e2 = gamma * e1 + (1 - gamma) * g2**2
    w2 = w1 - eta / math.sqrt(e2 + eps) * g2
    assert w1 == pytest.approx(1.0 - 0.02 / math.sqrt(0.4))
    assert trajectory(RMSprop(eta, gamma=gamma, eps=eps), 1.0, 2) == pytest.approx(
        [w1, w2], rel=1e-14
    )


def test_adam():
    b1, b2, eps, eta = 0.9, 0.999, 1e-8, 0.1
    g1 = 2.0
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1**2
    w1 = 1.0 - eta * (m1 / (1 - b1**1)) / (math.sqrt(v1 / (1 - b2**1)) + eps)  # ~0.9
    g2 = 2 * w1
    m2, v2 = b1 * m1 + (1 - b1) * g2, b2 * v1 + (1 - b2) * g2**2
    w2 = w1 - eta * (m2 / (1 - b1**2)) / (math.sqrt(v2 / (1 - b2**2)) + eps)
    assert w1 == pytest.approx(0.9)  # the first bias-corrected step is eta * sign(g)
    assert trajectory(Adam(eta, beta1=b1, beta2=b2, eps=eps), 1.0, 2) == pytest.approx(
        [w1, w2], rel=1e-14
    )


def test_updates_are_elementwise_and_in_place():
    w = np.array([1.0, -2.0, 0.5])
    params = {"w": w}
    RMSprop(0.1).step(params, {"w": np.array([1.0, 4.0, 0.0])})
    assert params["w"] is w
    e = 0.1 * np.array([1.0, 16.0, 0.0])
    np.testing.assert_allclose(
        w, [1.0, -2.0, 0.5] - 0.1 * np.array([1.0, 4.0, 0.0]) / np.sqrt(e + 1e-8)
    )


def test_weight_decay_adds_l2_to_the_gradient():
    # g_eff = g + lambda w = 2w + 0.5w; w1 = 1 - 0.1 * 2.5 = 0.75
    assert trajectory(GradientDescent(0.1, weight_decay=0.5), 1.0, 1) == pytest.approx([0.75])


def test_clip_norm_scales_the_global_gradient_then_decay():
    params = {"a": np.array([1.0]), "b": np.array([1.0, 1.0])}
    grads = {"a": np.array([3.0]), "b": np.array([0.0, 4.0])}  # global norm 5
    GradientDescent(1.0, clip_norm=1.0, weight_decay=0.1).step(params, grads)
    # clipped: (0.6), (0, 0.8); then + 0.1 w
    np.testing.assert_allclose(params["a"], [1.0 - (0.6 + 0.1)])
    np.testing.assert_allclose(params["b"], [1.0 - 0.1, 1.0 - (0.8 + 0.1)])
    np.testing.assert_array_equal(grads["a"], [3.0])  # grads untouched
    # below the threshold nothing is scaled
    params = {"a": np.array([1.0])}
    GradientDescent(1.0, clip_norm=10.0).step(params, {"a": np.array([3.0])})
    np.testing.assert_allclose(params["a"], [-2.0])


def test_frozen_parameters_are_skipped_everywhere():
    params = {"conv.w": np.array([1.0]), "fc.w": np.array([1.0])}
    grads = {"conv.w": np.array([100.0]), "fc.w": np.array([3.0])}
    opt = Momentum(0.1, momentum=0.5, clip_norm=1.0, frozen={"conv.w"})
    opt.step(params, grads)
    assert params["conv.w"][0] == 1.0
    # the frozen gradient (100) is not in the clipping norm: fc's 3 clips to 1
    assert params["fc.w"][0] == pytest.approx(1.0 - 0.1 * 1.0)
    assert set(opt.state_dict()) == {"t", "velocity/fc.w"}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_through_npz(tmp_path, name):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 2))
    a, b = {"layer.w": w0.copy()}, {"layer.w": w0.copy()}
    opt_a = make_optimizer(name, 0.05)
    for _ in range(3):
        opt_a.step(a, {"layer.w": 2 * a["layer.w"]})
    np.savez(tmp_path / "opt.npz", **opt_a.state_dict())
    b["layer.w"][...] = a["layer.w"]
    opt_b = make_optimizer(name, 0.05)
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as data:
        opt_b.load_state_dict(dict(data))
    assert opt_b.t == 3
    for _ in range(2):
        opt_a.step(a, {"layer.w": 2 * a["layer.w"]})
        opt_b.step(b, {"layer.w": 2 * b["layer.w"]})
    np.testing.assert_array_equal(a["layer.w"], b["layer.w"])


def test_load_state_dict_rejects_foreign_keys():
    with pytest.raises(EngineError, match="unexpected key 'm/w'"):
        Momentum(0.1).load_state_dict({"t": np.array(1), "m/w": np.zeros(1)})
    with pytest.raises(EngineError, match="step count"):
        Adam().load_state_dict({})


def test_make_optimizer_registry_and_errors():
    assert set(OPTIMIZERS) == {
        "sgd",
        "momentum",
        "nesterov",
        "adagrad",
        "adadelta",
        "rmsprop",
        "adam",
    }
    opt = make_optimizer("Adam", 0.01, beta2=0.99, weight_decay=1e-4)
    assert isinstance(opt, Adam) and opt.beta2 == 0.99 and opt.lr == 0.01 and opt.beta1 == 0.9
    with pytest.raises(EngineError, match="unknown optimizer 'adma'") as info:
        make_optimizer("adma", 0.1)
    assert info.value.hint == "did you mean 'adam'?"
    with pytest.raises(EngineError, match="no option 'momentum'") as info:
        make_optimizer("adam", 0.1, momentum=0.9)
    assert "beta1" in info.value.hint


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: GradientDescent(0.0), "lr"),
        (lambda: Momentum(0.1, momentum=1.0), "momentum"),
        (lambda: Adam(beta2=1.5), "beta2"),
        (lambda: RMSprop(eps=0.0), "eps"),
        (lambda: GradientDescent(0.1, weight_decay=-1.0), "weight_decay"),
        (lambda: GradientDescent(0.1, clip_norm=0.0), "clip_norm"),
        (lambda: GradientDescent(0.1, frozen="conv.w"), "collection"),
    ],
)
def test_invalid_hyperparameters(factory, match):
    with pytest.raises(EngineError, match=match):
        factory()


def test_step_errors_name_the_parameter():
    params = {"conv1.w": np.zeros(2), "fc.w": np.zeros(3)}
    with pytest.raises(EngineError, match=r"no gradient for trainable parameter 'conv1\.w'"):
        GradientDescent(0.1).step(params, {"fc.w": np.zeros(3)})
    with pytest.raises(EngineError, match=r"frozen parameter 'conv1\.W'") as info:
        GradientDescent(0.1, frozen={"conv1.W"}).step(params, {"fc.w": np.zeros(3)})
    assert info.value.hint == "did you mean 'conv1.w'?"
    with pytest.raises(EngineError, match=r"shape \(3,\)"):
        GradientDescent(0.1).step(params, {"conv1.w": np.zeros(3), "fc.w": np.zeros(3)})
    with pytest.raises(EngineError, match=r"unknown parameter 'fc\.b'"):
        GradientDescent(0.1).step(
            params, {**{k: np.zeros_like(v) for k, v in params.items()}, "fc.b": np.zeros(1)}
        )
