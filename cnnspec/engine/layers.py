"""Layer objects: each wraps one functional forward/backward pair and its parameters.

Room: engine; imports NumPy, :mod:`cnnspec.engine.functional`, the analysis records
and the spec nodes (read-only).

Layout NCHW. Every layer keeps the cache of its last forward pass, so one
layer object runs once per forward (repeated spec groups build separate
layers). ``params``/``grads``/``buffers`` use local names (``weight``,
``bias``, ``running_mean``, ``running_var``); the model prefixes them with the
layer's row name from the analysis (``Conv:1.weight``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from cnnspec.analysis.records import LayerRecord
from cnnspec.engine import functional as F

# Inference splits a convolution's batch so that its im2col columns stay under this size.
INFERENCE_COLUMNS_BYTES = 8 * 2**20


@dataclass
class RunContext:
    """What a forward pass needs besides the data: mode and randomness."""

    training: bool = False
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))


class Layer(ABC):
    """A leaf layer: ``forward(x, ctx) -> out`` and ``backward(dout) -> dx``.

    ``mixes_batch``: whether a training pass mixes the examples of a batch (batch
    statistics), so that the batch cannot be split into shards; ``draws_random``:
    whether a training pass draws from the run's random generator.
    """

    mixes_batch = False
    draws_random = False

    def __init__(self, record: LayerRecord):
        self.record = record
        self.name = record.name
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.cache: Any = None

    @abstractmethod
    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        """The layer's output for ``x``; keeps what backward needs."""

    @abstractmethod
    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dL/dx`` from ``dL/dout``; stores parameter gradients in ``grads``."""

    def leaves(self) -> list[Layer]:
        """This layer (containers return their children)."""
        return [self]

    def keep(self, cache: Any, ctx: RunContext) -> None:
        """Hold the cache for backward in training; drop it in inference to free memory."""
        self.cache = cache if ctx.training else None


class Conv(Layer):
    """Convolution: ``out[n, f] = sum_c w[f, c] * x[n, c] + b[f]`` (im2col + one GEMM)."""

    def __init__(self, record: LayerRecord, w: np.ndarray, b: np.ndarray | None, *,
                 stride: tuple[int, int], padding: tuple[int, int, int, int],
                 dilation: tuple[int, int], groups: int, pad_value: float):
        super().__init__(record)
        self.params["weight"] = w
        if b is not None:
            self.params["bias"] = b
        self.options = {"stride": stride, "padding": padding, "dilation": dilation,
                        "groups": groups, "pad_value": pad_value}
        # False when the input is data whose gradient nobody reads (the model's first
        # layer in a training step): backward then skips dx and returns None.
        self.need_dx = True
        # The im2col buffer of the last finished backward pass, refilled by the next
        # training forward: a step then reuses its memory instead of faulting in fresh
        # pages. Inference passes do not hold one (their columns are freed at once).
        self.workspace: np.ndarray | None = None

    def conv(self, x: np.ndarray, w: np.ndarray, ctx: RunContext, b: np.ndarray | None = None,
             *, scale: np.ndarray | None = None, relu: bool = False) -> np.ndarray:
        """``conv2d_forward`` with this layer's settings and workspace; keeps the cache.

        ``b`` replaces the layer's bias when given. Inference only: with ``scale`` the
        output is ``scale[f] * (w * x)[f] + b[f]`` (a batch norm applied to the product,
        ``b`` its shift), and ``relu`` writes ``max(0, out)``; both on each chunk of the
        output while it is in cache.
        """
        workspace, self.workspace = self.workspace, None
        if workspace is not None:
            workspace.flags.writeable = True  # the spent cache that marked it is gone
        bias = self.params.get("bias") if b is None else b
        product_bias = bias if scale is None else None  # with a scale, b comes after it
        _, c, _, _ = x.shape
        f, _, kh, kw = w.shape
        out_h, out_w = self.record.output[0], self.record.output[1]
        per_image = c * kh * kw * out_h * out_w * x.itemsize  # im2col bytes of one image
        chunk = max(1, INFERENCE_COLUMNS_BYTES // per_image)
        pointwise = F.columns_are_input((kh, kw), self.options["stride"], self.options["padding"])
        if ctx.training or pointwise or chunk >= len(x):  # pointwise: no columns to chunk
            out, cache = F.conv2d_forward(x, w, product_bias, **self.options,
                                          workspace=workspace, inference=not ctx.training)
            self.keep(cache, ctx)
            _finish(out.transpose(1, 0, 2, 3), scale, bias, relu)  # (F, N, ., .) memory
            return out
        # Inference on a large batch: im2col and GEMM a chunk of images at a time, so
        # the columns stay a few MiB (in cache, and off the memory peak); each chunk's
        # columns are the next one's workspace, and its GEMM writes straight into the
        # chunk's part of the output.
        self.cache = None
        grid = np.empty((f, len(x), out_h, out_w), dtype=np.result_type(x, w))  # (F, N, ., .)
        for start in range(0, len(x), chunk):
            target = grid[:, start:start + chunk].reshape(f, -1)  # a view, rows contiguous
            _, cache = F.conv2d_forward(x[start:start + chunk], w, product_bias,
                                        **self.options, workspace=workspace, out=target)
            _finish(target, scale, bias, relu)
            workspace = cache.cols
        return grid.transpose(1, 0, 2, 3)  # (N, F, out_h, out_w), as one pass would give

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        return self.conv(x, self.params["weight"], ctx)

    def folds_batchnorm(self, batch: int) -> bool:
        """Whether a batch norm after this conv is folded into its weights for ``batch`` images.

        Folding costs a pass over the weights and spares none over the output; applying
        the batch norm to the product costs a pass over the output (in cache, chunk by
        chunk). Folded when the weights are no larger than the output, ``F*C/G*HH*WW <=
        batch * F * out_h * out_w``: at batch 1 the deep layers of a ResNet have far more
        weights than outputs.
        """
        w = self.params["weight"]
        return w.size <= batch * w.shape[0] * self.record.output[0] * self.record.output[1]

    def forward_fused(self, x: np.ndarray, ctx: RunContext, bn: BatchNorm | None = None,
                      relu: bool = False) -> np.ndarray:
        """Inference: this conv, the batch norm ``bn`` after it and a ReLU, in one pass.

        With ``s = gamma / sqrt(var + eps)`` and ``t = s * (b - mean) + beta``
        (:func:`~cnnspec.engine.functional.batchnorm_scale_shift`), batch norm of the conv
        is ``s * (w * x) + t``: either the conv with folded weights ``w' = s * w`` and bias
        ``t`` (:func:`~cnnspec.engine.functional.fold_batchnorm`, when
        :meth:`folds_batchnorm`) or ``s`` and ``t`` applied to the product; with ``relu``,
        ``max(0, .)`` of that. Keeps no cache.
        """
        w = self.params["weight"]
        if bn is None:
            return self.conv(x, w, ctx, relu=relu)
        bn.cache = None
        stats = (bn.params["weight"], bn.params["bias"], bn.buffers["running_mean"],
                 bn.buffers["running_var"], bn.eps)
        if self.folds_batchnorm(len(x)):
            w_folded, b_folded = F.fold_batchnorm(w, self.params.get("bias"), *stats)
            return self.conv(x, w_folded, ctx, b_folded, relu=relu)
        scale, shift = F.batchnorm_scale_shift(*stats, self.params.get("bias"))
        return self.conv(x, w, ctx, shift.astype(w.dtype, copy=False),
                         scale=scale.astype(w.dtype, copy=False), relu=relu)

    def conv_backward(self, dout: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """``conv2d_backward`` on the kept cache: ``(dx or None, dw)``; sets the bias grad.

        The spent cache is dropped and its buffer kept as the next forward's workspace.
        """
        dx, dw, db = F.conv2d_backward(dout, self.cache, need_dx=self.need_dx)
        self.workspace, self.cache = self.cache.cols, None
        if db is not None:
            self.grads["bias"] = db
        return dx, dw

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dx, self.grads["weight"] = self.conv_backward(dout)
        return dx


def _finish(out: np.ndarray, scale: np.ndarray | None, shift: np.ndarray | None,
            relu: bool) -> None:
    """In place on ``out`` (F, ...): ``scale[f] * out[f] + shift[f]`` when ``scale`` is
    given, then ``max(0, out)`` when ``relu``."""
    if scale is not None:
        axes = (-1,) + (1,) * (out.ndim - 1)
        out *= scale.reshape(axes)
        if shift is not None:
            out += shift.reshape(axes)
    if relu:
        np.maximum(out, 0, out=out)


class MaxPool(Layer):
    """Max pooling; the gradient goes to each window's maximum.

    With ``relu_first`` (set by the container for a max pool right after a ReLU, see
    :func:`~cnnspec.engine.containers.mark_relu_into_pool`) it computes
    ``relu(maxpool(x))``, which equals ``maxpool(relu(x))`` because the maximum commutes
    with a non-decreasing map, on the pooled output, a quarter of the input for a 2x2
    pool. Backward: ``dx = maxpool_backward(dout * [out > 0])``, the same gradient: where
    the window's maximum is positive, it is the maximum of ``relu(x)`` too, at the same
    (first) place; where it is not, the ReLU's gradient is 0 throughout the window.
    """

    def __init__(self, record: LayerRecord, **options: Any):
        super().__init__(record)
        self.options = options
        self.relu_first = False

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = F.max_pool2d_forward(x, **self.options, need_index=ctx.training)
        relu_cache = None
        if self.relu_first:  # out is a fresh array: the ReLU runs in place
            out, relu_cache = F.relu_forward(out, out=out)
        self.keep((cache, relu_cache), ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        cache, relu_cache = self.cache
        if relu_cache is not None:
            dout = F.relu_backward(dout, relu_cache)
        return F.max_pool2d_backward(dout, cache)


class AvgPool(MaxPool):
    """Average pooling; the gradient is shared equally over each window."""

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = F.avg_pool2d_forward(x, **self.options)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.avg_pool2d_backward(dout, self.cache)


class StochasticPool(MaxPool):
    """Stochastic pooling: sample ``p_i = a_i / sum a_k`` in training, ``sum p_i a_i`` else."""

    draws_random = True

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = F.stochastic_pool2d_forward(x, **self.options, training=ctx.training,
                                                      rng=ctx.rng)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.stochastic_pool2d_backward(dout, self.cache)


class GlobalAvgPool(Layer):
    """``(N, C, H, W) -> (N, C, 1, 1)`` by averaging each map."""

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = F.global_avg_pool_forward(x)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.global_avg_pool_backward(dout, self.cache)


class AdaptiveAvgPool(Layer):
    """Average pooling into a fixed ``output_size`` grid (PyTorch's bins)."""

    def __init__(self, record: LayerRecord, output_size: tuple[int, int]):
        super().__init__(record)
        self.output_size = output_size

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = F.adaptive_avg_pool2d_forward(x, self.output_size)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.adaptive_avg_pool2d_backward(dout, self.cache)


class Dense(Layer):
    """Fully connected: ``out = flatten(x) @ w + b`` with ``w`` stored (in, out)."""

    def __init__(self, record: LayerRecord, w: np.ndarray, b: np.ndarray | None):
        super().__init__(record)
        self.params["weight"] = w
        if b is not None:
            self.params["bias"] = b
        self.in_shape: tuple[int, ...] = ()

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        self.in_shape = x.shape
        flat = x.reshape(x.shape[0], -1)  # (N, C*H*W), C-major as PyTorch flattens
        out, cache = F.fc_forward(flat, self.params["weight"], self.params.get("bias"))
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dw, db = F.fc_backward(dout, self.cache)
        self.grads["weight"] = dw
        if db is not None:
            self.grads["bias"] = db
        return dx.reshape(self.in_shape)


class Flatten(Layer):
    """``(N, C, H, W) -> (N, C*H*W)`` in C, H, W order."""

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = F.flatten_forward(x)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.flatten_backward(dout, self.cache)


class Activation(Layer):
    """ReLU, sigmoid, tanh or softmax (over the channel axis for volumes)."""

    PAIRS: ClassVar[dict[str, tuple[Any, Any]]] = {
        "relu": (F.relu_forward, F.relu_backward),
        "sigmoid": (F.sigmoid_forward, F.sigmoid_backward),
        "tanh": (F.tanh_forward, F.tanh_backward),
    }

    def __init__(self, record: LayerRecord, kind: str):
        super().__init__(record)
        self.kind = kind
        # True when the input is a fresh array that nothing else reads (set by the
        # container for a ReLU right after a conv or batch norm): ReLU then runs in place.
        self.in_place = False
        # True when the max pool right after it applies it (MaxPool.relu_first): this
        # layer then passes its input and its gradient on unchanged.
        self.into_pool = False

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        if self.into_pool:
            self.cache = None
            return x
        if self.kind == "softmax":
            out, cache = F.softmax_forward(x, axis=1)
            self.keep(cache, ctx)
            return out
        if self.kind == "relu" and self.in_place:
            out, cache = F.relu_forward(x, out=x)
            self.keep(cache, ctx)
            return out
        out, cache = self.PAIRS[self.kind][0](x)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self.into_pool:
            return dout
        if self.kind == "softmax":
            return F.softmax_backward(dout, self.cache)
        return self.PAIRS[self.kind][1](dout, self.cache)


class Dropout(Layer):
    """Inverted dropout: zero with probability p and scale by 1/(1-p) in training."""

    draws_random = True

    def __init__(self, record: LayerRecord, p: float):
        super().__init__(record)
        self.p = p

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = F.dropout_forward(x, self.p, training=ctx.training, rng=ctx.rng)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.dropout_backward(dout, self.cache)


class LRN(Layer):
    """Local response normalisation across channels, the AlexNet formula."""

    def __init__(self, record: LayerRecord, **options: Any):
        super().__init__(record)
        self.options = options

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = F.lrn_forward(x, **self.options)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.lrn_backward(dout, self.cache)


class BatchNorm(Layer):
    """Batch normalisation with running statistics (2-D for volumes, 1-D for vectors)."""

    mixes_batch = True

    def __init__(self, record: LayerRecord, channels: int, dtype: np.dtype, eps: float,
                 momentum: float):
        super().__init__(record)
        self.params["weight"] = np.ones(channels, dtype=dtype)
        self.params["bias"] = np.zeros(channels, dtype=dtype)
        self.buffers["running_mean"] = np.zeros(channels, dtype=dtype)
        self.buffers["running_var"] = np.ones(channels, dtype=dtype)
        self.eps = eps
        self.momentum = momentum

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        if not ctx.training:  # no backward follows: the cache-free two-pass form
            self.cache = None
            return F.batchnorm_inference(x, self.params["weight"], self.params["bias"],
                                         self.buffers["running_mean"],
                                         self.buffers["running_var"], self.eps)
        op = F.batchnorm2d_forward if x.ndim == 4 else F.batchnorm1d_forward
        out, cache = op(x, self.params["weight"], self.params["bias"],
                             self.buffers["running_mean"], self.buffers["running_var"],
                             training=ctx.training, momentum=self.momentum, eps=self.eps)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dgamma, dbeta = F.batchnorm_backward(dout, self.cache)
        self.grads["weight"] = dgamma
        self.grads["bias"] = dbeta
        return dx


class Subsample(Layer):
    """LeNet-1998 trainable subsampling: ``w_c * sum(2x2 block) + b_c``."""

    def __init__(self, record: LayerRecord, channels: int, dtype: np.dtype, size: int):
        super().__init__(record)
        self.params["weight"] = np.full(channels, 0.25, dtype=dtype)
        self.params["bias"] = np.zeros(channels, dtype=dtype)
        self.size = size

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        out, cache = F.subsample_forward(x, self.params["weight"], self.params["bias"],
                                              size=self.size)
        self.keep(cache, ctx)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dw, db = F.subsample_backward(dout, self.cache)
        self.grads["weight"] = dw
        self.grads["bias"] = db
        return dx


class TableConv(Conv):
    """A convolution whose filter ``k`` reads only the channels ``connections[k]``.

    The trainable ``weight`` is (links, FH, FW): one kernel per (filter, channel) link of
    the table, in table order, so its size is the analysis' weight count. It is
    scattered into a full (K, C, FH, FW) kernel whose other entries are zero; the
    gradient is gathered back from the same places.
    """

    def __init__(self, record: LayerRecord, weight: np.ndarray, b: np.ndarray | None,
                 links: list[tuple[int, int]], channels: int, *, stride: tuple[int, int],
                 padding: tuple[int, int, int, int]):
        filters = max(k for k, _ in links) + 1
        full = np.zeros((filters, channels, *weight.shape[1:]), dtype=weight.dtype)
        super().__init__(record, full, b, stride=stride, padding=padding, dilation=(1, 1),
                         groups=1, pad_value=0.0)
        self.rows = np.array([k for k, _ in links])
        self.cols = np.array([c for _, c in links])
        self.params["weight"] = weight

    def forward(self, x: np.ndarray, ctx: RunContext) -> np.ndarray:
        weight = self.params["weight"]
        kernel = np.zeros((self.rows.max() + 1, x.shape[1], *weight.shape[1:]),
                          dtype=weight.dtype)  # (K, C, FH, FW)
        kernel[self.rows, self.cols] = weight
        return self.conv(x, kernel, ctx)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dx, dw = self.conv_backward(dout)
        self.grads["weight"] = dw[self.rows, self.cols]
        return dx
