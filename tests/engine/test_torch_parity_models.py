"""Whole networks against PyTorch: outputs and parameter gradients (skipped without torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cnnspec

torch = pytest.importorskip("torch")
tf = torch.nn.functional

HERE = Path(__file__).parent


def to_torch(model) -> dict[str, torch.Tensor]:
    """The model's parameters as float64 leaf tensors that require gradients."""
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
            for k, v in model.params.items()}


def compare(model, x: np.ndarray, y: np.ndarray, forward) -> None:
    params = to_torch(model)
    buffers = {k: torch.tensor(v, dtype=torch.float64) for k, v in model.buffers.items()}
    logits = forward(torch.tensor(x, dtype=torch.float64), params, buffers)
    loss = tf.cross_entropy(logits, torch.tensor(y))
    loss.backward()
    ours, grads = model.loss_and_grads(x, y)
    assert ours == pytest.approx(loss.item(), rel=1e-9)
    for name, tensor in params.items():
        np.testing.assert_allclose(grads[name], tensor.grad.numpy(), rtol=1e-5, atol=1e-9,
                                   err_msg=name)
    # inference output too (batch norm in eval mode uses the running statistics)
    with torch.no_grad():
        eval_buffers = {k: torch.tensor(v, dtype=torch.float64) for k, v in model.buffers.items()}
        expected = tf.softmax(forward(torch.tensor(x, dtype=torch.float64), params, eval_buffers,
                                      training=False), dim=1)
    np.testing.assert_allclose(model.predict(x), expected.numpy(), rtol=1e-5, atol=1e-12)


def test_lenet5() -> None:
    spec = "Conv(5x5,6)-ReLU-MPool(2)-Conv(5x5,16)-ReLU-MPool(2)-FC(120)-ReLU-FC(84)-ReLU-FC(10)-SM"
    model = cnnspec.load(spec, input_shape="32x32x1").build(seed=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 1, 32, 32)), rng.integers(0, 10, 4)

    def forward(t, p, b, training=True):
        t = tf.max_pool2d(tf.relu(tf.conv2d(t, p["Conv:1.weight"], p["Conv:1.bias"])), 2)
        t = tf.max_pool2d(tf.relu(tf.conv2d(t, p["Conv:2.weight"], p["Conv:2.bias"])), 2)
        t = t.flatten(1)
        t = tf.relu(t @ p["FC:1.weight"] + p["FC:1.bias"])
        t = tf.relu(t @ p["FC:2.weight"] + p["FC:2.bias"])
        return t @ p["FC:3.weight"] + p["FC:3.bias"]

    compare(model, x, y, forward)


def test_residual_block_with_batch_norm() -> None:
    model = cnnspec.load(HERE / "residual_block.yaml").build(seed=1, dtype=np.float64)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((4, 3, 6, 6)), rng.integers(0, 3, 4)

    def bn(t, p, b, name, training):
        return tf.batch_norm(t, b[f"{name}.running_mean"].clone(), b[f"{name}.running_var"].clone(),
                             p[f"{name}.weight"], p[f"{name}.bias"], training=training,
                             momentum=0.1, eps=1e-5)

    def forward(t, p, b, training=True):
        t = torch.tanh(bn(tf.conv2d(t, p["Conv:1.weight"], padding=1), p, b, "BN:1", training))
        body = torch.tanh(bn(tf.conv2d(t, p["Conv:2.weight"], p["Conv:2.bias"], stride=2,
                                       padding=1), p, b, "BN:2", training))
        body = bn(tf.conv2d(body, p["Conv:3.weight"], p["Conv:3.bias"], padding=1), p, b, "BN:3",
                  training)
        skip = bn(tf.conv2d(t, p["Conv:4.weight"], p["Conv:4.bias"], stride=2), p, b, "BN:4",
                  training)
        t = torch.tanh(body + skip)
        t = t + torch.tanh(tf.conv2d(t, p["Conv:5.weight"], p["Conv:5.bias"], padding=1))
        t = t.mean(dim=(2, 3))
        return t @ p["FC:1.weight"] + p["FC:1.bias"]

    compare(model, x, y, forward)


def test_inception_block() -> None:
    spec = HERE / "inception_block.yaml"
    model = cnnspec.load(spec).build(seed=2, dtype=np.float64)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 4, 8, 8)), rng.integers(0, 5, 3)

    def conv(t, p, name, **kw):
        return tf.relu(tf.conv2d(t, p[f"{name}.weight"], p[f"{name}.bias"], **kw))

    def forward(t, p, b, training=True):
        a = conv(t, p, "Conv:1")
        c = conv(conv(t, p, "Conv:2"), p, "Conv:3", padding=1)
        d = conv(conv(t, p, "Conv:4"), p, "Conv:5", padding=2)
        e = conv(tf.max_pool2d(t, 3, stride=1, padding=1), p, "Conv:6")
        t = torch.cat([a, c, d, e], dim=1)
        t = tf.local_response_norm(t, 5, alpha=5 * 1e-4, beta=0.75, k=2.0)
        t = tf.adaptive_avg_pool2d(t, (2, 2)).flatten(1)
        return t @ p["FC:1.weight"] + p["FC:1.bias"]

    compare(model, x, y, forward)
