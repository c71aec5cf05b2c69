"""The speed limit of a network: its conv and FC matrix products alone, timed in NumPy.

Room: engine; imports NumPy, :mod:`cnnspec.engine.blas` and the layer classes.

A convolution or FC layer does little besides its GEMMs (im2col, the bias, the
NCHW copy are memory passes). Timing just those products, on fresh arrays of
the same shapes through the same :func:`~cnnspec.engine.blas.matmul` (so the
same thread rule), gives the time no NumPy engine built on these products can
beat. The engine's time as a percentage of it says how much is overhead:
100% is the limit.

The products of a layer, for batch N (P = N * out_h * out_w, G groups,
Kg = C/G * HH * WW):

* conv forward: G x (F/G, Kg) @ (Kg, P); with one group and a bias, (F, Kg + 1) @
  (Kg + 1, P), the bias a last column against a row of ones
* conv backward: dw, G x (Kg, P) @ (P, F/G) (its transpose, the faster way round; with
  the bias row, Kg + 1 rows, the last one ``db``);
  dx, G x (Kg, F/G) @ (F/G, P)
  (stride-1 layers with F <= C take dx as a transposed convolution,
  (C, F*HH*WW) @ (F*HH*WW, N*H*W), the engine's own choice)
* FC forward: (N, D) @ (D, M); backward: dx (N, M) @ (M, D), dw (D, N) @ (N, M)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from cnnspec.engine import layers as L
from cnnspec.engine.blas import gemm_operand, matmul
from cnnspec.engine.functional.conv import _transposed_conv_fits
from cnnspec.engine.model import Model, _entry_conv

__all__ = ["GemmShape", "LayerLimit", "layer_gemms", "network_limits", "time_gemm"]


class GemmShape(NamedTuple):
    """``count`` products of an (m, k) and a (k, n) matrix."""

    m: int
    k: int
    n: int
    count: int = 1


@dataclass
class LayerLimit:
    """The products of one layer and their measured seconds (forward, backward)."""

    name: str
    forward: list[GemmShape]
    backward: list[GemmShape]
    forward_seconds: float = 0.0
    backward_seconds: float = 0.0


def _conv_gemms(layer: L.Conv, batch: int, need_dx: bool
                ) -> tuple[list[GemmShape], list[GemmShape]]:
    f, cg, kh, kw = (layer.params["weight"].shape if not isinstance(layer, L.TableConv)
                     else (layer.rows.max() + 1, layer.record.input[-1],
                           *layer.params["weight"].shape[1:]))
    g = layer.options["groups"]
    out_h, out_w, _ = layer.record.output
    in_h, in_w, c = layer.record.input
    p = batch * out_h * out_w
    kg = cg * kh * kw
    kb = kg + (g == 1 and "bias" in layer.params)  # the bias as one more column
    forward = [GemmShape(f // g, kb, p, g)]
    backward = [GemmShape(kb, p, f // g, g)]
    if need_dx:
        if g == 1 and _transposed_conv_fits((f, cg, kh, kw), layer.options["stride"],
                                            layer.options["padding"], layer.options["dilation"]):
            backward.append(GemmShape(c, f * kh * kw, batch * in_h * in_w))
        else:
            backward.append(GemmShape(kg, f // g, p, g))
    return forward, backward


def layer_gemms(layer: L.Layer, batch: int, *, need_dx: bool = True
                ) -> tuple[list[GemmShape], list[GemmShape]]:
    """The (forward, backward) products of ``layer`` at batch ``batch``; empty for others.

    ``need_dx=False``: the layer's input gradient is not computed (a network's first
    convolution in a training step).
    """
    if isinstance(layer, L.Conv):
        return _conv_gemms(layer, batch, need_dx)
    if isinstance(layer, L.Dense):
        d, m = layer.params["weight"].shape
        backward = [GemmShape(d, batch, m)] + ([GemmShape(batch, m, d)] if need_dx else [])
        return [GemmShape(batch, d, m)], backward
    return [], []


def time_gemm(shape: GemmShape, dtype: np.dtype, *, repeats: int = 5,
              rng: np.random.Generator | None = None) -> float:
    """Median seconds of ``shape.count`` products of random (m, k) @ (k, n) arrays.

    The three matrices are laid out as the engine lays out its columns
    (:func:`~cnnspec.engine.blas.gemm_operand`: rows a multiple of 1 KiB apart are
    padded), so that the limit is not slowed by cache aliasing the engine avoids.
    """
    rng = rng or np.random.default_rng(0)
    a = gemm_operand(shape.m, shape.k, dtype)
    a[...] = rng.standard_normal(a.shape)
    b = gemm_operand(shape.k, shape.n, dtype)
    b[...] = rng.standard_normal(b.shape)
    out = gemm_operand(shape.m, shape.n, dtype)
    matmul(a, b, out=out)  # warm-up: pages of out, the BLAS buffers
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b, out=out)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * shape.count


def network_limits(model: Model, batch: int, *, backward: bool = True,
                   input_grad: bool = True, repeats: int = 5) -> list[LayerLimit]:
    """Every conv and FC layer of ``model`` with its timed products.

    ``input_grad=False`` leaves out the first layer's input gradient, as
    ``Model.loss_and_grads`` does. Shapes met twice are timed once.
    """
    entry = None if input_grad else _entry_conv(model.root)
    measured: dict[GemmShape, float] = {}

    def seconds(shapes: list[GemmShape]) -> float:
        total = 0.0
        for shape in shapes:
            one = shape._replace(count=1)
            if one not in measured:
                measured[one] = time_gemm(one, model.dtype, repeats=repeats)
            total += measured[one] * shape.count
        return total

    limits = []
    for layer in model.layers:
        forward, back = layer_gemms(layer, batch, need_dx=layer is not entry)
        if not forward:
            continue
        back = back if backward else []
        limits.append(LayerLimit(layer.name, forward, back, seconds(forward), seconds(back)))
    return limits
