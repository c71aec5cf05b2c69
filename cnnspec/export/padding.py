"""Window geometry of a conv or pool layer, as the exporters need it.

Room: consumers (export). The padding a framework must apply is read from the
spec node; where the analysis's output size needs more (``same`` padding
that is uneven, or ceil rounding of a convolution, which no framework's conv
offers), the extra end padding is derived from the report row's output size,
never from a new size computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnnspec.analysis.records import LayerRecord
from cnnspec.analysis.shapes import same_padding


@dataclass(frozen=True)
class Window:
    """Kernel, stride, dilation and padding ``(top, bottom, left, right)`` of one layer."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pads: tuple[int, int, int, int]

    @property
    def symmetric(self) -> bool:
        """True when top == bottom and left == right (one padding pair suffices)."""
        top, bottom, left, right = self.pads
        return top == bottom and left == right

    @property
    def pair(self) -> tuple[int, int]:
        """``(top, left)``: the padding pair of a symmetric window."""
        return self.pads[0], self.pads[2]


def conv_window(node: Any, row: LayerRecord) -> Window:
    """The geometry of a conv layer whose analysis row is ``row``."""
    h, w = row.input[0], row.input[1]
    kernel, stride, dilation = tuple(node.kernel), tuple(node.stride), tuple(node.dilation)
    if node.padding == "same":
        (top, bottom), (left, right) = (same_padding(h, kernel[0], stride[0], dilation[0]),
                                        same_padding(w, kernel[1], stride[1], dilation[1]))
    elif node.padding == "valid":
        top = bottom = left = right = 0
    else:
        top = bottom = node.padding[0]
        left = right = node.padding[1]
    bottom = max(bottom, _end_padding(h, row.output[0], kernel[0], stride[0], dilation[0], top))
    right = max(right, _end_padding(w, row.output[1], kernel[1], stride[1], dilation[1], left))
    return Window(kernel, stride, dilation, (top, bottom, left, right))  # type: ignore[arg-type]


def pool_window(node: Any) -> Window:
    """The geometry of a pooling (or subsampling) layer."""
    kernel = tuple(node.kernel)
    stride = tuple(node.stride or node.kernel)
    ph, pw = tuple(getattr(node, "padding", (0, 0)))
    return Window(kernel, stride, (1, 1), (ph, ph, pw, pw))  # type: ignore[arg-type]


def _end_padding(n: int, out: int, k: int, s: int, d: int, before: int) -> int:
    """End padding that makes a floor-rounding conv produce ``out`` values."""
    span = d * (k - 1) + 1
    return max(0, (out - 1) * s + span - n - before)
