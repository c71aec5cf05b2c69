"""One cnnspec layer as PyTorch constructor source text.

Room: consumers (export). Produces strings only; torch is never imported here.

Choices that keep the exported module equal to cnnspec's analysis and engine:

* An FC layer reading an H x W x C volume gets an ``nn.Flatten()`` before it
  (C, H, W order, PyTorch's).
* LRN follows the lecture formula ``a / (k + alpha * sum over n/2 either side)^beta``.
  ``nn.LocalResponseNorm`` divides alpha by its size and spans
  ``i - m//2 .. i + (m-1)//2``, so the lecture's size ``n`` is exported as
  ``m = 2*(n//2) + 1`` with ``alpha * m``: the same window and the same value.
* Uneven padding (``same`` with an even kernel, or ceil rounding of a conv) and
  a non-zero ``pad_value`` become an explicit ``nn.ZeroPad2d`` /
  ``nn.ConstantPad2d`` before the layer.
* Softmax is over channels (``dim=1``), the last axis of cnnspec's H x W x C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cnnspec.analysis.records import shape_text
from cnnspec.conventions import Rounding
from cnnspec.errors import ExportError
from cnnspec.export.activation_bridges import TORCH_MODULES, torch_module
from cnnspec.export.padding import conv_window, pool_window
from cnnspec.export.plan import Leaf

ACTIVATIONS = {"relu": "nn.ReLU()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()",
               "softmax": "nn.Softmax(dim=1)", "flatten": "nn.Flatten()"}


@dataclass(frozen=True)
class Entry:
    """One child module; ``suffix`` extends the layer's attribute name (``""``: the layer)."""

    suffix: str
    expr: str
    helper: str | None = None  # a helper class of the generated file this entry needs


def pair_text(pair: tuple[int, int]) -> str:
    """``(3, 3)`` -> ``3``; ``(3, 1)`` -> ``(3, 1)``."""
    return str(pair[0]) if pair[0] == pair[1] else f"({pair[0]}, {pair[1]})"


def comment(leaf_row) -> str:
    """``Conv:1  28x28x6  156 params`` for a row."""
    text = f"{leaf_row.name}  {shape_text(leaf_row.output)}"
    params = leaf_row.trainable
    if params:
        text += f"  {params:,} params"
    if leaf_row.non_trainable:
        text += f" (+{leaf_row.non_trainable:,} running stats)"
    return text


def leaf_entries(leaf: Leaf, conventions) -> list[Entry]:
    """The child module(s) that compute one layer."""
    node, row = leaf.node, leaf.row
    kind = row.kind
    if kind in ACTIVATIONS:
        return [Entry("", ACTIVATIONS[kind])]
    if kind in TORCH_MODULES:
        return [Entry("", torch_module(node))]
    if kind == "conv":
        return _conv(node, row)
    if kind == "pool":
        return _pool(node, row, conventions)
    if kind == "global_pool":
        return [Entry("", f"nn.Adaptive{'Avg' if node.mode == 'avg' else 'Max'}Pool2d(1)")]
    if kind == "adaptive_pool":
        return [Entry("", f"nn.AdaptiveAvgPool2d({tuple(node.output)!r})")]
    if kind == "fc":
        entries = [Entry("_flatten", "nn.Flatten()")] if len(row.input) == 3 else []
        args = f"{math.prod(row.input)}, {row.output[0]}" + ("" if row.biases else ", bias=False")
        return [*entries, Entry("", f"nn.Linear({args})")]
    if kind == "dropout":
        return [Entry("", f"nn.Dropout(p={node.p:g})")]
    if kind == "lrn":
        m = 2 * (node.size // 2) + 1
        return [Entry("", f"nn.LocalResponseNorm({m}, alpha={node.alpha * m:g}, "
                          f"beta={node.beta:g}, k={node.k:g})")]
    if kind == "batchnorm":
        dims = "2d" if len(row.input) == 3 else "1d"
        extra = "" if node.eps == 1e-5 else f", eps={node.eps:g}"
        extra += "" if node.momentum == 0.1 else f", momentum={node.momentum:g}"
        return [Entry("", f"nn.BatchNorm{dims}({row.output[-1]}{extra})")]
    if kind == "split":
        start, stop = node.channel_range(row.input[-1])
        return [Entry("", f"ChannelSlice({start}, {stop})", "ChannelSlice")]
    if kind == "shuffle":
        return [Entry("", f"nn.ChannelShuffle({node.groups})")]
    if kind == "table_conv":
        win = pool_window(node)
        args = [str(row.input[-1]), pair_text(win.kernel), repr(node.connections)]
        if win.stride != (1, 1):
            args.append(f"stride={pair_text(win.stride)}")
        if win.pair != (0, 0):
            args.append(f"padding={pair_text(win.pair)}")
        if not row.biases:
            args.append("bias=False")
        return [Entry("", f"TableConv({', '.join(args)})", "TableConv")]
    if kind == "subsample":
        win = pool_window(node)
        return [Entry("", f"Subsample({row.output[-1]}, {pair_text(win.kernel)}, "
                          f"stride={pair_text(win.stride)})", "Subsample")]
    raise ExportError(f"{row.name}: cannot export {row.type} layers to PyTorch yet")


def _pad_entry(pads: tuple[int, int, int, int], value: float) -> Entry:
    top, bottom, left, right = pads
    order = f"({left}, {right}, {top}, {bottom})"  # PyTorch pads (left, right, top, bottom)
    if value == 0:
        return Entry("_pad", f"nn.ZeroPad2d({order})")
    return Entry("_pad", f"nn.ConstantPad2d({order}, {value:g})")


def _conv(node, row) -> list[Entry]:
    win = conv_window(node, row)
    entries: list[Entry] = []
    padding = win.pair
    if not win.symmetric or (node.pad_value != 0 and any(win.pads)):
        entries.append(_pad_entry(win.pads, node.pad_value))
        padding = (0, 0)
    args = [str(row.input[-1]), str(row.output[-1]), pair_text(win.kernel)]
    if win.stride != (1, 1):
        args.append(f"stride={pair_text(win.stride)}")
    if padding != (0, 0):
        args.append(f"padding={pair_text(padding)}")
    if win.dilation != (1, 1):
        args.append(f"dilation={pair_text(win.dilation)}")
    if node.groups != 1:
        args.append(f"groups={node.groups}")
    if not row.biases:
        args.append("bias=False")
    return [*entries, Entry("", f"nn.Conv2d({', '.join(args)})")]


def pool_ceil(node, conventions) -> bool:
    """True when this pooling layer keeps a last partial window (ceil rounding)."""
    if node.ceil_mode is not None:
        return bool(node.ceil_mode)
    return conventions.rounding_for("pool") is Rounding.CEIL


def _pool(node, row, conventions) -> list[Entry]:
    win = pool_window(node)
    args = [pair_text(win.kernel)]
    if win.stride != win.kernel:
        args.append(f"stride={pair_text(win.stride)}")
    if win.pair != (0, 0):
        args.append(f"padding={pair_text(win.pair)}")
    if pool_ceil(node, conventions):
        args.append("ceil_mode=True")
    if node.mode == "stochastic":
        if win.stride == win.kernel:
            args.append(f"stride={pair_text(win.stride)}")
        return [Entry("", f"StochasticPool2d({', '.join(args)})", "StochasticPool2d")]
    cls = "MaxPool2d" if node.mode == "max" else "AvgPool2d"
    return [Entry("", f"nn.{cls}({', '.join(args)})")]


HELPERS: dict[str, str] = {
    "seq": '''
def seq(**layers: nn.Module) -> nn.Sequential:
    """An ``nn.Sequential`` whose children keep the given names."""
    return nn.Sequential(OrderedDict(layers))
''',
    "Residual": '''
class Residual(nn.Module):
    """``y = body(x) + shortcut(x)``; without a shortcut, ``y = body(x) + x``."""

    def __init__(self, body: nn.Module, shortcut: nn.Module | None = None) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut if shortcut is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)
''',
    "Concat": '''
class Concat(nn.Module):
    """Branches run on the same input, concatenated on channels (``nn.Identity()``: x itself)."""

    def __init__(self, *branches: nn.Module) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)
''',
    "Gate": '''
class Gate(nn.Module):
    """``y = x * body(x)``: the body's output (1x1 per channel, or a map) scales the input."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.body(x)
''',
    "ChannelSlice": '''
class ChannelSlice(nn.Module):
    """The channels ``start`` to ``stop - 1`` of the input (a channel split)."""

    cnnspec_kind = "split"

    def __init__(self, start: int, stop: int) -> None:
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start:self.stop]
''',
    "Subsample": '''
class Subsample(nn.Module):
    """LeNet-5's trainable subsampling: ``weight[c] * sum(block) + bias[c]`` per channel."""

    cnnspec_kind = "subsample"

    def __init__(self, channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None) -> None:
        super().__init__()
        self.kernel_size = nn.modules.utils._pair(kernel_size)
        self.stride = nn.modules.utils._pair(stride or kernel_size)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        area = self.kernel_size[0] * self.kernel_size[1]
        block_sum = nn.functional.avg_pool2d(x, self.kernel_size, self.stride) * area
        return block_sum * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)
''',
    "TableConv": '''
class TableConv(nn.Module):
    """A convolution whose filter k reads only the input channels ``connections[k]``.

    ``weight`` holds one kernel per connection (filter 0's channels first), so the
    parameter count is that of the table, not of a full convolution.
    """

    cnnspec_kind = "table_conv"

    def __init__(self, in_channels: int, kernel_size: int | tuple[int, int],
                 connections: list[list[int]], stride: int | tuple[int, int] = 1,
                 padding: int | tuple[int, int] = 0, bias: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.kernel_size = nn.modules.utils._pair(kernel_size)
        self.stride = nn.modules.utils._pair(stride)
        self.padding = nn.modules.utils._pair(padding)
        self.connections = [list(channels) for channels in connections]
        filters = [k for k, channels in enumerate(connections) for _ in channels]
        inputs = [c for channels in connections for c in channels]
        self.register_buffer("filter_index", torch.tensor(filters), persistent=False)
        self.register_buffer("input_index", torch.tensor(inputs), persistent=False)
        fan_in = [len(connections[k]) * self.kernel_size[0] * self.kernel_size[1]
                  for k in filters]
        bound = torch.tensor(fan_in, dtype=torch.float32).rsqrt().view(-1, 1, 1)
        self.weight = nn.Parameter((torch.rand(len(inputs), *self.kernel_size) * 2 - 1) * bound)
        self.bias = nn.Parameter(torch.zeros(len(connections))) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full = self.weight.new_zeros(len(self.connections), self.in_channels, *self.kernel_size)
        full = full.index_put((self.filter_index, self.input_index), self.weight)
        return nn.functional.conv2d(x, full, self.bias, self.stride, self.padding)
''',
    "DualPath": '''
class DualPath(nn.Module):
    """DPN block: ``[x_res + y_res | x_dense | y_dense]`` with ``y = body(x)``.

    ``x`` is the input, or ``projection(x)`` when given; the first ``out`` channels of
    each are the residual path, the rest the densely connected path.
    """

    cnnspec_kind = "dual_path"

    def __init__(self, out: int, body: nn.Module, projection: nn.Module | None = None) -> None:
        super().__init__()
        self.out = out
        self.body = body
        self.projection = projection

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        s = self.projection(x) if self.projection is not None else x
        return torch.cat([s[:, :self.out] + y[:, :self.out], s[:, self.out:], y[:, self.out:]],
                         dim=1)
''',
    "StochasticPool2d": '''
class StochasticPool2d(nn.Module):
    """Stochastic pooling: p_i = a_i / sum(a) in each window (inputs >= 0, after a ReLU).

    Training picks one a_i with probability p_i; evaluation returns sum(p_i * a_i).
    A window of zeros gives 0.
    """

    cnnspec_kind = "stochastic_pool"

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int],
                 padding: int | tuple[int, int] = 0, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = nn.modules.utils._pair(kernel_size)
        self.stride = nn.modules.utils._pair(stride)
        self.padding = nn.modules.utils._pair(padding)
        self.ceil_mode = ceil_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        # max pooling only to learn the output size under the same rounding
        out_h, out_w = nn.functional.max_pool2d(
            x[:1, :1], self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode
        ).shape[2:]
        kh, kw = self.kernel_size
        extra_h = max(0, (out_h - 1) * self.stride[0] + kh - x.shape[2] - 2 * self.padding[0])
        extra_w = max(0, (out_w - 1) * self.stride[1] + kw - x.shape[3] - 2 * self.padding[1])
        x = nn.functional.pad(x, (self.padding[1], self.padding[1] + extra_w,
                                  self.padding[0], self.padding[0] + extra_h))
        cols = nn.functional.unfold(x, self.kernel_size, stride=self.stride)
        cols = cols.view(n, c, kh * kw, out_h * out_w)  # (N, C, window, positions)
        total = cols.sum(dim=2, keepdim=True)
        probs = cols / total.clamp_min(torch.finfo(cols.dtype).tiny)
        if self.training:
            flat = probs.permute(0, 1, 3, 2).reshape(-1, kh * kw)
            empty = flat.sum(dim=1, keepdim=True) == 0
            pick = torch.multinomial(torch.where(empty, 1.0, flat), 1)
            values = cols.permute(0, 1, 3, 2).reshape(-1, kh * kw).gather(1, pick)
            out = values.view(n, c, out_h * out_w)
        else:
            out = (probs * cols).sum(dim=2)  # (N, C, positions)
        return out.view(n, c, out_h, out_w)
''',
}
