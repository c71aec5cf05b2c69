"""The questions of an exercise variant, each answered by the analysis or the homework
functions: output sizes (one that does not fit), weights with and without bias, stacked
3x3 convolutions against one 7x7, the 1x1 reduction, and a convolution and a stochastic
pooling by hand.

Room: consumers (homework). Sizes come from ``conv_output_size``, weights from
``cnnspec.analysis.counts``, receptive fields and MACs from analysis reports,
matrices from :func:`~cnnspec.homework.by_hand.conv_by_hand` and
:func:`~cnnspec.homework.by_hand.pool_by_hand`. Nothing is recomputed here.
"""

from __future__ import annotations

from typing import Any

from cnnspec.analysis import counts
from cnnspec.analysis.records import Report, shape_text
from cnnspec.analysis.shapes import SizeError, conv_output_size
from cnnspec.conventions import Rounding
from cnnspec.homework.questions import NOT_WHOLE, Question


def _pick(rng: Any, options: tuple) -> Any:
    return options[int(rng.integers(len(options)))]


def _size_model(n: int, f: int, s: int, p: int) -> dict[str, Any]:
    return {"kind": "conv", "h": n, "w": n, "c": 1, "k": 1, "fh": f, "fw": f, "sh": s,
            "sw": s, "ph": p, "pw": p, "rounding": Rounding.STRICT.value}


def size_questions(rng: Any) -> list[Question]:
    """Q1 an output side that is whole; Q2 one where the stride does not fit."""
    out = []
    while len(out) < 2:
        n = int(_pick(rng, (7, 9, 11, 13, 15, 27, 32, 55, 224, 227)))
        f = int(_pick(rng, (3, 5, 7, 11)))
        s = int(_pick(rng, (1, 2, 3, 4)))
        p = int(rng.integers(0, f // 2 + 1))
        if f > n + 2 * p:
            continue
        ask = (f"A {f}x{f} convolution with stride {s} and padding {p} reads a {n}x{n} input. "
               f"What is the output's side? (Write `not a whole number` if the stride does "
               f"not fit.)")
        try:
            size = conv_output_size(n, f, s, p, 1, Rounding.STRICT)
        except SizeError as exc:
            if len(out) == 1:
                out.append(Question("Q2", "size", ask, NOT_WHOLE, exc.message,
                                    _size_model(n, f, s, p), "side"))
            continue
        if not out and s > 1:
            out.append(Question("Q1", "size", ask, size.size, f"{size.arithmetic} = {size.size}",
                                _size_model(n, f, s, p), "side"))
    return out


def weight_questions(rng: Any, report: Report) -> list[Question]:
    """Q3/Q4 a conv layer's weights with and without bias; Q5/Q6 an FC layer's."""
    convs = [r for r in report.leaves() if r.kind == "conv" and len(r.input) == 3]
    fcs = [r for r in report.leaves() if r.kind == "fc"]
    fh = fw = int(_pick(rng, (3, 5)))
    # the variant's own second conv and first FC layer; a spec without them gets drawn ones
    conv_in = convs[1].input if len(convs) > 1 else \
        (16, 16, int(_pick(rng, (8, 16, 32))))
    k = convs[1].output[-1] if len(convs) > 1 else int(_pick(rng, (16, 32, 64)))
    fc_in = fcs[0].input if fcs else (4, 4, int(_pick(rng, (16, 32, 64))))
    units = fcs[0].output[-1] if fcs else int(_pick(rng, (64, 120, 256)))
    c, n_in = conv_in[-1], counts.nodes(fc_in)
    out = []
    for qid, bias in (("Q3", True), ("Q4", False)):
        value = counts.conv_params(fh, fw, c, k, 1, bias)
        plus = " + 1" if bias else ""
        out.append(Question(
            qid, "count",
            f"How many parameters has a {fh}x{fw} convolution with {k} filters on a "
            f"{shape_text(conv_in)} input, "
            f"{'counting one bias per filter' if bias else 'without biases'}?",
            value, f"({fh}*{fw}*{c}{plus})*{k} = {value:,}",
            {"kind": "conv", "h": conv_in[0], "w": conv_in[1], "c": c, "k": k, "fh": fh,
             "fw": fw, "bias": bias, "image_c": report.input[-1]}, "weights"))
    for qid, bias in (("Q5", True), ("Q6", False)):
        value = counts.fc_params(n_in, units, bias)
        plus = " + 1" if bias else ""
        out.append(Question(
            qid, "count",
            f"How many parameters has a fully connected layer from a {shape_text(fc_in)} "
            f"input to {units} units, "
            f"{'counting one bias per unit' if bias else 'without biases'}?",
            value, f"({'x'.join(map(str, fc_in))}{plus})*{units} = {value:,}",
            {"kind": "fc", "h": 1, "w": 1, "c": n_in, "k": units, "bias": bias,
             "flat_in": "x".join(map(str, fc_in))}, "weights"))
    return out


def _report(spec: str, conventions: str = "default") -> Report:
    from cnnspec.api import load

    return load(spec, conventions=conventions).report()


def stack_questions(rng: Any) -> list[Question]:
    """Q7-Q9: the receptive field of 3 stacked 3x3 convs, and their weights against one
    7x7 conv with as many channels (no biases)."""
    c = int(_pick(rng, (16, 32, 64, 128, 256)))
    side = 28
    stack = _report(f"{side}x{side}x{c} -> Conv(3x3,{c},p=1)-Conv(3x3,{c},p=1)-"
                    f"Conv(3x3,{c},p=1)", "default")
    stack_nb = _report(f"{side}x{side}x{c} -> Conv(3x3,{c},p=1)-Conv(3x3,{c},p=1)-"
                       f"Conv(3x3,{c},p=1)", "lecture")
    single = _report(f"{side}x{side}x{c} -> Conv(7x7,{c},p=3)", "default")
    rf = stack.layers[-1].rf_size[0]
    no_bias = stack_nb.totals.weights
    one = single.totals.weights
    return [
        Question("Q7", "size", "Three 3x3 convolutions (stride 1) are stacked. How wide is "
                               "the receptive field of one output of the third?",
                 rf, "r = 1 + 3*(3 - 1) = " + str(rf)),
        Question("Q8", "count", f"How many weights (no biases) have those three 3x3 "
                                f"convolutions with {c} channels in and out?",
                 no_bias, f"3 * 3*3*{c}*{c} = {no_bias:,}",
                 {"kind": "conv", "h": side, "w": side, "c": c, "k": c, "fh": 3, "fw": 3,
                  "bias": False}, ""),
        Question("Q9", "count", f"How many weights (no biases) has one 7x7 convolution with "
                                f"{c} channels in and out, the same receptive field?",
                 one, f"7*7*{c}*{c} = {one:,}",
                 {"kind": "conv", "h": side, "w": side, "c": c, "k": c, "fh": 7, "fw": 7,
                  "bias": False}, "weights"),
    ]


def reduction_questions(rng: Any) -> list[Question]:
    """Q10/Q11: MACs of a 5x5 conv on a deep input, directly and after a 1x1 reduction."""
    side = int(_pick(rng, (14, 28)))
    c = int(_pick(rng, (192, 256, 480)))
    k = int(_pick(rng, (32, 48, 64)))
    r = int(_pick(rng, (16, 24, 32)))
    direct = _report(f"{side}x{side}x{c} -> Conv(5x5,{k},p=2)")
    reduced = _report(f"{side}x{side}x{c} -> Conv(1x1,{r})-Conv(5x5,{k},p=2)")
    d, m = direct.totals.macs, reduced.totals.macs
    where = f"a {side}x{side}x{c} input"
    return [
        Question("Q10", "count", f"How many multiply-accumulates (MACs) does a 5x5 convolution "
                                 f"with {k} filters and padding 2 take on {where}?",
                 d, direct.layers[0].formulas.get("macs", f"{d:,}")),
        Question("Q11", "count", f"A 1x1 convolution first reduces {where} to {r} channels; "
                                 f"then the same 5x5 convolution runs. How many MACs in all?",
                 m, " + ".join(row.formulas.get("macs", "") for row in reduced.layers)
                 + f" = {m:,}"),
    ]


def _matrix_text(rows: list[list[int]]) -> str:
    return "; ".join(" ".join(str(v) for v in row) for row in rows)


def hand_questions(rng: Any) -> list[Question]:
    """Q12 a convolution by hand; Q13/Q14 max and stochastic pooling (inference) by hand."""
    from cnnspec.homework.by_hand import conv_by_hand, pool_by_hand
    from cnnspec.homework.matrices import parse_inline

    image = [[int(rng.integers(0, 3)) for _ in range(5)] for _ in range(5)]
    kernel = [[int(rng.integers(-1, 2)) for _ in range(3)] for _ in range(3)]
    stride = int(_pick(rng, (1, 2)))
    conv = conv_by_hand(parse_inline(_matrix_text(image)), parse_inline(_matrix_text(kernel)),
                        stride=(stride, stride))
    fmap = [[int(rng.integers(0, 6)) for _ in range(4)] for _ in range(4)]
    fmap[0][0] = max(fmap[0][0], 1)  # no all-zero window in the top left
    channels = parse_inline(_matrix_text(fmap))
    maxed = pool_by_hand(channels, size=(2, 2), mode="max")
    stochastic = pool_by_hand(channels, size=(2, 2), mode="stochastic")
    show = f"`{_matrix_text(image)}`"
    return [
        Question("Q12", "matrix", f"Convolve the 5x5 input {show} with the 3x3 kernel "
                                  f"`{_matrix_text(kernel)}`, stride {stride}, no padding, no "
                                  f"bias. Write the result row by row (`a b; c d`).",
                 conv.result[0], "; ".join(step.text for step in conv.steps)),
        Question("Q13", "matrix", f"Max-pool the 4x4 map `{_matrix_text(fmap)}` with 2x2 "
                                  f"windows, stride 2.",
                 maxed.result[0], "; ".join(step.text for step in maxed.steps)),
        Question("Q14", "matrix", "Stochastic pooling of the same map (2x2, stride 2) at "
                                  "inference: each output is sum_i p_i a_i with "
                                  "p_i = a_i / sum_k a_k. Two decimals are enough.",
                 stochastic.result[0], "; ".join(step.text for step in stochastic.steps)),
    ]


def questions_for(rng: Any, report: Report) -> list[Question]:
    """Every question of a variant, Q1 to Q14, in order."""
    return [*size_questions(rng), *weight_questions(rng, report), *stack_questions(rng),
            *reduction_questions(rng), *hand_questions(rng)]
