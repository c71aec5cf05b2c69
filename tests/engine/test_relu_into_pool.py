"""A ReLU right before a max pool is applied by the pool, to its pooled output.

``maxpool(relu(x)) = relu(maxpool(x))``: the outputs and every gradient must be the
very same numbers as the ReLU and the pool run one after the other.
"""

from __future__ import annotations

import numpy as np
import pytest

import cnnspec
from cnnspec.engine import layers as L
from cnnspec.engine.containers import fused_into
from cnnspec.engine.layers import RunContext

SPEC = ("Conv(3x3,4,p=1)-ReLU-MPool(3,s=2,p=1,ceil=true)-Conv(3x3,6,p=1)-ReLU-APool(2)-"
        "ReLU-MPool(2)-ReLU-GMP-FC(5)")


def build(spec: str = SPEC, fused: bool = True):
    model = cnnspec.load(spec, input_shape="9x9x2", conventions="pytorch").build(
        seed=3, dtype=np.float64)
    if not fused:
        for layer in model.layers:
            if isinstance(layer, L.Activation):
                layer.into_pool = False
            if type(layer) is L.MaxPool:
                layer.relu_first = False
    return model


def kinds(model) -> list[str]:
    return [f"{type(layer).__name__}{'*' if getattr(layer, 'into_pool', False) else ''}"
            f"{'+relu' if getattr(layer, 'relu_first', False) else ''}"
            for layer in model.layers]


def test_only_a_relu_right_before_a_max_pool_goes_into_it() -> None:
    assert kinds(build()) == [
        "Conv", "Activation*", "MaxPool+relu", "Conv", "Activation", "AvgPool",
        "Activation*", "MaxPool+relu", "Activation*", "MaxPool+relu", "Dense"]
    # across containers: the ReLU ends a group, the pool starts the next one
    grouped = cnnspec.load("[Conv(3x3,4,p=1)-ReLU]-MPool(2)-FC(3)",
                           input_shape="8x8x1").build()
    assert not any(getattr(layer, "relu_first", False) for layer in grouped.layers)


def data(n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((n, 2, 9, 9))
    x[0] = -np.abs(x[0])  # windows whose maximum is negative: zero output, zero gradient
    x[1, :, 0:3, 0:3] = 0.75  # exact positive ties: the first maximum takes the gradient
    return x, rng.integers(0, 5, n)


@pytest.mark.parametrize("training", [True, False])
def test_outputs_are_the_same_numbers(training: bool) -> None:
    x, _ = data()
    fused, plain = build(), build(fused=False)
    np.testing.assert_array_equal(fused.forward(x, training=training),
                                  plain.forward(x, training=training))


def test_gradients_are_the_same_numbers() -> None:
    x, y = data()
    fused, plain = build(), build(fused=False)
    loss_f, _ = fused.loss_and_grads(x, y, input_grad=True)
    loss_p, _ = plain.loss_and_grads(x, y, input_grad=True)
    assert loss_f == loss_p
    for name, grad in plain.grads.items():
        np.testing.assert_array_equal(fused.grads[name], grad, err_msg=name)
    dout = np.random.default_rng(2).standard_normal((5, 5))
    fused.forward(x, training=True)
    plain.forward(x, training=True)
    np.testing.assert_array_equal(fused.backward(dout), plain.backward(dout))


def test_a_pool_input_of_nan_or_negatives_gives_what_the_relu_would() -> None:
    x, _ = data()
    x[2, 0, 4, 4] = np.nan
    fused, plain = build(), build(fused=False)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(fused.forward(x), plain.forward(x))


def test_the_relu_row_is_reported_inside_its_pool() -> None:
    model = build()
    inside = fused_into(model.root, RunContext(training=True))
    assert inside == {"ReLU:1": "MPool:1", "ReLU:3": "MPool:2", "ReLU:4": "GMP:1"}
