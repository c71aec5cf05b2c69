"""Depthwise convolution by per-tap accumulation: the naive oracle, gradients, PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import cnnspec
from cnnspec.engine.depthwise_layer import DepthwiseConv
from cnnspec.engine.functional.conv import conv2d_forward
from cnnspec.engine.functional.depthwise import (
    depthwise_conv2d_backward,
    depthwise_conv2d_forward,
    depthwise_conv2d_forward_naive,
)

from .helpers import assert_grads_match

SETTINGS = [((1, 1), (1, 1, 1, 1), (1, 1)), ((2, 2), (1, 1, 1, 1), (1, 1)),
            ((2, 1), (0, 1, 2, 0), (2, 1)), ((1, 1), (0, 0, 0, 0), (1, 2))]


@pytest.mark.parametrize(("stride", "padding", "dilation"), SETTINGS)
def test_forward_equals_the_oracle_and_grouped_im2col(stride, padding, dilation, rng) -> None:
    x = rng.standard_normal((2, 5, 9, 8))
    w = rng.standard_normal((5, 1, 3, 3))
    b = rng.standard_normal(5)
    out, _ = depthwise_conv2d_forward(x, w, b, stride=stride, padding=padding,
                                      dilation=dilation)
    np.testing.assert_allclose(out, depthwise_conv2d_forward_naive(x, w, b, stride, padding,
                                                                   dilation), rtol=1e-12)
    ref, _ = conv2d_forward(x, w, b, stride=stride, padding=padding, dilation=dilation,
                            groups=5)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("stride", "padding", "dilation"), SETTINGS)
def test_gradients_match_finite_differences(stride, padding, dilation, rng) -> None:
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((3, 1, 3, 2))
    b = rng.standard_normal(3)
    out, cache = depthwise_conv2d_forward(x, w, b, stride=stride, padding=padding,
                                          dilation=dilation)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = depthwise_conv2d_backward(dout, cache)

    def run() -> np.ndarray:
        return depthwise_conv2d_forward(x, w, b, stride=stride, padding=padding,
                                        dilation=dilation)[0]

    assert_grads_match(run, {"x": x, "w": w, "b": b}, {"x": dx, "w": dw, "b": db}, dout,
                       h=1e-3)


def test_equals_pytorch_forward_and_backward(rng) -> None:
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 6, 10, 10))
    w = rng.standard_normal((6, 1, 3, 3))
    out, cache = depthwise_conv2d_forward(x, w, None, stride=(2, 2), padding=(1, 1, 1, 1))
    dout = rng.standard_normal(out.shape)
    dx, dw, db = depthwise_conv2d_backward(dout, cache)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ref = torch.nn.functional.conv2d(tx, tw, stride=2, padding=1, groups=6)
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-10)
    assert db is None


def test_the_builder_uses_it_for_groups_equal_to_channels() -> None:
    model = cnnspec.load("8x8x4 Conv(3x3, 4, p=1, g=4)-Conv(3x3, 8, p=1, g=4)-GAP-FC(2)").build()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[:2] == ["DepthwiseConv", "Conv"]  # a channel multiplier of 2 stays im2col
    assert isinstance(model.layers[0], DepthwiseConv)
    assert model.params["Conv:1.weight"].shape == (4, 1, 3, 3)
