"""Layers written in cnnspec's notation, for specs the importers produce.

Room: consumers (export). Every function returns the text one layer has in a
network string (``Conv(3x3, 64, s=2, p=1, bias=false)``); the loader reads it
back, so an imported spec looks like one a person wrote.
"""

from __future__ import annotations


def size_text(pair: tuple[int, int] | list[int]) -> str:
    """``(3, 3)`` -> ``3x3``."""
    return f"{pair[0]}x{pair[1]}"


def short_pair(pair: tuple[int, int] | list[int]) -> str:
    """``(2, 2)`` -> ``2``; ``(2, 1)`` -> ``2x1``."""
    return str(pair[0]) if pair[0] == pair[1] else size_text(pair)


def number(value: float) -> str:
    """A float without noise: ``0.0001`` -> ``0.0001``; ``2.0`` -> ``2``."""
    return f"{value:.6g}"


def conv_text(kernel, filters: int, *, stride=(1, 1), padding: tuple[int, int] | str = (0, 0),
              dilation=(1, 1), groups: int = 1, bias: bool = True,
              pad_value: float = 0.0) -> str:
    """``Conv(3x3, 64, s=2, p=1)``."""
    args = [size_text(kernel), str(filters)]
    if tuple(stride) != (1, 1):
        args.append(f"s={short_pair(stride)}")
    if isinstance(padding, str):
        args.append(f"p={padding}")
    elif tuple(padding) != (0, 0):
        args.append(f"p={short_pair(padding)}")
    if tuple(dilation) != (1, 1):
        args.append(f"d={short_pair(dilation)}")
    if groups != 1:
        args.append(f"g={groups}")
    if not bias:
        args.append("bias=false")
    if pad_value:
        args.append(f"value={number(pad_value)}")
    return f"Conv({', '.join(args)})"


def pool_text(mode: str, kernel, *, stride=None, padding=(0, 0), ceil: bool = False) -> str:
    """``MPool(3x3, s=2)``; ``mode`` is ``max``, ``avg`` or ``stochastic``."""
    name = {"max": "MPool", "avg": "APool", "stochastic": "StochPool"}[mode]
    args = [size_text(kernel)]
    if stride is not None and tuple(stride) != tuple(kernel):
        args.append(f"s={short_pair(stride)}")
    if tuple(padding) != (0, 0):
        args.append(f"p={short_pair(padding)}")
    if ceil:
        args.append("ceil=true")
    return f"{name}({', '.join(args)})"


def fc_text(units: int, bias: bool = True) -> str:
    """``FC(4096)``."""
    return f"FC({units}{'' if bias else ', bias=false'})"


def batchnorm_text(eps: float = 1e-5, momentum: float = 0.1) -> str:
    """``BN``, or ``BN(eps=0.001)`` when a value is not PyTorch's default."""
    args = []
    if abs(eps - 1e-5) > 1e-12:
        args.append(f"eps={number(eps)}")
    if abs(momentum - 0.1) > 1e-6:
        args.append(f"momentum={number(momentum)}")
    return f"BN({', '.join(args)})" if args else "BN"


def lrn_text(size: int, alpha: float, beta: float, k: float) -> str:
    """``LRN(size=5, alpha=0.0001, beta=0.75, k=2)`` (the lecture formula's values)."""
    return f"LRN(size={size}, alpha={number(alpha)}, beta={number(beta)}, k={number(k)})"


def subsample_text(kernel, stride=None) -> str:
    """``Subsample(2x2)``."""
    if stride is not None and tuple(stride) != tuple(kernel):
        return f"Subsample({size_text(kernel)}, s={short_pair(stride)})"
    return f"Subsample({size_text(kernel)})"


def dropout_text(p: float) -> str:
    """``Dropout(0.5)``."""
    return f"Dropout({number(p)})"


def adaptive_text(output) -> str:
    """``AdaptiveAvgPool(6x6)``."""
    return f"AdaptiveAvgPool({size_text(output)})"
