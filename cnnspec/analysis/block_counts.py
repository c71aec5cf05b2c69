"""Channel and weight arithmetic of the composite blocks (DenseNet, DPN, LeNet-5's C3).

Room: analysis; pure integers.
"""

from __future__ import annotations

import math
from fractions import Fraction


def transition_filters(channels: int, compression: float) -> int:
    """Output channels of a DenseNet transition: ``floor(theta * C)``.

    ``theta`` is read as the decimal the user wrote (0.3 is 3/10, not the nearest
    binary fraction), so ``floor(0.3 * 10) = 3``.
    """
    return math.floor(Fraction(str(compression)) * channels)


def dense_block_channels(channels: int, layers: int, growth: int) -> int:
    """Channels after a dense block of ``L`` layers with growth rate ``k``: ``C + L*k``."""
    return channels + layers * growth


def dual_path_channels(channels: int, out: int, inc: int, projection: bool) -> tuple[int, int]:
    """Dense-path width entering a DPN block and the block's output channels.

    Without projection the input ``C`` is ``[res (out) | dense (D)]``, so ``D = C - out``;
    with projection a 1x1 convolution makes ``out + 2*inc`` channels, so ``D = 2*inc``.
    The output is ``out + D + inc`` (the residual path keeps its width, the dense path
    grows by ``inc``). Returns ``(D, out + D + inc)``.
    """
    dense = 2 * inc if projection else channels - out
    return dense, out + dense + inc


def table_conv_weights(fh: int, fw: int, connections: list[list[int]]) -> int:
    """Weights of a partially connected convolution: ``FH * FW * sum_k |connections[k]|``."""
    return fh * fw * sum(len(c) for c in connections)


def table_conv_macs(out_h: int, out_w: int, fh: int, fw: int,
                    connections: list[list[int]]) -> int:
    """Multiply-accumulates of it: ``H_out * W_out * FH * FW * sum_k |connections[k]|``."""
    return out_h * out_w * table_conv_weights(fh, fw, connections)
