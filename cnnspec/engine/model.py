"""Build a validated spec into a runnable NumPy network.

Room: engine. The builder walks the spec tree in the same order as the
analysis and takes every layer's name and shapes from the analysis rows, so
the network and the report cannot disagree; each forward pass checks its
shapes against the report.

Layout: NCHW, float32 unless asked otherwise. Parameters are named
``"{row name}.{weight|bias}"`` (``Conv:1.weight``), batch-norm statistics
``"{row name}.running_mean|running_var"``. Conv weights are (K, C/groups, FH, FW);
FC weights are stored (in, out) (PyTorch stores the transpose).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from cnnspec.analysis import Report, analyze
from cnnspec.analysis.block_counts import transition_filters
from cnnspec.analysis.records import LayerRecord, shape_text
from cnnspec.analysis.shapes import same_padding
from cnnspec.conventions import Rounding
from cnnspec.engine import activation_layers as A
from cnnspec.engine import channel_layers as CL
from cnnspec.engine import containers as C
from cnnspec.engine import layers as L
from cnnspec.engine.allocator import keep_freed_memory
from cnnspec.engine.aux import AuxHead, aux_losses, find_heads
from cnnspec.engine.blas import BLAS
from cnnspec.engine.budget import fitting_batch, require_memory
from cnnspec.engine.depthwise_layer import DepthwiseConv
from cnnspec.engine.functional import loss_by_name, softmax_forward
from cnnspec.engine.init import he_normal, xavier_uniform
from cnnspec.engine.shards import ShardWorkers, can_fork, shard_bounds, shard_count, share_arrays
from cnnspec.errors import EngineError
from cnnspec.spec.activation_table import BY_KIND as ACTIVATION_ENTRIES
from cnnspec.spec.activation_table import knob_values
from cnnspec.spec.tree import Network

INITS = ("he", "xavier", "auto")


def _uses_saturating(network: Network) -> bool:
    from cnnspec.analysis.missing import iter_nodes

    return any(n.kind in ("sigmoid", "tanh") for n in iter_nodes(network.layers))


class _Builder:
    """Walks the tree in the analysis' order, pairing each node with its row."""

    def __init__(self, network: Network, report: Report, rng: np.random.Generator,
                 dtype: np.dtype, init: str):
        self.network = network
        self.rows = report.layers
        self.i = 0
        self.rng = rng
        self.dtype = dtype
        self.init = ("xavier" if _uses_saturating(network) else "he") if init == "auto" else init
        weighted = [r.name for r in report.layers if r.main and not r.is_block
                    and r.kind in ("conv", "fc")]
        # the layer producing the logits has no ReLU after it: Xavier's gain 1 fits it
        self.logit_layer = weighted[-1] if weighted and init == "auto" else None

    def next_row(self) -> LayerRecord:
        row = self.rows[self.i]
        self.i += 1
        return row

    def skip_block(self, row: LayerRecord) -> None:
        while self.i < len(self.rows) and self.rows[self.i].depth > row.depth:
            self.i += 1

    def weights(self, shape: tuple[int, ...], fan_in: int, fan_out: int,
                name: str = "") -> np.ndarray:
        if self.init == "xavier" or name == self.logit_layer:
            return xavier_uniform(shape, fan_in=fan_in, fan_out=fan_out, rng=self.rng,
                                  dtype=self.dtype)
        return he_normal(shape, fan_in=fan_in, rng=self.rng, dtype=self.dtype)

    # -- nodes -------------------------------------------------------------------------
    def sequence(self, nodes: list[Any]) -> list[L.Layer]:
        built: list[L.Layer] = []
        for node in nodes:
            layer = self.node(node)
            if layer is not None:
                built.append(layer)
        return built

    def node(self, node: Any) -> L.Layer | None:
        kind = node.kind
        if kind == "expect":
            return None
        if kind == "sequence":
            if node.repeat == 1 and not node.label:
                return C.Sequential(None, self.sequence(node.layers))
            row = self.next_row()
            children: list[L.Layer] = []
            for _ in range(node.repeat):
                children.extend(self.sequence(node.layers))
            return C.Sequential(row, children)
        if kind == "residual":
            row = self.next_row()
            body = C.Sequential(None, self.sequence(node.body))
            shortcut = C.Sequential(None, self.sequence(node.shortcut)) if node.shortcut else None
            return C.Residual(row, body, shortcut, C.Marker(self.next_row()))
        if kind == "concat":
            row = self.next_row()
            branches = [C.Sequential(None, self.sequence(b)) if b else None
                        for b in node.branches]
            return C.Concat(row, branches, C.Marker(self.next_row()))
        if kind == "aux":
            row = self.next_row()
            return AuxHead(row, C.Sequential(None, self.sequence(node.layers)))
        if kind == "gate":
            row = self.next_row()
            body = C.Sequential(None, self.sequence(node.body))
            return CL.Gate(row, body, C.Marker(self.next_row()))
        if kind == "transition":
            row = self.next_row()
            filters = transition_filters(row.input[-1], node.compression)
            return C.Sequential(row, self.sequence(node.expand(filters)))
        if kind == "dual_path":
            row = self.next_row()
            body = C.Sequential(None, self.sequence(node.expand_body()))
            projection = (C.Sequential(None, self.sequence(node.expand_projection()))
                          if node.projection else None)
            return C.DualPath(row, body, projection, node.out, C.Marker(self.next_row()))
        builder = getattr(self, f"leaf_{kind}", None)
        if builder is None and kind in ACTIVATION_ENTRIES:
            builder = self.leaf_activation
        if builder is None:
            raise EngineError(f"the NumPy engine has no layer for kind {kind!r}",
                              node.source.loc if node.source else None,
                              "analyse the spec with `cnnspec analyze`; building needs a "
                              "supported layer")
        return builder(node, self.next_row())

    def leaf_conv(self, node: Any, row: LayerRecord) -> L.Layer:
        h, w, c = row.input
        fh, fw = node.kernel
        k = node.filters
        cg = c // node.groups
        weight = self.weights((k, cg, fh, fw), cg * fh * fw, (k // node.groups) * fh * fw,
                              row.name)
        bias = np.zeros(k, dtype=self.dtype) if row.biases else None
        if node.padding == "same":
            (top, bottom), (left, right) = (same_padding(h, fh, node.stride[0], node.dilation[0]),
                                            same_padding(w, fw, node.stride[1], node.dilation[1]))
        elif node.padding == "valid":
            top = bottom = left = right = 0
        else:
            top = bottom = node.padding[0]
            left = right = node.padding[1]
        if self.network.conventions.rounding_for("conv") is Rounding.CEIL:
            raise EngineError(f"{row.name}: the engine convolves with floor sizes only",
                              hint="use conventions rounding: floor or strict for convolutions")
        if node.groups == c == k and c > 1:  # depthwise: per-tap accumulation, no im2col
            return DepthwiseConv(row, weight, bias, stride=node.stride,
                                 padding=(top, bottom, left, right), dilation=node.dilation,
                                 pad_value=node.pad_value)
        return L.Conv(row, weight, bias, stride=node.stride, padding=(top, bottom, left, right),
                      dilation=node.dilation, groups=node.groups, pad_value=node.pad_value)

    def leaf_pool(self, node: Any, row: LayerRecord) -> L.Layer:
        ceil = node.ceil_mode
        if ceil is None:
            ceil = self.network.conventions.rounding_for("pool") is Rounding.CEIL
        options = {"kernel": node.kernel, "stride": node.stride or node.kernel,
                   "padding": node.padding, "ceil_mode": bool(ceil)}
        if node.mode == "max":
            return L.MaxPool(row, **options)
        if node.mode == "avg":
            return L.AvgPool(row, **options)
        return L.StochasticPool(row, **options)

    def leaf_global_pool(self, node: Any, row: LayerRecord) -> L.Layer:
        if node.mode == "avg":
            return L.GlobalAvgPool(row)
        h, w, _ = row.input
        return L.MaxPool(row, kernel=(h, w), stride=(h, w), padding=0, ceil_mode=False)

    def leaf_adaptive_pool(self, node: Any, row: LayerRecord) -> L.Layer:
        return L.AdaptiveAvgPool(row, tuple(node.output))

    def leaf_fc(self, node: Any, row: LayerRecord) -> L.Layer:
        n_in = int(np.prod(row.input))
        weight = self.weights((n_in, node.units), n_in, node.units, row.name)
        bias = np.zeros(node.units, dtype=self.dtype) if row.biases else None
        return L.Dense(row, weight, bias)

    def leaf_relu(self, node: Any, row: LayerRecord) -> L.Layer:
        return L.Activation(row, node.kind)

    leaf_sigmoid = leaf_tanh = leaf_softmax = leaf_relu

    def leaf_activation(self, node: Any, row: LayerRecord) -> L.Layer:
        return A.Elementwise(row, node.kind, knob_values(node))

    def leaf_prelu(self, node: Any, row: LayerRecord) -> L.Layer:
        return A.PReLU(row, np.full(node.num_parameters, node.init, dtype=self.dtype))

    def leaf_split(self, node: Any, row: LayerRecord) -> L.Layer:
        taken = node.channel_range(row.input[-1])
        assert taken is not None  # the analysis checked the range
        return CL.Split(row, *taken)

    def leaf_shuffle(self, node: Any, row: LayerRecord) -> L.Layer:
        return CL.Shuffle(row, node.groups)

    def leaf_flatten(self, node: Any, row: LayerRecord) -> L.Layer:
        return L.Flatten(row)

    def leaf_dropout(self, node: Any, row: LayerRecord) -> L.Layer:
        return L.Dropout(row, node.p)

    def leaf_lrn(self, node: Any, row: LayerRecord) -> L.Layer:
        return L.LRN(row, size=node.size, alpha=node.alpha, beta=node.beta, k=node.k)

    def leaf_batchnorm(self, node: Any, row: LayerRecord) -> L.Layer:
        return L.BatchNorm(row, row.output[-1], self.dtype, node.eps, node.momentum)

    def leaf_table_conv(self, node: Any, row: LayerRecord) -> L.Layer:
        fh, fw = node.kernel
        links = [(k, c) for k, channels in enumerate(node.connections) for c in channels]
        kernels = [self.weights((1, fh, fw), len(channels) * fh * fw, len(channels) * fh * fw,
                                row.name)
                   for channels in node.connections for _ in channels]
        weight = np.concatenate(kernels)  # (links, FH, FW), in table order
        bias = np.zeros(node.filters, dtype=self.dtype) if row.biases else None
        (ph, pw) = node.padding
        return L.TableConv(row, weight, bias, links, row.input[-1], stride=node.stride,
                           padding=(ph, ph, pw, pw))

    def leaf_subsample(self, node: Any, row: LayerRecord) -> L.Layer:
        if node.kernel[0] != node.kernel[1] or (node.stride or node.kernel) != node.kernel:
            raise EngineError(f"{row.name}: the engine's subsampling takes square, "
                              "non-overlapping blocks", hint="use kernel 2 and no stride")
        return L.Subsample(row, row.output[-1], self.dtype, node.kernel[0])


def expected_shape(row: LayerRecord) -> tuple[int, ...]:
    """The report's output shape in the engine's layout: (C, H, W) or (N,)."""
    if len(row.output) == 3:
        h, w, c = row.output
        return (c, h, w)
    return tuple(row.output)


class Model:
    """A built network: forward, backward, loss, parameters, checkpoints."""

    def __init__(self, network: Network, report: Report, root: C.Sequential, dtype: np.dtype):
        self.network = network
        self.report = report
        self.root = root
        self.dtype = dtype
        self.training = False
        self.rng = np.random.default_rng(0)
        self.layers = root.leaves()
        children = root.children
        self.final_softmax = bool(children) and isinstance(children[-1], L.Activation) and \
            children[-1].kind == "softmax"
        self.body = C.Sequential(None, children[:-1]) if self.final_softmax else root
        self.aux_heads = find_heads(root)  # trained beside the output, skipped at inference
        self.timings: dict[str, list[float]] | None = None
        self.ready_for_backward = False
        self.shard_workers: ShardWorkers | None = None  # for a split batch (shards.py)
        self.splits_batches = True  # False: every pass whole, here (profile, replay)

    # -- shapes ---------------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int, ...]:
        """One example's shape: (C, H, W) (or (N,) for a vector input)."""
        shape = tuple(self.report.input)
        return (shape[2], shape[0], shape[1]) if len(shape) == 3 else shape

    def check_input(self, x: np.ndarray) -> np.ndarray:
        """``x`` as a float batch of :attr:`input_shape`, or an EngineError saying why not."""
        x = np.asarray(x)
        want = self.input_shape
        if x.shape[1:] != want:
            hint = f"give a batch of shape (N, {', '.join(map(str, want))}) (NCHW)"
            if len(want) == 3 and x.ndim == 4 and x.shape[1:] == (want[1], want[2], want[0]):
                hint = "the data is NHWC; transpose it: x.transpose(0, 3, 1, 2)"
            raise EngineError(
                f"input batch has shape {x.shape}, but {self.network.name} takes "
                f"{shape_text(self.report.input)} (H x W x C) images",
                hint=hint,
            )
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        return x

    # -- parameters -------------------------------------------------------------------------
    @property
    def params(self) -> dict[str, np.ndarray]:
        """Every trainable array, by global name (the arrays themselves, not copies)."""
        return {f"{layer.name}.{k}": v for layer in self.layers for k, v in layer.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Gradients from the last backward pass, by global name."""
        return {f"{layer.name}.{k}": v for layer in self.layers for k, v in layer.grads.items()}

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """Non-trainable state (batch-norm running statistics), by global name."""
        return {f"{layer.name}.{k}": v for layer in self.layers for k, v in layer.buffers.items()}

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameters and buffers (copies)."""
        return {k: v.copy() for k, v in {**self.params, **self.buffers}.items()}

    def load_state_dict(self, arrays: dict[str, np.ndarray], *, strict: bool = True,
                        names: set[str] | None = None) -> list[str]:
        """Copy arrays into the model; returns the names loaded.

        ``strict``: every array must exist here with the same shape and every parameter
        must be given. ``names`` limits loading to those layer names (transfer learning).
        """
        own = {**self.params, **self.buffers}
        loaded = []
        for key, value in arrays.items():
            layer = key.rsplit(".", 1)[0]
            if names is not None and layer not in names:
                continue
            if key not in own:
                if strict:
                    raise EngineError(f"the checkpoint has {key!r}, which {self.network.name} "
                                      "does not", hint="load it into the spec it was trained on")
                continue
            if own[key].shape != value.shape:
                raise EngineError(
                    f"layer {layer}: checkpoint array {key!r} has shape {value.shape}, "
                    f"the spec needs {own[key].shape}",
                    hint="the checkpoint was saved from a different spec",
                )
            own[key][...] = value
            loaded.append(key)
        if strict and names is None:
            missing = sorted(set(own) - set(arrays))
            if missing:
                raise EngineError(f"the checkpoint lacks {missing[0]!r}"
                                  + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""),
                                  hint="load it into the spec it was trained on")
        return loaded

    # -- running --------------------------------------------------------------------------
    def forward(self, x: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None, logits: bool = False) -> np.ndarray:
        """The network's output for the batch ``x`` (NCHW).

        ``logits=True`` stops before a final softmax layer. An inference pass on a
        batch large enough runs in shards, one per core (:mod:`cnnspec.engine.shards`).
        """
        x = self.check_input(x)
        shards = 1 if training else self.shard_count(len(x), training=False)
        if shards == 1:
            return self._forward(x, training=training, rng=rng, logits=logits)
        (a, b), *rest = shard_bounds(len(x), shards)
        mine, theirs = self.workers_for(shards).run(
            [("forward", x[c:d], logits) for c, d in rest],
            lambda: self._forward(x[a:b], training=False, rng=rng, logits=logits))
        return np.concatenate([mine, *theirs])

    def _forward(self, x: np.ndarray, *, training: bool, rng: np.random.Generator | None,
                 logits: bool) -> np.ndarray:
        """:meth:`forward` on a checked batch, in this model alone."""
        ctx = L.RunContext(training=training, rng=rng or self.rng)
        net = self.body if logits else self.root
        self.ready_for_backward = False
        out = self._run(net, x, ctx)
        self.ready_for_backward = training
        return np.ascontiguousarray(out)  # a convolution's output may be a transposed view

    # -- shards ---------------------------------------------------------------------------
    def shard_count(self, batch: int, *, training: bool) -> int:
        """Shards a pass over ``batch`` examples runs in (:func:`~.shards.shard_count`).

        1 while layers are being timed (a profile times one pass, not several at once:
        :attr:`timings` or :attr:`splits_batches` off) and, in training, when a layer
        mixes the examples of a batch (batch norm).
        """
        if not self.splits_batches or self.timings is not None or not can_fork() or (
                training and any(layer.mixes_batch for layer in self.layers)):
            return 1
        return shard_count(batch, self.report.totals.macs, BLAS.limit)

    def workers_for(self, shards: int) -> ShardWorkers:
        """Worker processes for ``shards - 1`` shards (forked at the first split pass, and
        again when a pass needs more)."""
        workers = self.shard_workers
        if workers is None or not workers.alive or len(workers) < shards - 1:
            if workers is not None:
                workers.stop()
            self.shard_workers = None  # not forked into the new workers
            self.shard_workers = ShardWorkers(self, shards - 1)
        return self.shard_workers

    def _run(self, net: C.Sequential, x: np.ndarray, ctx: L.RunContext) -> np.ndarray:
        for step in C.steps(net.children, ctx):
            layer = step.layer
            start = time.perf_counter() if self.timings is not None else 0.0
            x = C.run_step(step, x, ctx)
            if self.timings is not None:
                self.timings.setdefault(layer.name, [0.0, 0.0])[0] += time.perf_counter() - start
            row = layer.record
            if row is not None and row.kind != "aux" and x.shape[1:] != expected_shape(row):
                raise EngineError(f"{row.name}: produced {x.shape[1:]} but the analysis says "
                                  f"{expected_shape(row)}")
        return x

    def backward(self, dout: np.ndarray, *, logits: bool = False,
                 input_grad: bool = True) -> np.ndarray | None:
        """Back-propagate ``dL/dout``; parameter gradients land in :attr:`grads`.

        Needs a ``forward(..., training=True)`` just before: inference passes keep no
        intermediate values, and each training pass serves one backward pass.
        Returns ``dL/dx`` for the input ``x``. With ``input_grad=False`` a network
        whose first layer is a convolution skips that layer's input gradient (its
        costliest part) and may return ``None``; parameter gradients are unchanged.
        """
        if not self.ready_for_backward:
            raise EngineError("backward needs a training forward pass just before it",
                              hint="call forward(x, training=True), then backward(dout), once")
        self.ready_for_backward = False
        net = self.body if logits else self.root
        entry = None if input_grad else _entry_conv(net)
        if entry is not None:
            entry.need_dx = False
        try:
            for layer in reversed(net.children):
                start = time.perf_counter() if self.timings is not None else 0.0
                dout = layer.backward(dout)
                if self.timings is not None:
                    self.timings.setdefault(layer.name, [0.0, 0.0])[1] += \
                        time.perf_counter() - start
        finally:
            if entry is not None:
                entry.need_dx = True
        return dout

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Class probabilities (N, K) in inference mode, in batches (smaller ones when a
        batch of ``batch_size`` would not fit in memory)."""
        batch_size = fitting_batch(self.report, batch_size, self.dtype.itemsize)
        outs = []
        for start in range(0, len(x), batch_size):
            z = self.forward(x[start:start + batch_size], logits=True)
            probs, _ = softmax_forward(z.reshape(len(z), -1), axis=1)
            outs.append(probs)
        return np.concatenate(outs) if outs else np.zeros((0, 0), dtype=self.dtype)

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, *, loss: str = "cross_entropy",
                       rng: np.random.Generator | None = None, input_grad: bool = False,
                       aux_weight: float | None = None) -> tuple[float, dict[str, np.ndarray]]:
        """One training forward + backward: ``(loss, grads by parameter name)``.

        ``cross_entropy`` uses the logits (a final softmax layer is folded into the loss,
        computed stably with log-sum-exp); ``squared`` is ``E = 1/2 sum (t - y)^2`` on the
        network's output, averaged over the batch, with ``y`` one-hot or real targets.
        Auxiliary heads add ``aux_weight * L(z_a, y)`` each (see :mod:`cnnspec.engine.aux`;
        ``None``: GoogLeNet's 0.3); the loss returned is the total. The gradient with
        respect to ``x`` is not returned, so by default it is not computed either
        (``input_grad=True`` computes it; see :meth:`backward`).
        """
        total, _, _ = self.train_step(x, y, loss=loss, rng=rng, input_grad=input_grad,
                                      aux_weight=aux_weight)
        return total, self.grads

    def train_step(self, x: np.ndarray, y: np.ndarray, *, loss: str = "cross_entropy",
                   rng: np.random.Generator | None = None, input_grad: bool = False,
                   aux_weight: float | None = None) -> tuple[float, float, np.ndarray]:
        """One training forward + backward: ``(total loss, main loss, scores (N, K))``.

        ``total = main + aux_weight * sum_a L(z_a, y)`` over the auxiliary heads; the
        scores are the logits (``cross_entropy``) or outputs (``squared``) of the main
        output. Parameter gradients are left in :attr:`grads`.
        """
        if loss not in ("cross_entropy", "squared"):
            raise EngineError(f"unknown loss {loss!r}", hint="use cross_entropy or squared")
        if aux_weight is None:
            from cnnspec.engine.train.config import DEFAULT_AUX_WEIGHT as aux_weight
        x, y = self.check_input(x), np.asarray(y)
        shards = self.shard_count(len(x), training=True)
        if shards == 1:
            return self._train_shard(x, y, loss, rng, input_grad, aux_weight, 1.0)
        workers = self.workers_for(shards)
        seeds: list[int | None] = [None] * shards
        if any(layer.draws_random for layer in self.layers):  # a generator per shard
            seeds = [int(s) for s in (rng or self.rng).integers(0, 2**63, size=shards)]
        bounds = shard_bounds(len(x), shards)
        (a, b), first_seed = bounds[0], seeds[0]
        mine, theirs = workers.run(
            [("train", x[c:d], y[c:d], loss, seed, input_grad, aux_weight, (d - c) / len(x))
             for (c, d), seed in zip(bounds[1:], seeds[1:], strict=True)],
            lambda: self._train_shard(
                x[a:b], y[a:b], loss, rng if first_seed is None else
                np.random.default_rng(first_seed), input_grad, aux_weight, (b - a) / len(x)))
        workers.add_grads(self, shards - 1)
        results = [mine, *theirs]
        return (sum(r[0] for r in results), sum(r[1] for r in results),
                np.concatenate([r[2] for r in results]))

    def _train_shard(self, x: np.ndarray, y: np.ndarray, loss: str,
                     rng: np.random.Generator | None, input_grad: bool, aux_weight: float,
                     weight: float) -> tuple[float, float, np.ndarray]:
        """:meth:`train_step` on ``weight = n_i / N`` of the batch: every loss and gradient
        scaled by ``weight`` (1 for the whole batch), so that the shards' add up."""
        logits = loss == "cross_entropy"
        out = self._forward(x, training=True, rng=rng, logits=logits)
        scores = out.reshape(len(out), -1)  # (N, K)
        value, dscores = loss_by_name(scores, y, loss)
        if weight != 1.0:
            dscores = dscores * weight
        extra = aux_losses(self.aux_heads, y, loss, aux_weight * weight)
        self.backward(dscores.reshape(out.shape).astype(out.dtype, copy=False), logits=logits,
                      input_grad=input_grad)
        return weight * float(value) + extra, weight * float(value), scores

    def save(self, path: str, **extra: Any) -> None:
        """Write parameters, buffers and the spec to an ``.npz`` file atomically."""
        from cnnspec.engine.checkpoint import save_checkpoint

        save_checkpoint(path, self, **extra)


def _entry_conv(net: C.Sequential) -> L.Conv | None:
    """The convolution that reads the network input directly, through plain sequences only.

    Residual, concatenation and dual-path blocks also pass the input on by another path,
    so a convolution inside them still needs its input gradient: ``None`` then.
    """
    layer: L.Layer = net
    while type(layer) is C.Sequential and layer.children:
        layer = layer.children[0]
    return layer if isinstance(layer, L.Conv) else None


def build(network: Network, *, seed: int = 0, dtype: Any = np.float32, init: str = "auto",
          report: Report | None = None) -> Model:
    """The NumPy network for ``network``, initialised reproducibly from ``seed``.

    ``init``: ``he`` (Kaiming normal), ``xavier`` (Glorot uniform) or ``auto`` (Xavier
    for networks with sigmoid/tanh, He otherwise, and Xavier for the last weighted layer,
    whose output is the logits). Biases start at zero.
    """
    if init not in INITS:
        raise EngineError(f"unknown initialiser {init!r}", hint="use he, xavier or auto")
    report = report or analyze(network)
    dt = np.dtype(dtype)
    require_memory({"parameters": report.totals.params * dt.itemsize},
                   f"building {network.name} in NumPy ({dt.name})",
                   "use fewer or narrower layers, or a smaller input")
    keep_freed_memory()  # the steps to come reuse what earlier ones freed
    builder = _Builder(network, report, np.random.default_rng(seed), dt, init)
    root = C.Sequential(None, builder.sequence(network.layers))
    model = Model(network, report, root, dt)
    # in memory a forked shard worker shares (shards.py): the updates reach it in place
    share_arrays([t for layer in model.layers for t in (layer.params, layer.buffers)])
    return model

