"""Convolution and pooling by hand: the result matrix, and every window's sum written out.

Room: consumers (homework). The result matrix comes from the NumPy engine
(``cnnspec.engine.functional``); the steps are written out here, one window at
a time, and the tests check the two agree. Output sizes come from
:func:`cnnspec.analysis.shapes.conv_output_size`, so a stride that does not fit
is explained exactly as ``cnnspec calc output`` explains it.

Indices follow the lecture: ``y_ij`` is 1-based, row ``i``, column ``j``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cnnspec.analysis.records import pair_text
from cnnspec.analysis.shapes import SizeError, conv_output_size
from cnnspec.conventions import Rounding
from cnnspec.errors import AnalysisError, DataError, Location
from cnnspec.homework.matrices import Channels, Matrix

Pair = tuple[int, int]


def num(value: float) -> str:
    """``4.0`` -> ``4``; ``0.25`` -> ``0.25``; ``1/3`` -> ``0.333333``."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}"


def _factor(value: float) -> str:
    text = num(value)
    return f"({text})" if value < 0 else text


def index_name(prefix: str, i: int, j: int) -> str:
    """``y_11`` for row 1, column 1 (1-based); ``y_3,12`` once an index has two digits."""
    return f"{prefix}_{i}{j}" if i < 10 and j < 10 else f"{prefix}_{i},{j}"


@dataclass(frozen=True)
class Step:
    """One output value with its working: ``y_11 = 1*1+1*0+... = 4``."""

    name: str
    text: str
    value: float
    details: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.name, "text": self.text, "value": self.value,
                "details": list(self.details)}


@dataclass(frozen=True)
class HandResult:
    """A convolution or pooling worked by hand.

    ``result`` holds one matrix per output channel (from the engine); ``steps``
    the written-out windows in the same order (channel, row, column).
    """

    title: str
    size: list[str]
    result: list[Matrix]
    channel_names: list[str]
    steps: list[Step]
    notes: list[str] = field(default_factory=list)
    sampled: list[Matrix] | None = None
    sampled_steps: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "title": self.title, "output_size": self.size, "result": self.result,
            "channels": self.channel_names, "steps": [s.to_dict() for s in self.steps],
            "notes": self.notes, "sampled": self.sampled, "sampled_steps": self.sampled_steps,
        }


def output_side(axis: str, n: int, f: int, s: int, p: int, rounding: Rounding) -> tuple[int, str]:
    """The output length along one axis and its arithmetic, or a located explanation."""
    try:
        out = conv_output_size(n, f, s, p, 1, rounding)
    except SizeError as exc:
        if rounding is not Rounding.STRICT or "larger than" in exc.message:
            raise AnalysisError(exc.message, Location("the window size / --pad"),
                                exc.hint) from None
        from cnnspec.homework.calc import whole_settings

        floor = conv_output_size(n, f, s, p, 1, Rounding.FLOOR)
        ceil = conv_output_size(n, f, s, p, 1, Rounding.CEIL)
        fixes = "; ".join(whole_settings(n, f, s, p))
        raise AnalysisError(
            f"{floor.arithmetic} = {floor.exact_text} is not a whole number: stride {s} does not "
            f"fit (floor {floor.size}, ceil {ceil.size})", Location("--stride"),
            (f"nearest settings that make it whole: {fixes}; " if fixes else "")
            + "or allow it with --rounding floor",
        ) from None
    text = f"{axis} = {out.arithmetic} = {out.exact_text}"
    if out.rounded:
        text += f" -> {out.size} ({rounding.value})"
    return out.size, text


def _sizes(h: int, w: int, k: Pair, s: Pair, p: Pair, rounding: Rounding) -> tuple[int, int,
                                                                                   list[str]]:
    out_h, text_h = output_side("O_H", h, k[0], s[0], p[0], rounding)
    out_w, text_w = output_side("O_W", w, k[1], s[1], p[1], rounding)
    if (h, k[0], s[0], p[0]) == (w, k[1], s[1], p[1]):
        lines = [text_h.replace("O_H", "O", 1) + f"  ->  output {out_h}x{out_w}"]
    else:
        lines = [text_h, text_w + f"  ->  output {out_h}x{out_w}"]
    return out_h, out_w, lines


def _window(matrix: Matrix, top: int, left: int, k: Pair, pad: Pair,
            fill: float | None) -> list[tuple[int, int, float]]:
    """Cells ``(i, j, value)`` of one window (kernel offsets i, j); padding gives ``fill``.

    Cells in the padding are left out when ``fill`` is ``None``; cells past the
    padded input (a ``ceil`` window's overhang) are always left out.
    """
    h, w = len(matrix), len(matrix[0])
    cells = []
    for i in range(k[0]):
        for j in range(k[1]):
            r, c = top + i, left + j
            if 0 <= r < h and 0 <= c < w:
                cells.append((i, j, matrix[r][c]))
            elif -pad[0] <= r < h + pad[0] and -pad[1] <= c < w + pad[1] and fill is not None:
                cells.append((i, j, fill))
    return cells


def _nchw(channels: list[Matrix]):
    import numpy as np

    return np.asarray([channels], dtype=np.float64)  # (1, C, H, W)


def conv_by_hand(image: Channels, kernel: Channels, *, stride: Pair = (1, 1),
                 padding: Pair = (0, 0), bias: float = 0.0, pad_value: float = 0.0,
                 rounding: Rounding = Rounding.STRICT) -> HandResult:
    """One filter over a (colour) image: ``y_ij = sum_c sum_{a,b} x_c[.] w_c[a, b] + w_0``.

    The kernel has one matrix per image channel (``y = X_R*W_R + X_G*W_G + X_B*W_B + w_0``).
    """
    import numpy as np

    from cnnspec.engine.functional.conv import conv2d_forward

    if kernel.depth != image.depth:
        raise DataError(
            f"the kernel has {kernel.depth} channel(s) but the image has {image.depth}",
            Location(kernel.source),
            "a filter spans the full input depth: give one kernel matrix per image channel "
            "(y = X_R*W_R + X_G*W_G + X_B*W_B + w_0), separated by a blank line or '|'",
        )
    k = (kernel.height, kernel.width)
    out_h, out_w, size = _sizes(image.height, image.width, k, stride, padding, rounding)
    w = _nchw(kernel.data)  # (1, C, FH, FW): one filter
    out, _ = conv2d_forward(_nchw(image.data), w, np.asarray([bias], dtype=np.float64),
                            stride=stride, padding=padding, pad_value=pad_value)
    result = out[0, :, :out_h, :out_w].tolist()  # (1, out_h, out_w)
    steps = []
    for oi in range(out_h):
        for oj in range(out_w):
            top, left = oi * stride[0] - padding[0], oj * stride[1] - padding[1]
            parts, total = [], 0.0
            for c in range(image.depth):
                cells = _window(image.data[c], top, left, k, padding, pad_value)
                products = "+".join(f"{_factor(v)}*{_factor(kernel.data[c][i][j])}"
                                    for i, j, v in cells)
                partial = sum(v * kernel.data[c][i][j] for i, j, v in cells)
                total += partial
                if image.depth == 1:
                    parts.append(products)
                else:
                    parts.append(f"[{image.names[c]}] {products} (= {num(partial)})")
            if bias:
                parts.append(_factor(bias))
                total += bias
            name = index_name("y", oi + 1, oj + 1)
            steps.append(Step(name, f"{name} = {' + '.join(parts)} = {num(total)}", total))
    notes = []
    if any(padding):
        fill = "zero" if pad_value == 0 else f"constant {num(pad_value)}"
        notes.append(f"{fill} padding {padding[0]}x{padding[1]} on each side: the padded input "
                     f"is {image.height + 2 * padding[0]}x{image.width + 2 * padding[1]}")
    title = (f"{image.height}x{image.width}x{image.depth} input * {k[0]}x{k[1]}x{kernel.depth} "
             f"kernel, stride {pair_text(stride)}, padding {pair_text(padding)}"
             + (f", bias {num(bias)}" if bias else ""))
    return HandResult(title, size, result, ["y"], steps, notes)


def pool_by_hand(fmap: Channels, *, size: Pair, stride: Pair | None = None,
                 padding: Pair = (0, 0), mode: str = "max",
                 rounding: Rounding = Rounding.STRICT, seed: int | None = None) -> HandResult:
    """Max, average or stochastic pooling of each channel, every window written out.

    Stochastic pooling (SEEDS "Pooling"): in window ``R_j`` element ``i`` has
    probability ``p_i = a_i / sum_{k in R_j} a_k``; at inference the output is
    ``s_j = sum_{i in R_j} p_i a_i``; in training one element is drawn with
    probability ``p_i`` (shown with ``seed``).
    """
    import numpy as np

    from cnnspec.engine.functional import pool as pool_ops
    from cnnspec.engine.functional import stochastic_pool

    st = stride or size
    out_h, out_w, size_lines = _sizes(fmap.height, fmap.width, size, st, padding, rounding)
    x = _nchw(fmap.data)
    ceil = rounding is Rounding.CEIL
    sampled: list[Matrix] | None = None
    sampled_steps: list[str] = []
    if mode == "stochastic":
        negative = fmap.find_negative()
        if negative is not None:
            c, i, j = negative
            raise DataError(
                f"stochastic pooling needs non-negative values, but row {i + 1} holds "
                f"{num(fmap.data[c][i][j])}: p_i = a_i / sum a_k is a probability only when "
                f"every a_i >= 0",
                fmap.cell_loc(c, i, j), "pool the output of a ReLU, or use --mode max",
            )
        out, _ = stochastic_pool.stochastic_pool2d_forward(
            x, size, stride=st, padding=padding, ceil_mode=ceil, training=False)
        if seed is not None:
            rng = np.random.default_rng(seed)
            drawn, cache = stochastic_pool.stochastic_pool2d_forward(
                x, size, stride=st, padding=padding, ceil_mode=ceil, training=True, rng=rng)
            sampled = drawn[0].tolist()
            offsets = cache.geom.offsets()
            for c in range(fmap.depth):
                for oi in range(out_h):
                    for oj in range(out_w):
                        i, j = offsets[int(cache.idx[0, c, oi, oj])]
                        name = index_name("s", oi + 1, oj + 1)
                        where = f"row {oi * st[0] - padding[0] + i + 1}, column " \
                                f"{oj * st[1] - padding[1] + j + 1}"
                        prefix = f"[{fmap.names[c]}] " if fmap.depth > 1 else ""
                        value = float(drawn[0, c, oi, oj])
                        sampled_steps.append(
                            f"{prefix}{name} drew a = {num(value)} ({where})" if value else
                            f"{prefix}{name}: the window is all zero, output 0")
    elif mode == "avg":
        out, _ = pool_ops.avg_pool2d_forward(x, size, stride=st, padding=padding, ceil_mode=ceil)
    else:
        out, _ = pool_ops.max_pool2d_forward(x, size, stride=st, padding=padding, ceil_mode=ceil)
    steps = []
    for c in range(fmap.depth):
        for oi in range(out_h):
            for oj in range(out_w):
                top, left = oi * st[0] - padding[0], oj * st[1] - padding[1]
                name = index_name("s" if mode == "stochastic" else "y", oi + 1, oj + 1)
                if fmap.depth > 1:
                    name = f"[{fmap.names[c]}] {name}"
                fill = None if mode == "max" else 0.0
                values = [v for _, _, v in _window(fmap.data[c], top, left, size, padding, fill)]
                steps.append(_pool_step(name, mode, values))
    notes = ["pooling has no weights: each output depends only on its window"]
    if mode == "stochastic":
        notes.append("p_i = a_i / sum_k a_k;  inference s_j = sum_i p_i a_i "
                     "= sum_i a_i^2 / sum_k a_k")
    title = (f"{mode} pooling {size[0]}x{size[1]}, stride {pair_text(st)}"
             + (f", padding {pair_text(padding)}" if any(padding) else "")
             + f" on a {fmap.height}x{fmap.width}x{fmap.depth} map")
    return HandResult(title, size_lines, out[0].tolist(), fmap.names if fmap.depth > 1 else
                      ["y"], steps, notes, sampled, sampled_steps)


def _pool_step(name: str, mode: str, values: list[float]) -> Step:
    """One window: ``max a_i``; ``sum a_i / n`` (n = cells inside the padded input);
    or ``p_i = a_i / sum_k a_k`` and ``s = sum_i p_i a_i``."""
    listed = ", ".join(num(v) for v in values)
    if mode == "max":
        value = max(values)
        return Step(name, f"{name} = max({listed}) = {num(value)}", value)
    total = sum(values)
    if mode == "avg":
        value = total / len(values)
        return Step(name, f"{name} = ({'+'.join(_factor(v) for v in values)})/{len(values)} "
                          f"= {num(value)}", value)
    if total == 0:
        return Step(name, f"{name}: the window ({listed}) is all zero, so no p_i exists; "
                          f"output 0", 0.0)
    whole = all(float(v).is_integer() for v in values)
    probs = [f"{num(v)}/{num(total)} = {v / total:.3f}" for v in values]
    value = sum(v * v for v in values) / total
    exact = ""
    if whole:
        fraction = Fraction(int(sum(v * v for v in values)), int(total))
        if fraction.denominator > 1:
            exact = f" = {fraction.numerator}/{fraction.denominator}"
    products = " + ".join(f"({num(v)}/{num(total)})*{_factor(v)}" for v in values)
    text = f"{name} = sum p_i a_i = {products}{exact} = {num(value)}"
    return Step(name, text, value, [f"window ({listed}), sum {num(total)}: p = "
                                    + ", ".join(probs)])


def matrix_text(matrix: Matrix) -> str:
    """Rows of right-aligned numbers, one row per line."""
    cells = [[num(v) for v in row] for row in matrix]
    width = max(len(c) for row in cells for c in row)
    return "\n".join(" ".join(c.rjust(width) for c in row) for row in cells)
