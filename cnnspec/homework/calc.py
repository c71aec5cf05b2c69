"""The calculator that shows its working: output size, parameters, connections,
receptive field and memory, each with the formula and the numbers put in.

Room: consumers (homework). Every number comes from ``cnnspec.analysis``:
``conv_output_size`` for sizes, ``counts`` for weights and connections, the
analysis walk for receptive fields. This module only writes the working down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnspec.analysis import counts
from cnnspec.analysis.shapes import OutputSize, SizeError, conv_output_size
from cnnspec.conventions import DTYPE_BYTES, Conventions, Rounding
from cnnspec.errors import AnalysisError, Location

Pair = tuple[int, int]


@dataclass(frozen=True)
class Working:
    """A calculator answer: a title, the lines that derive it, and the answer.

    ``ok`` is False when the settings are impossible (a stride that does not fit
    under strict rounding); ``data`` is the JSON form.
    """

    title: str
    lines: list[str]
    answer: str
    ok: bool = True
    data: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The working as plain text."""
        body = "\n".join(f"  {line}" for line in self.lines)
        return f"{self.title}\n{body}\nanswer: {self.answer}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"title": self.title, "lines": self.lines, "answer": self.answer, "ok": self.ok,
                **self.data}


# -- output size ----------------------------------------------------------------------------
def _whole(n: int, f: int, s: int, p: int | Pair, d: int) -> OutputSize | None:
    try:
        return conv_output_size(n, f, s, p, d, Rounding.STRICT)
    except SizeError:
        return None


def _nearest(candidates: list[int], current: int, works) -> list[tuple[int, int]]:
    """Up to one working candidate below and one above ``current``: ``(value, output)``."""
    found: list[tuple[int, int]] = []
    for side in (sorted((c for c in candidates if c < current), reverse=True),
                 sorted(c for c in candidates if c > current)):
        for candidate in side:
            out = works(candidate)
            if out is not None:
                found.append((candidate, out.size))
                break
    return found


def whole_settings(n: int, f: int, s: int, p: int, d: int = 1) -> list[str]:
    """Nearby settings under which ``(N + 2P - D(F-1) - 1)/S + 1`` is whole.

    Each suggestion is checked by :func:`conv_output_size` with strict rounding.
    """
    options: list[str] = []

    def join(name: str, found: list[tuple[int, int]]) -> None:
        if found:
            options.append(f"{name} " + " or ".join(f"{v} (-> {o})" for v, o in found))

    join("input", _nearest(list(range(max(1, n - s), n + s + 1)), n,
                           lambda v: _whole(v, f, s, p, d)))
    padding = _nearest(list(range(0, p + s + 1)), p, lambda v: _whole(n, f, s, v, d))
    join("padding", padding)
    if not padding:
        for extra in range(1, s):
            out = _whole(n, f, s, (p, p + extra), d)
            if out is not None:
                options.append(f"padding {p} before + {p + extra} after (-> {out.size})")
                break
    join("stride", _nearest(list(range(1, 2 * s + 1)), s, lambda v: _whole(n, f, v, p, d)))
    join("filter", _nearest(list(range(1, f + s + 1)), f, lambda v: _whole(n, v, s, p, d)))
    return options


def output_size(input_shape: tuple[int, ...], kernel: Pair, stride: Pair = (1, 1),
                padding: Pair = (0, 0), dilation: Pair = (1, 1), filters: int | None = None,
                rounding: Rounding = Rounding.STRICT) -> Working:
    """``O = (N + 2P - F)/S + 1`` per axis (``(N + 2P - D(F-1) - 1)/S + 1`` when dilated).

    Under strict rounding a quotient that is not whole makes ``ok`` False and the
    working lists the floor and ceil values and the nearest settings that fit.
    """
    h, w = input_shape[0], input_shape[1]
    depth = input_shape[2] if len(input_shape) == 3 else None
    axes = [("O", h, kernel[0], stride[0], padding[0], dilation[0])]
    if (h, kernel[0], stride[0], padding[0], dilation[0]) != (w, kernel[1], stride[1],
                                                             padding[1], dilation[1]):
        axes = [("O_H", h, kernel[0], stride[0], padding[0], dilation[0]),
                ("O_W", w, kernel[1], stride[1], padding[1], dilation[1])]
    general = "(N + 2P - F)/S + 1" if dilation == (1, 1) else "(N + 2P - D(F-1) - 1)/S + 1"
    lines = [f"O = {general}"]
    sizes: list[int] = []
    ok = True
    data: dict[str, Any] = {"axes": []}
    for name, n, f, s, p, d in axes:
        try:
            result = conv_output_size(n, f, s, p, d, rounding)
        except SizeError as exc:
            if "larger than the padded input" in exc.message:
                raise AnalysisError(exc.message, Location("--filter"), exc.hint) from None
            result = None
        floor = conv_output_size(n, f, s, p, d, Rounding.FLOOR)
        exact = floor.exact_text
        if not floor.rounded:
            lines.append(f"{name} = {floor.arithmetic} = {exact}")
            sizes.append(floor.size)
            data["axes"].append({"axis": name, "arithmetic": floor.arithmetic, "size": floor.size})
            continue
        ceil = conv_output_size(n, f, s, p, d, Rounding.CEIL)
        lines.append(f"{name} = {floor.arithmetic} = {exact} is not a whole number: "
                     f"stride {s} does not fit, so under the strict rule this stride cannot "
                     f"be used")
        lines.append(f"floor gives {floor.size} (PyTorch, Keras: the last partial window is "
                     f"dropped); ceil gives {ceil.size} (Caffe pooling: it is kept)")
        fixes = whole_settings(n, f, s, p, d)
        if fixes:
            lines.append("nearest settings that make it whole: " + "; ".join(fixes))
        data["axes"].append({"axis": name, "arithmetic": floor.arithmetic, "exact": exact,
                             "floor": floor.size, "ceil": ceil.size, "fixes": fixes})
        if result is None:
            ok = False
            sizes.append(floor.size)
        else:
            lines.append(f"with {rounding.value} rounding: {name} = {result.size}")
            sizes.append(result.size)
    out_h, out_w = (sizes[0], sizes[0]) if len(sizes) == 1 else (sizes[0], sizes[1])
    shape: tuple[int, ...] = (out_h, out_w)
    if filters is not None:
        lines.append(f"depth = number of filters = {filters}")
        shape = (out_h, out_w, filters)
    elif depth is not None:
        lines.append("depth = number of filters (give --filters K); a pooling layer keeps "
                     f"the input depth {depth}")
    text = "x".join(map(str, shape))
    if len(shape) == 3:
        text += f" (= {counts.nodes(shape):,} nodes)"
    title = (f"output size: {'x'.join(map(str, input_shape))} input, "
             f"{kernel[0]}x{kernel[1]} filter, stride {_pair(stride)}, padding {_pair(padding)}"
             + (f", dilation {_pair(dilation)}" if dilation != (1, 1) else ""))
    answer = text
    if not ok:
        first = data["axes"][0] if "floor" in data["axes"][0] else data["axes"][-1]
        answer = (f"{first['exact']} is not a whole number: floor {first['floor']} / "
                  f"ceil {first['ceil']}; this stride cannot be used under strict rounding")
    data["output"] = list(shape)
    return Working(title, lines, answer, ok, data)


def _pair(pair: Pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


# -- parameters -----------------------------------------------------------------------------
def conv_parameters(kernel: Pair, depth: int, filters: int, bias: bool = True,
                    groups: int = 1) -> Working:
    """Conv parameters: ``(FH * FW * C_in/groups + 1) * K`` (no bias: ``FH*FW*C_in/groups*K``)."""
    fh, fw = kernel
    if depth % groups or filters % groups:
        raise AnalysisError(f"groups={groups} must divide the depth ({depth}) and the filters "
                            f"({filters})", Location("--groups"), "pick a divisor of both")
    per_filter = counts.conv_weights(fh, fw, depth, 1, groups)
    total = counts.conv_params(fh, fw, depth, filters, groups, bias)
    c_text = f"{depth}/{groups}" if groups > 1 else str(depth)
    formula = f"({fh}*{fw}*{c_text}{' + 1' if bias else ''}) * {filters}"
    lines = [
        f"one filter spans the full input depth: {fh}*{fw}*{c_text} = {per_filter:,} weights",
    ]
    if bias:
        lines.append(f"+ 1 bias per filter = {per_filter + 1:,} parameters per filter")
    lines.append(f"x {filters} filter{'s' if filters != 1 else ''}: {formula} = {total:,}")
    return Working(f"parameters of a conv layer: {fh}x{fw} filters on depth {depth}, "
                   f"{filters} filter{'s' if filters != 1 else ''}"
                   + ("" if bias else ", no bias"),
                   lines, f"{total:,} = {formula}", data={"params": total})


def fc_parameters(inputs: tuple[int, ...], units: int, bias: bool = True) -> Working:
    """``(in + 1) * out`` parameters of a fully connected layer (``in * out`` without bias)."""
    n_in = counts.nodes(inputs)
    total = counts.fc_params(n_in, units, bias)
    in_text = "x".join(map(str, inputs))
    lines = []
    if len(inputs) > 1:
        lines.append(f"the {in_text} input is flattened: {'*'.join(map(str, inputs))} "
                     f"= {n_in:,} inputs")
    formula = f"({in_text}{' + 1' if bias else ''}) * {units}" if bias else \
        f"{in_text} * {units}"
    lines.append(f"every input to every one of {units:,} units: {formula} = {total:,}")
    return Working(f"parameters of an FC layer: {in_text} -> {units}"
                   + ("" if bias else ", no bias"), lines, f"{total:,} = {formula}",
                   data={"params": total})


def connections(kernel: Pair, input_shape: tuple[int, ...], stride: Pair = (1, 1),
                padding: Pair = (0, 0), filters: int | None = None) -> Working:
    """Connections per neuron: ``FH * FW * C_in`` (one weight each); layer total = MACs."""
    fh, fw = kernel
    depth = input_shape[-1]
    per_neuron = counts.conv_weights(fh, fw, depth, 1)
    lines = [f"each output neuron sees a {fh}x{fw} window through the full input depth "
             f"{depth}: {fh}*{fw}*{depth} = {per_neuron:,} connections (one weight each)",
             f"+ 1 bias = {per_neuron + 1:,} parameters per filter"]
    data: dict[str, Any] = {"per_neuron": per_neuron}
    if len(input_shape) == 3 and filters is not None:
        oh = conv_output_size(input_shape[0], fh, stride[0], padding[0], 1, Rounding.FLOOR)
        ow = conv_output_size(input_shape[1], fw, stride[1], padding[1], 1, Rounding.FLOOR)
        total = counts.conv_macs(oh.size, ow.size, filters, fh, fw, depth)
        lines.append(f"output {oh.size}x{ow.size}x{filters}: {oh.size}*{ow.size}*{filters} "
                     f"neurons x {per_neuron:,} = {total:,} connections (= the layer's MACs)")
        data["total"] = total
    shape = "x".join(map(str, input_shape))
    return Working(f"connections of a {fh}x{fw} filter on a {shape} input", lines,
                   f"{per_neuron:,} = {fh}*{fw}*{depth} connections per neuron", data=data)


# -- memory ---------------------------------------------------------------------------------
def memory(values: int, dtype: str = "float32") -> Working:
    """``bytes = values * bytes per value``; ``MB = bytes / 1000^2``; ``MiB = bytes / 1024^2``."""
    size = DTYPE_BYTES[dtype]
    total = values * size
    lines = [f"{values:,} values x {size} B ({dtype}) = {total:,} bytes",
             f"in MB (1000^2 bytes): {total:,} / 1,000,000 = {total / 10**6:,.2f} MB",
             f"in MiB (1024^2 bytes): {total:,} / 1,048,576 = {total / 2**20:,.2f} MiB "
             f"(what many lectures call MB)"]
    return Working(f"memory of {values:,} {dtype} values", lines,
                   f"{total:,} bytes = {total / 10**6:,.2f} MB = {total / 2**20:,.2f} MiB",
                   data={"bytes": total})


# -- receptive field ------------------------------------------------------------------------
def receptive_field(spec: str, input_shape: str | None = None) -> Working:
    """The receptive field of a stack, row by row: ``r = r_in + D(F-1) * j_in``, ``j = j_in * S``.

    Also compares the weights per (input channel, output channel) pair of the
    stacked convolutions, ``sum FH*FW``, with one convolution of the same field.
    """
    from cnnspec.analysis import analyze
    from cnnspec.api import load
    from cnnspec.errors import SpecError
    from cnnspec.homework.nodes import input_field, map_nodes, node_at

    network = load(spec).network

    def one_channel(node: Any) -> Any:
        if node.kind == "conv":
            return node.model_copy(update={"filters": 1, "groups": 1, "in_channels": None})
        if node.kind == "fc" and node.units is None:
            return node.model_copy(update={"units": 1})
        return node

    layers = map_nodes(list(network.layers), one_channel)
    floor = Conventions(preset="receptive", rounding=Rounding.FLOOR)
    given = None
    if input_shape is not None:
        from cnnspec.spec.load import parse_input

        given = parse_input(input_shape, Location("--input"))
    side = given or (512, 512, 1)
    try:
        trial = network.model_copy(update={"layers": layers, "input": (side[0], side[1], 1),
                                           "conventions": floor, "claims": None})
        report = analyze(trial)
        if given is None:
            leaves = report.leaves()
            rh, rw = leaves[-1].rf_size if leaves else (1, 1)
            try:
                smallest = trial.model_copy(update={"input": (rh, rw, 1)})
                report = analyze(smallest)
            except AnalysisError:
                pass
    except (AnalysisError, SpecError) as exc:
        raise AnalysisError(exc.message, exc.loc, exc.hint or "give --input HxWxC") from None
    rows = report.leaves()
    lines = ["r = r_in + D*(F-1)*j_in;  j = j_in*S  (start: r = 1, j = 1)"]
    for row in rows:
        node = node_at(trial, row.path)
        prev_r, prev_j = input_field(report.layers, row.path)
        r, j = row.rf_size, row.rf_jump
        if row.kind in ("add", "concat_merge"):
            lines.append(f"{row.name}: the widest of its branches, r = {r[0]}")
        elif r != prev_r or j != prev_j:
            k = getattr(node, "kernel", None)
            s = getattr(node, "stride", None) or k
            d = getattr(node, "dilation", (1, 1))
            if k is not None and s is not None:
                dil = f"{d[0]}*" if d[0] != 1 else ""
                lines.append(f"{row.name} ({k[0]}x{k[1]}, s={s[0]}): r = {prev_r[0]} + "
                             f"{dil}({k[0]}-1)*{prev_j[0]} = {r[0]}, j = {prev_j[0]}*{s[0]} "
                             f"= {j[0]}" + (f"  (width: r = {r[1]})" if r[1] != r[0] else ""))
            else:
                lines.append(f"{row.name}: sees its whole input, r = {r[0]}")
    rh, rw = rows[-1].rf_size if rows else (1, 1)
    convs = [row for row in rows if row.kind == "conv"]
    data: dict[str, Any] = {"receptive_field": [rh, rw],
                            "jump": list(rows[-1].rf_jump if rows else (1, 1))}
    if len(convs) > 1:
        stacked = sum(row.weights for row in convs)
        single = counts.conv_weights(rh, rw, 1, 1)
        terms = " + ".join(f"{row.weights}" for row in convs)
        lines.append(f"weights per (input channel, output channel) pair, no bias: "
                     f"{len(convs)} stacked convs {terms} = {stacked} vs one {rh}x{rw} conv "
                     f"{rh}*{rw} = {single}")
        if stacked < single:
            lines.append(f"the stack needs {100 * (single - stacked) / single:.0f}% fewer "
                         f"weights for the same field, with {len(convs)} non-linearities "
                         f"instead of 1 (with C channels in and out: {stacked}C^2 vs "
                         f"{single}C^2)")
        data.update(stacked_weights=stacked, single_weights=single)
    answer = f"{rh}x{rw}"
    if "stacked_weights" in data:
        answer += (f"; {data['stacked_weights']} vs {data['single_weights']} weights per "
                   f"channel pair")
    return Working(f"receptive field of {spec}", lines, answer, data=data)
