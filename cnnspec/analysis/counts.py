"""Parameter and multiply-accumulate counts, one function per formula.

Room: analysis; pure integers.
"""

from __future__ import annotations


def conv_weights(fh: int, fw: int, c_in: int, k: int, groups: int = 1) -> int:
    """Weights of a convolution: ``FH * FW * C_in/groups * K``."""
    return fh * fw * (c_in // groups) * k


def conv_params(fh: int, fw: int, c_in: int, k: int, groups: int = 1, bias: bool = True) -> int:
    """Parameters of a convolution: ``(FH * FW * C_in/groups + 1*bias) * K``."""
    return (fh * fw * (c_in // groups) + int(bias)) * k


def fc_weights(n_in: int, n_out: int) -> int:
    """Weights of a fully connected layer: ``in * out``."""
    return n_in * n_out


def fc_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Parameters of a fully connected layer: ``(in + 1*bias) * out``."""
    return (n_in + int(bias)) * n_out


def batchnorm_params(c: int) -> tuple[int, int]:
    """Batch norm: ``2C`` trainable (gamma, beta) and ``2C`` running statistics (mean, var)."""
    return 2 * c, 2 * c


def conv_macs(out_h: int, out_w: int, k: int, fh: int, fw: int, c_in: int, groups: int = 1) -> int:
    """Multiply-accumulates of a convolution: ``H_out * W_out * K * FH * FW * C_in/groups``."""
    return out_h * out_w * k * fh * fw * (c_in // groups)


def fc_macs(n_in: int, n_out: int) -> int:
    """Multiply-accumulates of a fully connected layer: ``in * out``."""
    return n_in * n_out


def torchinfo_macs(params: int, positions: int = 1) -> int:
    """torchinfo's ``mult_adds`` of one layer: ``params * positions``.

    A convolution uses each weight and bias once per output position
    (``positions = H_out * W_out``): ``(FH*FW*C_in/groups*K + K) * H_out * W_out``,
    the weight MACs plus one add per output value. Any other layer with parameters
    counts each once (``positions = 1``): FC ``in*out + out``, batch norm ``2C``.
    Layers without parameters (pooling, activations, merges, gates) count 0.
    """
    return params * positions


def nodes(shape: tuple[int, ...]) -> int:
    """Stored values in an output: the product of its shape, ``H * W * C``."""
    total = 1
    for dim in shape:
        total *= dim
    return total
