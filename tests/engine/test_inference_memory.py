"""Inference keeps no caches, and its traced peak stays near the analysis' inference estimate."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np

import cnnspec
from cnnspec.analysis.memory import inference_memory
from cnnspec.engine import layers as L
from cnnspec.engine.profile import memory_estimate

HERE = Path(__file__).parent
# 1x1 convolutions: their scratch columns are one activation in size, so a pass that
# kept its activations would hold all 21 of them, one that frees them about 4
DEEP = "-".join(["Conv(1x1,16)-ReLU"] * 10) + "-GAP-FC(4)"


def test_inference_estimate_lenet5() -> None:
    report = cnnspec.load("lenet5").report()
    # the largest live set is ReLU:1's input and output, 2 * 28*28*6 values
    assert inference_memory(report.layers, report.totals.params, 1, 4) == {
        "parameters": 61_706 * 4, "activations": 2 * 4704 * 4}


def test_inference_estimate_counts_what_residual_blocks_hold() -> None:
    report = cnnspec.load(str(HERE / "residual_block.yaml")).report()
    # Conv:2 inside Residual:1: in 6*6*4 + out 3*3*6 + the block input 6*6*4 held for
    # the shortcut = 342 values per example
    assert inference_memory(report.layers, report.totals.params, 2, 4) == {
        "parameters": report.totals.params * 4, "activations": 2 * 342 * 4}


def test_inference_keeps_no_cache() -> None:
    model = cnnspec.load(str(HERE / "residual_block.yaml")).build(seed=0)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    model.forward(x, training=True)
    assert any(layer.cache is not None for layer in model.layers)  # training keeps them
    model.backward(np.ones((2, 3), dtype=np.float32))
    model.predict(x)
    model.forward(x)
    for layer in model.layers:
        assert layer.cache is None, layer.name
        if isinstance(layer, L.Conv):
            assert layer.workspace is None, layer.name
    residual = [c for c in model.root.children if c.cache is not None]
    assert residual == []


def test_predict_peak_is_near_the_inference_estimate() -> None:
    model = cnnspec.load(DEEP, input_shape="32x32x16").build(seed=0)
    x = np.random.default_rng(1).standard_normal((64, 16, 32, 32)).astype(np.float32)
    model.predict(x[:2])  # warm-up
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    model.predict(x, batch_size=64)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    estimate = memory_estimate(model, 64, backward=False)["activations"]
    one_activation = 64 * 16 * 32 * 32 * 4
    assert estimate == 2 * one_activation
    kept_all = 21 * one_activation
    # in, columns, GEMM output and NCHW output at most: about twice the estimate
    assert peak - before <= 2.2 * estimate < kept_all / 4


def test_max_pool_without_index_gives_the_same_output() -> None:
    import pytest

    from cnnspec.engine import functional as F
    from cnnspec.errors import EngineError

    x = np.random.default_rng(3).standard_normal((2, 3, 9, 9))
    tracked, cache = F.max_pool2d_forward(x, 3, stride=2, padding=1)
    fast, light = F.max_pool2d_forward(x, 3, stride=2, padding=1, need_index=False)
    np.testing.assert_array_equal(fast, tracked)
    assert cache.idx is not None and light.idx is None
    with pytest.raises(EngineError, match="inference pass"):
        F.max_pool2d_backward(np.ones_like(fast), light)


def test_inference_conv_in_chunks_matches_one_pass(monkeypatch) -> None:
    model = cnnspec.load(str(HERE / "residual_block.yaml")).build(seed=0, dtype=np.float64)
    x = np.random.default_rng(4).standard_normal((7, 3, 6, 6))
    whole = model.forward(x)
    # one image's columns of Conv:1 are 27*36*8 bytes: a budget of 2 images' worth
    monkeypatch.setattr(L, "INFERENCE_COLUMNS_BYTES", 2 * 27 * 36 * 8)
    chunked = model.forward(x)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-14)
    assert all(layer.cache is None for layer in model.layers)


def test_relu_after_conv_runs_in_place_with_the_same_results() -> None:
    spec = "Conv(3x3,4,p=1)-ReLU-APool(2)-ReLU-Conv(3x3,4,p=1)-BN-ReLU-FC(3)"
    model = cnnspec.load(spec, input_shape="6x6x2").build(seed=0, dtype=np.float64)
    relus = [layer for layer in model.layers if isinstance(layer, L.Activation)]
    # after a conv and after a batch norm: in place; after the pooling: not
    assert [r.in_place for r in relus] == [True, False, True]
    x = np.random.default_rng(5).standard_normal((3, 2, 6, 6))
    y = np.random.default_rng(6).integers(0, 3, 3)
    loss, grads = model.loss_and_grads(x, y)
    grads = {k: v.copy() for k, v in grads.items()}
    kept = {}
    conv = model.layers[0]
    original = conv.forward_fused

    def watched(x, ctx, bn=None, relu=False):
        kept["out"], kept["relu"] = original(x, ctx, bn, relu), relu
        return kept["out"]

    conv.forward_fused = watched
    model.forward(x)
    # in inference the conv applies the ReLU to its own output, which the ReLU layer skips
    assert kept["relu"] and kept["out"].min() >= 0
    for relu in relus:
        relu.in_place = False
    again, grads_copy = model.loss_and_grads(x, y)
    assert again == loss
    for key, value in grads.items():
        np.testing.assert_array_equal(grads_copy[key], value)
