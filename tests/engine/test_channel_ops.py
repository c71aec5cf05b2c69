"""Gates, channel split and shuffle: values, float64 gradient checks, whole-model gradients."""

from __future__ import annotations

import numpy as np
import pytest

import cnnspec
from cnnspec.engine.functional.channel_ops import (
    gate_backward,
    gate_forward,
    shuffle_backward,
    shuffle_forward,
    split_backward,
    split_forward,
)
from cnnspec.engine.gradcheck import numerical_gradient_array, relative_error
from cnnspec.errors import EngineError

from .helpers import assert_grads_match


@pytest.mark.parametrize("g_shape", [(2, 4, 1, 1), (2, 4, 3, 5), (2, 1, 3, 5)])
def test_gate_gradients(g_shape, rng) -> None:
    x = rng.standard_normal((2, 4, 3, 5))
    g = rng.standard_normal(g_shape)
    out, cache = gate_forward(x, g)
    assert out.shape == x.shape
    dout = rng.standard_normal(out.shape)
    dx, dg = gate_backward(dout, cache)
    assert dg.shape == g.shape
    assert_grads_match(lambda: gate_forward(x, g)[0], {"x": x, "g": g}, {"x": dx, "g": dg},
                       dout, h=1e-3)


def test_gate_rejects_a_shape_that_does_not_broadcast(rng) -> None:
    with pytest.raises(EngineError, match="cannot multiply"):
        gate_forward(rng.standard_normal((1, 4, 3, 3)), rng.standard_normal((1, 2, 1, 1)))


def test_split_takes_a_range_and_routes_the_gradient(rng) -> None:
    x = rng.standard_normal((2, 6, 3, 3))
    out, cache = split_forward(x, 2, 5)
    np.testing.assert_array_equal(out, x[:, 2:5])
    dx = split_backward(np.ones_like(out), cache)
    assert dx[:, 2:5].sum() == out.size and dx[:, :2].sum() == 0 and dx[:, 5:].sum() == 0


def test_shuffle_is_the_shufflenet_permutation_and_backward_inverts_it(rng) -> None:
    x = np.arange(6.0).reshape(1, 6, 1, 1)
    out, cache = shuffle_forward(x, 2)
    # C = g * n = 2 * 3: output channel i*g + j is input channel j*n + i
    assert out.ravel().tolist() == [0, 3, 1, 4, 2, 5]
    np.testing.assert_array_equal(shuffle_backward(out, cache), x)
    y = rng.standard_normal((2, 12, 2, 2))
    out, cache = shuffle_forward(y, 3)
    dout = rng.standard_normal(out.shape)
    assert_grads_match(lambda: shuffle_forward(y, 3)[0], {"y": y},
                       {"y": shuffle_backward(dout, cache)}, dout, h=1e-3)


def test_shuffle_equals_pytorch(rng) -> None:
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 12, 3, 3))
    ref = torch.nn.ChannelShuffle(4)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(shuffle_forward(x, 4)[0], ref)


SE_NET = """
input: 6x6x4
conventions: pytorch
blocks:
  se(c, squeeze):
    - gate: GAP-Conv(1x1, squeeze)-SiLU-Conv(1x1, c)-Sigmoid
architecture:
  - Conv(3x3, 8, p=1)
  - Tanh
  - se(8, 2)
  - concat:
      branches: ["Split(1, 2)", "Split(2, 2)-Conv(1x1, 4)-Tanh"]
  - Shuffle(2)
  - gate: Conv(3x3, 1, p=1)-Sigmoid
  - gate: Conv(1x1, 8)-Tanh
  - GAP
  - FC(3)
"""


def test_whole_network_gradients_through_gates_split_and_shuffle(tmp_path, rng) -> None:
    path = tmp_path / "se.yaml"
    path.write_text(SE_NET)
    model = cnnspec.load(str(path)).build(seed=1, dtype=np.float64)
    x = rng.standard_normal((2, 4, 6, 6))
    out = model.forward(x, training=True)
    dout = rng.standard_normal(out.shape)
    dx = model.backward(dout)
    grads = {k: v.copy() for k, v in model.grads.items()}

    def run() -> np.ndarray:
        return model.forward(x)

    assert relative_error(dx, numerical_gradient_array(run, x, dout)) < 1e-7
    for name in ("Conv:2.weight", "Conv:3.bias", "Conv:4.weight", "Conv:5.weight",
                 "Conv:6.bias"):
        numeric = numerical_gradient_array(run, model.params[name], dout)
        assert relative_error(grads[name], numeric) < 1e-7, name


def test_gate_rows_shapes_params_and_receptive_field(tmp_path) -> None:
    path = tmp_path / "se.yaml"
    path.write_text(SE_NET)
    report = cnnspec.load(str(path)).report()
    rows = {r.name: r for r in report.layers}
    se = rows["se(8, 2)"]
    # GAP, Conv(1x1, 2) = 8*2 + 2, Conv(1x1, 8) = 2*8 + 8; the multiply adds nothing
    assert (se.output, se.params, se.macs) == ((6, 6, 8), 18 + 24, 16 + 16)
    mul = rows["Gate:1.mul"]
    assert (mul.kind, mul.input, mul.output, mul.params, mul.macs) == (
        "gate_merge", (6, 6, 8), (6, 6, 8), 0, 0)
    assert mul.rf_size == (8, 8)  # the GAP spans the 6x6 map after a 3x3 conv: 3 + (6 - 1)
    assert rows["Split:1"].output == (6, 6, 4) and rows["Shuffle:1"].output == (6, 6, 8)
    assert rows["Gate:2.mul"].hyper == "y = x * g, g 6x6x1"


@pytest.mark.parametrize(("text", "message"), [
    ("6x6x4 Split(1, 3)", "4 channels do not split into 3 equal parts"),
    ("6x6x4 Split(start=2, stop=9)", "goes past the input's 4 channels"),
    ("6x6x4 Shuffle(3)", "groups=3 does not divide the 4 channels"),
])
def test_channel_mistakes_are_located_errors(text: str, message: str) -> None:
    from cnnspec.errors import CnnspecError

    with pytest.raises(CnnspecError, match=message) as info:
        cnnspec.load(text).report()
    assert info.value.loc is not None


def test_a_gate_that_cannot_broadcast_is_named(tmp_path) -> None:
    from cnnspec.errors import CnnspecError

    path = tmp_path / "bad.yaml"
    path.write_text("input: 6x6x4\narchitecture:\n  - gate: GAP-Conv(1x1, 3)-Sigmoid\n")
    with pytest.raises(CnnspecError, match="ends at 1x1x3, which cannot multiply") as info:
        cnnspec.load(str(path)).report()
    assert info.value.loc is not None and info.value.loc.line == 3


def test_split_settings_are_validated() -> None:
    from cnnspec.errors import CnnspecError

    with pytest.raises(CnnspecError, match="part 3 of 2 does not exist"):
        cnnspec.load("6x6x4 Split(3, 2)")
    with pytest.raises(CnnspecError, match="give either part and of"):
        cnnspec.load("6x6x4 Split(part=1, stop=2)")
