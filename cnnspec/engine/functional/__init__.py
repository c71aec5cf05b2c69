"""The functional NumPy engine: forward/backward pairs over plain arrays.

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` only.

Conventions (all ops)
---------------------
* Layout NCHW (PyTorch's); float32 by default, float64 for gradient checks;
  the output dtype follows the inputs.
* Dilation 1 is a dense kernel. ``stride``/``dilation`` take an int or
  ``(h, w)``; ``padding`` an int, ``(ph, pw)`` or ``(top, bottom, left, right)``.
* Every op is a pair ``xxx_forward(...) -> (out, cache)`` and
  ``xxx_backward(dout, cache) -> grads``; the cache is a ``NamedTuple``
  owned by the caller (no module state). No op modifies its inputs or
  ``dout``, except that batch norm updates ``running_mean``/``running_var``
  in place in training (as ``torch.nn.functional.batch_norm``). Outputs may
  be views of inputs (flatten; dropout and identity paths at inference):
  treat every array as read-only.
* User problems (bad shapes, settings) raise :class:`cnnspec.errors.EngineError`.
* Randomness (dropout, stochastic pooling) only from an ``np.random.Generator``
  passed in.
* Output sizes floor: ``out = (n + p_before + p_after - d*(k-1) - 1) // s + 1``.
  Pooling also offers ``ceil_mode``. Callers that want the lecture's strict
  rule (size must divide exactly) check it before calling.

Ops (forward signature -> backward result)
------------------------------------------
Convolution (``conv``)::

    conv2d_forward(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1,
                   pad_value=0.0, workspace=None, out=None, inference=False)
        -> (out (N, F, out_h, out_w), Conv2dCache)
        x (N, C, H, W), w (F, C/groups, HH, WW), b (F,) or None; workspace: an
        optional buffer for the columns (a spent cache's ``cols``, see conv.py);
        out: an (F, N*out_h*out_w) target; inference: a 1x1 conv may read x in place
    columns_are_input(kernel, stride, padding) -> bool   # 1x1, stride 1, no padding
    conv2d_backward(dout, cache, *, need_dx=True) -> (dx or None, dw, db or None)
        # consumes the cache (its im2col buffer is reused for the column
        # gradient); a second backward on the same cache raises EngineError

Pooling (``pool``, ``stochastic_pool``, ``global_pool``)::

    max_pool2d_forward(x, kernel, *, stride=None, padding=0, dilation=1,
                       ceil_mode=False) -> (out, MaxPool2dCache)
    max_pool2d_backward(dout, cache) -> dx
    avg_pool2d_forward(x, kernel, *, stride=None, padding=0, ceil_mode=False,
                       count_include_pad=True) -> (out, AvgPool2dCache)
    avg_pool2d_backward(dout, cache) -> dx
    stochastic_pool2d_forward(x, kernel, *, stride=None, padding=0, ceil_mode=False,
                              training, rng=None) -> (out, StochasticPool2dCache)
    stochastic_pool2d_backward(dout, cache) -> dx
    global_avg_pool_forward(x) -> (out (N, C, 1, 1), GlobalAvgPoolCache)
    global_avg_pool_backward(dout, cache) -> dx
    adaptive_avg_pool2d_forward(x, output_size) -> (out, AdaptiveAvgPool2dCache)
    adaptive_avg_pool2d_backward(dout, cache) -> dx

Activations (``activations``; any shape)::

    relu_forward(x) / relu_backward(dout, cache) -> dx
    leaky_relu_forward(x, negative_slope=0.01) / leaky_relu_backward(dout, cache) -> dx
    sigmoid_forward(x) / sigmoid_backward(dout, cache) -> dx
    tanh_forward(x) / tanh_backward(dout, cache) -> dx
    softmax_forward(x, axis=-1) / softmax_backward(dout, cache) -> dx

Fully connected and flatten (``linear``)::

    fc_forward(x (N, D), w (D, M), b (M,) or None) -> (out (N, M), FcCache)
    fc_backward(dout, cache) -> (dx, dw, db or None)
    flatten_forward(x (N, C, H, W)) -> (out (N, C*H*W), FlattenCache)   # C, H, W order
    flatten_backward(dout, cache) -> dx

Normalisation and dropout (``norm``)::

    batchnorm2d_forward(x (N, C, H, W), gamma, beta, running_mean, running_var, *,
                        training, momentum=0.1, eps=1e-5) -> (out, BatchNormCache)
    batchnorm1d_forward(x (N, C), ...same...) -> (out, BatchNormCache)
    batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)
    batchnorm_inference(x, gamma, beta, running_mean, running_var, eps) -> out   # s*x + t
    batchnorm_scale_shift(gamma, beta, running_mean, running_var, eps, b=None) -> (s, t)
    lrn_forward(x, *, size=5, alpha=1e-4, beta=0.75, k=2.0, alpha_over_n=False,
                torch_window=False) -> (out, LrnCache)
    lrn_backward(dout, cache) -> dx
    dropout_forward(x, p, *, training, rng=None) -> (out, DropoutCache)
    dropout_backward(dout, cache) -> dx

LeNet subsampling (``subsample``)::

    subsample_forward(x, w (C,), b (C,), *, size=2) -> (out (N, C, H//2, W//2), SubsampleCache)
    subsample_backward(dout, cache) -> (dx, dw, db)

Merging branches (``merge``)::

    add_forward(a, b) -> (out, AddCache);  add_backward(dout, cache) -> (da, db)
    concat_forward(xs, axis=1) -> (out, ConcatCache);  concat_backward(dout, cache) -> [dx, ...]

Losses (``losses``; mean over the batch)::

    softmax_cross_entropy(logits (N, K), target (N,) int or (N, K)) -> (loss, dlogits)
    squared_error_loss(y, t) -> (loss, dy)      # 1/(2N) sum (t - y)^2
    loss_by_name(scores (N, K), y, "cross_entropy" | "squared") -> (loss, dscores)

Test oracles (loops): ``conv2d_forward_naive``/``conv2d_backward_naive``,
``max_pool2d_forward_naive``/``max_pool2d_backward_naive``,
``avg_pool2d_forward_naive``/``avg_pool2d_backward_naive``,
``stochastic_pool2d_forward_naive``, ``adaptive_avg_pool2d_forward_naive``,
``lrn_forward_naive``, ``subsample_forward_naive``.
"""

from cnnspec.engine.functional.activations import (
    LeakyReluCache,
    OutCache,
    ReluCache,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)
from cnnspec.engine.functional.conv import (
    Conv2dCache,
    columns_are_input,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_naive,
)
from cnnspec.engine.functional.global_pool import (
    AdaptiveAvgPool2dCache,
    GlobalAvgPoolCache,
    adaptive_avg_pool2d_backward,
    adaptive_avg_pool2d_forward,
    adaptive_avg_pool2d_forward_naive,
    global_avg_pool_backward,
    global_avg_pool_forward,
)
from cnnspec.engine.functional.linear import (
    FcCache,
    FlattenCache,
    fc_backward,
    fc_forward,
    flatten_backward,
    flatten_forward,
)
from cnnspec.engine.functional.losses import (
    loss_by_name,
    softmax_cross_entropy,
    squared_error_loss,
)
from cnnspec.engine.functional.merge import (
    AddCache,
    ConcatCache,
    add_backward,
    add_forward,
    concat_backward,
    concat_forward,
)
from cnnspec.engine.functional.norm import (
    BatchNormCache,
    DropoutCache,
    LrnCache,
    batchnorm1d_forward,
    batchnorm2d_forward,
    batchnorm_backward,
    batchnorm_inference,
    batchnorm_scale_shift,
    dropout_backward,
    dropout_forward,
    fold_batchnorm,
    lrn_backward,
    lrn_forward,
    lrn_forward_naive,
)
from cnnspec.engine.functional.pool import (
    AvgPool2dCache,
    MaxPool2dCache,
    PoolGeometry,
    avg_pool2d_backward,
    avg_pool2d_backward_naive,
    avg_pool2d_forward,
    avg_pool2d_forward_naive,
    max_pool2d_backward,
    max_pool2d_backward_naive,
    max_pool2d_forward,
    max_pool2d_forward_naive,
)
from cnnspec.engine.functional.stochastic_pool import (
    StochasticPool2dCache,
    stochastic_pool2d_backward,
    stochastic_pool2d_forward,
    stochastic_pool2d_forward_naive,
)
from cnnspec.engine.functional.subsample import (
    SubsampleCache,
    subsample_backward,
    subsample_forward,
    subsample_forward_naive,
)

__all__ = [
    "AdaptiveAvgPool2dCache",
    "AddCache",
    "AvgPool2dCache",
    "BatchNormCache",
    "ConcatCache",
    "Conv2dCache",
    "DropoutCache",
    "FcCache",
    "FlattenCache",
    "GlobalAvgPoolCache",
    "LeakyReluCache",
    "LrnCache",
    "MaxPool2dCache",
    "OutCache",
    "PoolGeometry",
    "ReluCache",
    "StochasticPool2dCache",
    "SubsampleCache",
    "adaptive_avg_pool2d_backward",
    "adaptive_avg_pool2d_forward",
    "adaptive_avg_pool2d_forward_naive",
    "add_backward",
    "add_forward",
    "avg_pool2d_backward",
    "avg_pool2d_backward_naive",
    "avg_pool2d_forward",
    "avg_pool2d_forward_naive",
    "batchnorm1d_forward",
    "batchnorm2d_forward",
    "batchnorm_backward",
    "batchnorm_inference",
    "batchnorm_scale_shift",
    "columns_are_input",
    "concat_backward",
    "concat_forward",
    "conv2d_backward",
    "conv2d_backward_naive",
    "conv2d_forward",
    "conv2d_forward_naive",
    "dropout_backward",
    "dropout_forward",
    "fc_backward",
    "fc_forward",
    "flatten_backward",
    "flatten_forward",
    "fold_batchnorm",
    "global_avg_pool_backward",
    "global_avg_pool_forward",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "loss_by_name",
    "lrn_backward",
    "lrn_forward",
    "lrn_forward_naive",
    "max_pool2d_backward",
    "max_pool2d_backward_naive",
    "max_pool2d_forward",
    "max_pool2d_forward_naive",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_backward",
    "softmax_cross_entropy",
    "softmax_forward",
    "squared_error_loss",
    "stochastic_pool2d_backward",
    "stochastic_pool2d_forward",
    "stochastic_pool2d_forward_naive",
    "subsample_backward",
    "subsample_forward",
    "subsample_forward_naive",
    "tanh_backward",
    "tanh_forward",
]
