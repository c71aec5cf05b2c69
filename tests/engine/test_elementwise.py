"""The table's activations: float64 gradient checks away from kinks, PyTorch parity."""

from __future__ import annotations

import numpy as np
import pytest

import cnnspec
from cnnspec.engine.functional.elementwise import (
    ELEMENTWISE,
    elementwise_backward,
    elementwise_forward,
    erf,
    prelu_backward,
    prelu_forward,
)
from cnnspec.engine.gradcheck import relative_error
from cnnspec.errors import EngineError
from cnnspec.spec.activation_table import ACTIVATIONS

from .helpers import assert_grads_match

SETTINGS = {
    "relu6": [{}],
    "leaky_relu": [{"slope": 0.01}, {"slope": 0.3}],
    "elu": [{"alpha": 1.0}, {"alpha": 0.5}],
    "silu": [{}],
    "gelu": [{"approximate": "none"}, {"approximate": "tanh"}],
    "hardswish": [{}],
    "hardsigmoid": [{}],
    "mish": [{}],
    "softplus": [{"beta": 1.0, "threshold": 20.0}, {"beta": 2.0, "threshold": 3.0}],
}
KINKS = {"relu6": (0.0, 6.0), "leaky_relu": (0.0,), "elu": (0.0,), "hardswish": (-3.0, 3.0),
         "hardsigmoid": (-3.0, 3.0), "softplus": (1.5, 20.0)}
# piecewise linear or quadratic: central differences are exact, so a larger step only
# shrinks the round-off (the kinks stay more than the step away)
EXACT_DIFFERENCES = {"relu6", "leaky_relu", "hardsigmoid", "hardswish"}
CASES = [(kind, s) for kind, options in SETTINGS.items() for s in options]


def test_every_table_entry_has_an_engine_pair() -> None:
    elementwise = {e.kind for e in ACTIVATIONS if not e.learned}
    assert set(ELEMENTWISE) == elementwise == set(SETTINGS)


def away_from_kinks(rng: np.random.Generator, kind: str, shape=(2, 3, 4, 5)) -> np.ndarray:
    """float64 values spread over [-5, 5], none within 0.01 of a kink of ``kind``."""
    x = rng.uniform(-5, 5, shape)
    for kink in KINKS.get(kind, ()):
        near = np.abs(x - kink) < 0.01
        x[near] += 0.05
    return x


@pytest.mark.parametrize(("kind", "settings"), CASES)
def test_gradient_matches_finite_differences(kind: str, settings: dict, rng) -> None:
    x = away_from_kinks(rng, kind)
    out, cache = elementwise_forward(kind, x, **settings)
    assert out.shape == x.shape and out.dtype == np.float64
    dout = rng.standard_normal(x.shape)
    analytic = elementwise_backward(kind, dout, cache)
    # element-wise ops: each output reads one input, so the difference is taken per
    # element (no summed round-off), with the five-point stencil
    # f'(x) ~ (f(x - 2h) - 8 f(x - h) + 8 f(x + h) - f(x + 2h)) / 12h, error O(h^4)
    h = 1e-3

    def f(d: float) -> np.ndarray:
        return elementwise_forward(kind, x + d, **settings)[0]

    numeric = dout * (f(-2 * h) - 8 * f(-h) + 8 * f(h) - f(2 * h)) / (12 * h)
    assert np.abs(numeric).max() > 0
    assert relative_error(analytic, numeric) < 1e-7
    if kind in ("relu6", "leaky_relu"):  # the summed check of the shared helper agrees
        assert_grads_match(lambda: elementwise_forward(kind, x, **settings)[0], {"x": x},
                           {"x": analytic}, dout, h=h)


@pytest.mark.parametrize(("kind", "settings"), CASES)
def test_values_and_gradients_equal_pytorch(kind: str, settings: dict, rng) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    modules = {
        "relu6": lambda: nn.ReLU6(),
        "leaky_relu": lambda: nn.LeakyReLU(settings.get("slope", 0.01)),
        "elu": lambda: nn.ELU(settings.get("alpha", 1.0)),
        "silu": lambda: nn.SiLU(),
        "gelu": lambda: nn.GELU(approximate=settings.get("approximate", "none")),
        "hardswish": lambda: nn.Hardswish(),
        "hardsigmoid": lambda: nn.Hardsigmoid(),
        "mish": lambda: nn.Mish(),
        "softplus": lambda: nn.Softplus(settings.get("beta", 1.0),
                                        settings.get("threshold", 20.0)),
    }
    # the kinks themselves included: the derivative there must be PyTorch's choice
    x = np.concatenate([rng.uniform(-9, 9, 200), [-3.0, 0.0, 3.0, 6.0, 1.5, 10.0, -10.0]])
    out, cache = elementwise_forward(kind, x, **settings)
    dout = rng.standard_normal(x.shape)
    t = torch.tensor(x, requires_grad=True)
    ref = modules[kind]()(t)
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(elementwise_backward(kind, dout, cache), t.grad.numpy(),
                               rtol=1e-7, atol=1e-12)  # PyTorch's 1/6 is rounded


def test_float32_stays_float32(rng) -> None:
    x = rng.standard_normal((4, 5)).astype(np.float32)
    for kind, settings in CASES:
        out, cache = elementwise_forward(kind, x, **settings)
        assert out.dtype == np.float32, kind
        assert elementwise_backward(kind, np.ones_like(x), cache).dtype == np.float32, kind


def test_erf_is_exact_to_float64() -> None:
    import math

    x = np.linspace(-7, 7, 2001)
    assert np.abs(erf(x) - np.array([math.erf(v) for v in x])).max() < 5e-15


def test_exact_values_at_chosen_points() -> None:
    x = np.array([-4.0, -1.0, 0.0, 2.0, 7.0])
    np.testing.assert_allclose(elementwise_forward("relu6", x)[0], [0, 0, 0, 2, 6])
    np.testing.assert_allclose(elementwise_forward("hardsigmoid", x)[0],
                               [0, 2 / 6, 0.5, 5 / 6, 1])
    np.testing.assert_allclose(elementwise_forward("hardswish", x)[0],
                               [0, -2 / 6, 0, 10 / 6, 7])
    np.testing.assert_allclose(elementwise_forward("leaky_relu", x, slope=0.5)[0],
                               [-2, -0.5, 0, 2, 7])


@pytest.mark.parametrize("shared", [True, False])
def test_prelu_gradients_for_input_and_slopes(shared: bool, rng) -> None:
    x = away_from_kinks(rng, "leaky_relu", (3, 4, 5, 5))
    a = np.array([0.25]) if shared else rng.uniform(0.05, 0.5, 4)
    out, cache = prelu_forward(x, a)
    dout = rng.standard_normal(out.shape)
    dx, da = prelu_backward(dout, cache)
    assert da.shape == a.shape
    assert_grads_match(lambda: prelu_forward(x, a)[0], {"x": x, "a": a}, {"x": dx, "a": da},
                       dout)


def test_prelu_equals_pytorch(rng) -> None:
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 4, 4))
    a = np.array([0.1, 0.2, 0.3])
    out, cache = prelu_forward(x, a)
    dout = rng.standard_normal(x.shape)
    dx, da = prelu_backward(dout, cache)
    m = torch.nn.PReLU(3).double()
    with torch.no_grad():
        m.weight.copy_(torch.tensor(a))
    t = torch.tensor(x, requires_grad=True)
    m(t).backward(torch.tensor(dout))
    np.testing.assert_allclose(out, m(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx, t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(da, m.weight.grad.numpy(), rtol=1e-10)


def test_prelu_rejects_a_wrong_slope_count(rng) -> None:
    with pytest.raises(EngineError, match="PReLU slopes have shape"):
        prelu_forward(rng.standard_normal((1, 3, 2, 2)), np.ones(2))


def test_prelu_counts_one_or_c_parameters_in_the_analysis() -> None:
    shared = cnnspec.load("8x8x3 Conv(3x3, 16)-PReLU-GAP-FC(2)").report()
    per_channel = cnnspec.load("8x8x3 Conv(3x3, 16)-PReLU(16)-GAP-FC(2)").report()
    assert per_channel.totals.trainable_params - shared.totals.trainable_params == 15
    row = next(r for r in per_channel.layers if r.kind == "prelu")
    assert (row.weights, row.params, row.output) == (16, 16, (6, 6, 16))


def test_prelu_with_a_wrong_count_is_a_located_error() -> None:
    from cnnspec.errors import CnnspecError

    with pytest.raises(CnnspecError, match="num_parameters=3 must be 1") as info:
        cnnspec.load("8x8x3 Conv(3x3, 16)-PReLU(3)").report()
    assert info.value.loc is not None and info.value.loc.column == 27  # the (3)


def test_a_network_of_every_activation_trains_a_step(rng) -> None:
    spec = cnnspec.load("8x8x2 Conv(3x3,4,p=1)-ReLU6-LeakyReLU(0.1)-PReLU(4)-ELU-SiLU-GELU"
                        "-GELU(tanh)-Hardswish-Hardsigmoid-Mish-Softplus(beta=2)-GAP-FC(3)")
    model = spec.build(seed=0, dtype=np.float64)
    x = rng.standard_normal((4, 2, 8, 8))
    loss, grads = model.loss_and_grads(x, np.array([0, 1, 2, 0]))
    assert np.isfinite(loss) and grads["PReLU:1.weight"].shape == (4,)
