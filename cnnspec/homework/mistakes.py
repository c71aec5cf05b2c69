"""The catalogue of mistake models: each is one wrong way to work out a layer's cell,
applied to the numbers the student had.

Room: consumers (homework). A model changes the *inputs* of a cell's formula
(the input depth, the bias, the padding, the stride, the rounding, ...); the
formula itself is always the analysis' own (``conv_output_size``,
``counts.conv_params``, ``counts.fc_params``, ``counts.nodes``), never
recomputed here. The inputs are the student's own upstream answers where they
wrote them (their previous row's output), so an explanation quotes their
numbers, not numbers they never wrote.

Adding a mistake is adding one :class:`MistakeModel` to :data:`CATALOGUE`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction

from cnnspec.analysis import counts
from cnnspec.analysis.shapes import SizeError, conv_output_size
from cnnspec.conventions import Rounding

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Inputs:
    """What the formulas of one conv, pool or FC row take, as the student had them.

    ``h, w, c``: the input volume (``h = w = 1`` with ``c`` = all inputs for an FC row fed
    by a flat vector); ``k``: filters or units; ``ph_end``/``pw_end``: padding at the end
    (``None``: as at the start). ``image_c``: the network input's channels;
    ``earlier_k``: the filters of the nearest earlier conv whose depth is not ``c``.
    ``keep_depth``/``keep_size``: the output keeps the input's depth / height and width.
    """

    kind: str
    h: int
    w: int
    c: int
    k: int
    fh: int = 1
    fw: int = 1
    sh: int = 1
    sw: int = 1
    ph: int | None = 0
    pw: int | None = 0
    dh: int = 1
    dw: int = 1
    groups: int = 1
    bias: bool = True
    rounding: Rounding = Rounding.STRICT
    image_c: int = 3
    earlier_k: int | None = None
    ph_end: int | None = None
    pw_end: int | None = None
    keep_depth: bool = False
    keep_size: bool = False
    flat_in: str = ""  # how an FC row's inputs are written: "6x6x256"

    # -- the formulas, each the analysis' own ---------------------------------------------
    def side(self, n: int, f: int, s: int, p: int, p_end: int | None, d: int) -> int | None:
        """One output side under this rounding (``None`` when it cannot be)."""
        try:
            return conv_output_size(n, f, s, (p, p if p_end is None else p_end), d,
                                    self.rounding).size
        except SizeError:
            return None

    def output(self) -> Shape | None:
        """The output volume these inputs give."""
        if self.kind == "fc":
            return (self.k,)
        if self.ph is None or self.pw is None:
            return None
        depth = self.c if (self.kind == "pool" or self.keep_depth) else self.k
        if self.keep_size:
            return (self.h, self.w, depth)
        out_h = self.side(self.h, self.fh, self.sh, self.ph, self.ph_end, self.dh)
        out_w = self.side(self.w, self.fw, self.sw, self.pw, self.pw_end, self.dw)
        if out_h is None or out_w is None:
            return None
        return (out_h, out_w, depth)

    def nodes(self) -> int | None:
        """Output values: H_out * W_out * depth."""
        shape = self.output()
        return None if shape is None else counts.nodes(shape)

    def weights(self) -> int | None:
        """Parameters: ``(FH*FW*C/g + 1)*K`` for a conv, ``(N_in + 1)*K`` for an FC row."""
        if self.kind == "conv":
            return counts.conv_params(self.fh, self.fw, self.c, self.k, self.groups, self.bias)
        if self.kind == "fc":
            return counts.fc_params(self.h * self.w * self.c, self.k, self.bias)
        return 0

    def value(self, cell: str) -> Shape | int | None:
        """The value of ``cell`` (output, nodes or weights)."""
        return {"output": self.output, "nodes": self.nodes, "weights": self.weights,
                "side": self.height}[cell]()

    def height(self) -> int | None:
        """One output side (the height): a size question's answer."""
        if self.kind == "fc" or self.ph is None:
            return None
        return self.side(self.h, self.fh, self.sh, self.ph, self.ph_end, self.dh)

    # -- the formulas written out with these numbers ----------------------------------------
    def size_text(self) -> str:
        """``(27 + 2*2 - 5)/1 + 1``; padding on one side only: ``(27 + 2 - 5)/1 + 1``."""
        p, p_end = self.ph or 0, self.ph if self.ph_end is None else self.ph_end
        pad = f"2*{p}" if p == p_end else (f"{p}" if p_end == 0 else f"{p}+{p_end}")
        span = f"{self.fh}" if self.dh == 1 else f"{self.dh}*({self.fh}-1) - 1"
        return f"({self.h} + {pad} - {span})/{self.sh} + 1"

    def weights_text(self) -> str:
        """``(5*5*96 + 1)*256`` for a conv; ``(6x6x256 + 1)*4096`` for an FC row."""
        plus = " + 1" if self.bias else ""
        if self.kind == "fc":
            return f"({self.flat_in or self.h * self.w * self.c}{plus})*{self.k}"
        depth = "" if self.c == 1 else f"*{self.c // self.groups}"
        return f"({self.fh}*{self.fw}{depth}{plus})*{self.k}"

    def exact_size(self) -> Fraction:
        """``(N + P_begin + P_end - D(F-1) - 1)/S + 1`` before rounding, along the height."""
        p, p_end = self.ph or 0, self.ph if self.ph_end is None else self.ph_end
        return Fraction(self.h + p + (p_end or 0) - self.dh * (self.fh - 1) - 1, self.sh) + 1


Change = Callable[[Inputs], Inputs | None]


@dataclass(frozen=True)
class MistakeModel:
    """One wrong way to work out a cell: a label, the cells it touches, how it changes the
    inputs (``None``: it does not apply), and why that is wrong (``str.format`` fields:
    the changed inputs' own, plus ``formula``, ``value``, ``right`` (the unchanged inputs)
    and ``size``/``exact`` for output sizes)."""

    label: str
    cells: tuple[str, ...]
    change: Change
    why: str


def _if(test: Callable[[Inputs], bool], change: Change) -> Change:
    return lambda i: change(i) if test(i) else None


def _other_rounding(rounding: Rounding) -> Change:
    def change(i: Inputs) -> Inputs | None:
        if i.rounding is rounding or i.exact_size().denominator == 1:
            return None
        return replace(i, rounding=rounding)
    return change


SIZE = ("output", "nodes", "side")

CATALOGUE: list[MistakeModel] = [
    MistakeModel("depth = this layer's filters", ("weights",),
                 _if(lambda i: i.kind == "conv" and i.k != i.c, lambda i: replace(i, c=i.k)),
                 "{formula} = {value}: that takes the input depth as this layer's {k} filters; "
                 "a filter spans the depth of its input, {right.c} channels"),
    MistakeModel("depth = an earlier layer's filters", ("weights",),
                 _if(lambda i: i.kind == "conv" and i.earlier_k not in (None, i.c),
                     lambda i: replace(i, c=i.earlier_k)),
                 "{formula} = {value}: {c} is the depth of an earlier layer; this layer reads "
                 "{right.c} channels"),
    MistakeModel("depth = the image's channels", ("weights",),
                 _if(lambda i: i.kind == "conv" and i.image_c != i.c,
                     lambda i: replace(i, c=i.image_c)),
                 "{formula} = {value}: {c} is the image's channels; this layer reads "
                 "{right.c} channels"),
    MistakeModel("filter depth forgotten", ("weights",),
                 _if(lambda i: i.kind == "conv" and i.c > 1, lambda i: replace(i, c=1)),
                 "{formula} = {value}: a filter spans the full input depth, "
                 "{fh}x{fw}x{right.c}"),
    MistakeModel("one filter only", ("weights",),
                 _if(lambda i: i.kind == "conv" and i.k > 1, lambda i: replace(i, k=1)),
                 "{value} is one filter; the layer has {right.k} of them: x {right.k}"),
    MistakeModel("bias forgotten", ("weights",),
                 _if(lambda i: i.bias and i.kind in ("conv", "fc"),
                     lambda i: replace(i, bias=False)),
                 "{formula} = {value}: {layer} biases left out: each {unit} has one bias "
                 "(+1 per {unit})"),
    MistakeModel("bias added", ("weights",),
                 _if(lambda i: not i.bias and i.kind in ("conv", "fc"),
                     lambda i: replace(i, bias=True)),
                 "{formula} = {value}: {layer} biases counted, but these conventions "
                 "({layer_key}_bias: false) count none"),
    MistakeModel("FW for FH", ("weights", *SIZE),
                 _if(lambda i: i.kind != "fc" and i.fh != i.fw,
                     lambda i: replace(i, fh=i.fw)),
                 "{formula} = {value}: the kernel is {right.fh}x{right.fw} (FH x FW); "
                 "that uses FW = {fw} for FH too"),
    MistakeModel("W for H", SIZE,
                 _if(lambda i: i.kind != "fc" and i.h != i.w, lambda i: replace(i, h=i.w)),
                 "{formula} = {value}: the input is {right.h} high and {right.w} wide; "
                 "that uses W = {w} for H"),
    MistakeModel("padding applied once", SIZE,
                 _if(lambda i: bool(i.ph) and i.kind != "fc",
                     lambda i: replace(i, ph_end=0, pw_end=0)),
                 "{formula} gives {size}: the padding goes on both sides, so the formula "
                 "adds 2P = {two_p}, not P"),
    MistakeModel("padding left out", SIZE,
                 _if(lambda i: bool(i.ph) and i.kind != "fc",
                     lambda i: replace(i, ph=0, pw=0)),
                 "{formula} gives {size}: this layer pads {right.ph} on each side (+2P)"),
    MistakeModel("stride ignored", SIZE,
                 _if(lambda i: i.kind != "fc" and (i.sh, i.sw) != (1, 1),
                     lambda i: replace(i, sh=1, sw=1)),
                 "{formula} = {size} is the size at stride 1; divide by the stride "
                 "S = {right.sh}"),
    MistakeModel("floor rounding", SIZE, _other_rounding(Rounding.FLOOR),
                 "{formula} = {exact} -> {size} (floor): the stride does not divide, and "
                 "floor rounding was used; these conventions use {right.rounding.value}"),
    MistakeModel("ceil rounding", SIZE, _other_rounding(Rounding.CEIL),
                 "{formula} = {exact} -> {size} (ceil): the stride does not divide, and "
                 "ceil rounding was used; these conventions use {right.rounding.value}"),
    MistakeModel("depth = input depth", SIZE,
                 _if(lambda i: i.kind == "conv" and i.c != i.k,
                     lambda i: replace(i, keep_depth=True)),
                 "a conv layer's output depth is its number of filters K = {right.k}, "
                 "not the input depth {c}"),
    MistakeModel("size unchanged", SIZE,
                 _if(lambda i: i.kind != "fc", lambda i: replace(i, keep_size=True)),
                 "{h}x{w} is the input's size; only 'same' padding keeps it"),
]


def one_digit_slip(written: tuple[int, ...] | int, right: tuple[int, ...] | int) -> bool:
    """True when ``written`` is ``right`` with exactly one digit changed (same lengths)."""
    a = written if isinstance(written, tuple) else (written,)
    b = right if isinstance(right, tuple) else (right,)
    if len(a) != len(b):
        return False
    changed = 0
    for x, y in zip(a, b, strict=True):
        sx, sy = str(x), str(y)
        if len(sx) != len(sy):
            return False
        changed += sum(1 for p, q in zip(sx, sy, strict=True) if p != q)
    return changed == 1


def describe(model: MistakeModel, right: Inputs, changed: Inputs, cell: str,
             value: tuple[int, ...] | int) -> str:
    """The model's explanation with the student's numbers."""
    from cnnspec.analysis.records import shape_text

    formula = changed.weights_text() if cell == "weights" else changed.size_text()
    exact = changed.exact_size()
    fields = {
        **{k: getattr(changed, k) for k in Inputs.__dataclass_fields__},
        "right": right, "formula": formula,
        "value": f"{value:,}" if isinstance(value, int) and cell != "side"
        else str(value) if isinstance(value, int) else shape_text(value),
        "size": changed.side(changed.h, changed.fh, changed.sh, changed.ph or 0,
                             changed.ph_end, changed.dh) if changed.kind != "fc" else "",
        "exact": f"{float(exact):.2f}".rstrip("0").rstrip(".") if exact.denominator > 1
        else str(exact),
        "two_p": 2 * (right.ph or 0),
        "layer": "conv" if right.kind == "conv" else "FC",
        "layer_key": "conv" if right.kind == "conv" else "fc",
        "unit": "filter" if right.kind == "conv" else "unit",
    }
    text = model.why.format(**fields)
    shape = changed.output()
    if cell == "nodes" and shape is not None:
        text += f"; that output has {'*'.join(map(str, shape))} = {counts.nodes(shape):,} nodes"
    return text
