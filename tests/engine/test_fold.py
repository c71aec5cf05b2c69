"""Batch norm folded into the convolution before it, for inference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cnnspec
from cnnspec.engine import functional as F
from cnnspec.engine.containers import Step, fused_into, steps
from cnnspec.engine.layers import BatchNorm, Conv, RunContext

HERE = Path(__file__).parent


def test_folded_conv_equals_conv_then_batchnorm(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 7, 7))
    w = rng.standard_normal((5, 3, 3, 3))
    gamma, beta = rng.uniform(0.5, 2, 5), rng.standard_normal(5)
    mean, var = rng.standard_normal(5), rng.uniform(0.5, 2, 5)
    for b in (None, rng.standard_normal(5)):
        y, _ = F.conv2d_forward(x, w, b, stride=2, padding=1)
        want, _ = F.batchnorm2d_forward(y, gamma, beta, mean.copy(), var.copy(),
                                        training=False, eps=1e-5)
        w2, b2 = F.fold_batchnorm(w, b, gamma, beta, mean, var, 1e-5)
        got, _ = F.conv2d_forward(x, w2, b2, stride=2, padding=1)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_model_folds_in_inference_only() -> None:
    model = cnnspec.load(str(HERE / "residual_block.yaml")).build(seed=0, dtype=np.float64)
    rng = np.random.default_rng(2)
    for name, value in model.buffers.items():  # statistics that are not the identity
        value[...] = rng.uniform(0.5, 1.5, value.shape) if name.endswith("var") else \
            rng.standard_normal(value.shape)
    x = rng.standard_normal((3, 3, 6, 6))
    folded = model.forward(x)
    # the same layers one by one, nothing folded
    ctx = RunContext(training=False)
    unfolded = x
    for layer in model.root.children:
        unfolded = layer.forward(unfolded, ctx) if not hasattr(layer, "children") else \
            _unfolded(layer, unfolded, ctx)
    np.testing.assert_allclose(folded, unfolded, rtol=1e-10, atol=1e-12)
    fused = [(type(s.layer).__name__, type(s.bn).__name__, s.relu is not None)
             for s in steps(model.root.children, ctx) if s.bn is not None or s.relu]
    assert fused == [("Conv", "BatchNorm", False)]  # Conv:1 + BN:1 (then Tanh, not fused)
    assert list(steps(model.root.children, RunContext(training=True))) == [
        Step(layer) for layer in model.root.children]


@pytest.mark.parametrize("chunk_bytes", [8 * 2**20, 1])
def test_fused_relu_is_the_relu_of_the_conv(chunk_bytes, monkeypatch) -> None:
    """Inference applies a ReLU after a conv (and its folded BN) chunk by chunk: the same
    values as the layers one by one, whole or in one-image chunks."""
    from cnnspec.engine import layers

    monkeypatch.setattr(layers, "INFERENCE_COLUMNS_BYTES", chunk_bytes)
    model = cnnspec.load("Conv(3x3,4,p=1)-BN-ReLU-Conv(3x3,5)-ReLU-ReLU-FC(3)",
                         input_shape="6x6x2").build(seed=0, dtype=np.float64)
    rng = np.random.default_rng(5)
    for name, value in model.buffers.items():
        value[...] = rng.uniform(0.5, 1.5, value.shape) if name.endswith("var") else \
            rng.standard_normal(value.shape)
    x = rng.standard_normal((3, 2, 6, 6))
    ctx = RunContext(training=False)
    assert [(s.layer.name, s.bn is not None, s.relu is not None)
            for s in steps(model.root.children, ctx)] == [
        ("Conv:1", True, True), ("Conv:2", False, True), ("ReLU:3", False, False),
        ("FC:1", False, False)]
    assert fused_into(model.root, ctx) == {"BN:1": "Conv:1", "ReLU:1": "Conv:1",
                                              "ReLU:2": "Conv:2"}
    one_by_one = x
    for layer in model.root.children:
        one_by_one = layer.forward(one_by_one, ctx)
    np.testing.assert_allclose(model.forward(x), one_by_one, rtol=1e-12, atol=1e-12)


def _unfolded(block, x, ctx):
    from cnnspec.engine import containers as C

    if isinstance(block, C.Residual):
        main = x
        for layer in block.body.children:
            main = layer.forward(main, ctx)
        skip = x
        if block.shortcut:
            for layer in block.shortcut.children:
                skip = layer.forward(skip, ctx)
        return main + skip
    for layer in block.children:
        x = layer.forward(x, ctx)
    return x


def test_folding_keeps_the_layers_unchanged() -> None:
    model = cnnspec.load(str(HERE / "residual_block.yaml")).build(seed=0)
    before = model.state_dict()
    model.forward(np.ones((1, 3, 6, 6), dtype=np.float32))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    assert all(layer.cache is None for layer in model.layers
               if isinstance(layer, (Conv, BatchNorm)))


def test_fold_only_where_weights_are_no_larger_than_the_output() -> None:
    model = cnnspec.load("Conv(3x3,64,p=1)-BN-ReLU-GAP-FC(2)", input_shape="2x2x64").build()
    ctx = RunContext(training=False)
    conv, bn = model.root.children[0], model.root.children[1]
    assert isinstance(conv, Conv)
    # weights 64*64*9 = 36,864; output per image 64*2*2 = 256: folds from batch 144 on
    assert not conv.folds_batchnorm(143) and conv.folds_batchnorm(144)
    # either way the conv runs its batch norm and the ReLU after it
    assert [(s.bn, s.relu is not None) for s in steps(model.root.children, ctx)] == [
        (bn, True), (None, False), (None, False)]


@pytest.mark.parametrize("batch", [17, 18])
def test_batchnorm_applied_to_the_product_equals_folding(batch) -> None:
    """Below the fold bound the conv scales and shifts its output; both give the layers'
    own result, in float64 to rounding."""
    model = cnnspec.load("Conv(3x3,8,p=1)-BN-ReLU-GAP-FC(2)", input_shape="2x2x8").build(
        seed=0, dtype=np.float64)
    rng = np.random.default_rng(9)
    for name, value in model.buffers.items():
        value[...] = rng.uniform(0.5, 1.5, value.shape) if name.endswith("var") else \
            rng.standard_normal(value.shape)
    model.params["Conv:1.bias"][...] = rng.standard_normal(8)
    x = rng.standard_normal((batch, 8, 2, 2))
    ctx = RunContext(training=False)
    conv = model.root.children[0]
    # weights 8*8*9 = 576, output per image 8*2*2 = 32: folded from 18 images on
    assert conv.folds_batchnorm(batch) is (batch == 18)
    one_by_one = x
    for layer in model.root.children:
        one_by_one = layer.forward(one_by_one, ctx)
    np.testing.assert_allclose(model.forward(x), one_by_one, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 4, 5, 5), (6, 4)])
def test_inference_batchnorm_is_the_eval_mode_forward(shape) -> None:
    """``s * x + t`` equals the four-pass evaluation form, 2-D and 1-D, any memory order."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape)
    if x.ndim == 4:
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    mean, var = rng.standard_normal(4), rng.uniform(0.5, 2.0, 4)
    op = F.batchnorm2d_forward if x.ndim == 4 else F.batchnorm1d_forward
    expected, _ = op(x, gamma, beta, mean.copy(), var.copy(), training=False, eps=1e-3)
    out = F.batchnorm_inference(x, gamma, beta, mean, var, 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert out.strides == x.strides  # the input's memory order is kept


def test_rows_that_run_inside_a_layer_or_block() -> None:
    """The profile's ``in NAME`` rows: merge rows always, folded BN and fused ReLU in inference."""
    model = cnnspec.load(str(HERE / "residual_block.yaml")).build(seed=0)
    training = fused_into(model.root, RunContext(training=True))
    assert training == {"Residual:1.add": "Residual:1", "Residual:2.add": "Residual:2"}
    inference = fused_into(model.root, RunContext(training=False))
    assert {k: v for k, v in inference.items() if k not in training} == {
        "BN:1": "Conv:1", "BN:2": "Conv:2", "BN:3": "Conv:3", "BN:4": "Conv:4"}
