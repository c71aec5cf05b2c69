"""Grids of a trained network's filters and of one layer's feature maps, as PNG files.

Room: consumers (render). Takes a built NumPy model (:mod:`cnnspec.engine.model`);
matplotlib (Agg) and NumPy are imported inside functions.

* :func:`draw_filters`: the K kernels of a conv layer, one tile each (colour when the
  layer reads 3 channels, grey planes otherwise), each scaled to its own range.
* :func:`draw_feature_maps`: the input image and the C maps a layer outputs for it —
  the "feature maps" of the lecture notes, seen.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cnnspec.errors import CnnspecError, Location
from cnnspec.render.safe_text import mathtext

MAX_TILES = 64
ACTIVATIONS = ("relu", "sigmoid", "tanh")


def first_conv(model: Any) -> str:
    """The name of the model's first convolution."""
    for row in model.report.leaves():
        if row.kind in ("conv", "table_conv"):
            return row.name
    raise CnnspecError(f"{model.network.name} has no convolution", hint="show-filters needs "
                       "a conv layer")


def feature_layer(model: Any) -> str:
    """The default layer to look at: the first convolution, or the activation just after it."""
    rows = model.report.leaves()
    name = first_conv(model)
    index = next(i for i, r in enumerate(rows) if r.name == name)
    if index + 1 < len(rows) and rows[index + 1].kind in ACTIVATIONS:
        return rows[index + 1].name
    return name


def _grid(count: int) -> tuple[int, int]:
    cols = math.ceil(math.sqrt(count))
    return math.ceil(count / cols), cols


def _save(fig: Any, path: str | Path) -> None:
    from cnnspec.atomic import write_with

    target = Path(path)
    if target.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise CnnspecError(f"cannot write a picture to {target.name!r}", Location(str(target)),
                           "name the file .png, .svg or .pdf")
    write_with(target, lambda handle: fig.savefig(handle, format=target.suffix[1:].lower(),
                                                  dpi=120, facecolor="white"),
               suffix=target.suffix)


def _figure(rows: int, cols: int, tile: float):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(4.5, cols * tile), rows * tile + 1.0))
    return fig, fig.subplots(rows, cols, squeeze=False)


def _title(fig: Any, text: str) -> None:
    """A title wrapped to the figure's width."""
    import textwrap

    chars = int(fig.get_figwidth() * 13)
    wrapped = textwrap.fill(mathtext(text), chars)
    lines = wrapped.count("\n") + 1
    fig.suptitle(wrapped, fontsize=8)
    fig.subplots_adjust(top=1 - (0.2 + 0.16 * lines) / fig.get_figheight())


def draw_filters(model: Any, path: str | Path, layer: str | None = None) -> str:
    """Write the kernels of conv layer ``layer`` (default: the first) to ``path``."""
    import numpy as np

    name = layer or first_conv(model)
    key = f"{name}.weight"
    weights = model.params.get(key)
    if weights is None or weights.ndim != 4:
        convs = [r.name for r in model.report.leaves() if r.kind == "conv"]
        raise CnnspecError(f"{name!r} is not a conv layer of {model.network.name}",
                           hint="conv layers: " + ", ".join(convs[:8]))
    k, c, fh, fw = weights.shape  # (K, C/groups, FH, FW)
    shown = min(k, MAX_TILES)
    colour = c == 3
    planes = 1 if colour else min(c, 8)
    rows, cols = _grid(shown) if planes == 1 else (shown if shown <= 16 else 16, planes)
    shown = min(shown, rows * cols if planes == 1 else rows)
    fig, axes = _figure(rows, cols, 0.9)
    for ax in axes.ravel():
        ax.axis("off")
    for f in range(shown):
        w = weights[f].astype(np.float64)
        w = (w - w.min()) / (w.max() - w.min() or 1.0)  # each filter on its own range
        if planes == 1:
            ax = axes.ravel()[f]
            ax.imshow(w.transpose(1, 2, 0) if colour else w[0], cmap=None if colour else "gray",
                      interpolation="nearest")
            ax.set_title(str(f), fontsize=6)
        else:
            for p in range(planes):
                axes[f, p].imshow(w[p], cmap="gray", interpolation="nearest")
                if f == 0:
                    axes[f, p].set_title(f"in {p}", fontsize=6)
    _title(fig, f"{model.network.name} {name}: {shown} of {k} filters, {fh}x{fw}"
           + ("" if planes == 1 or planes == c else f", first {planes} of {c} input channels")
           + " (each scaled to its own range)")
    _save(fig, path)
    return name


def layer_output(model: Any, x: Any, name: str) -> Any:
    """The output of layer ``name`` for the batch ``x``, running the model up to it.

    Layers inside residual and concat blocks are reached through the block as a whole;
    name the block to see its output.
    """
    from cnnspec.engine import layers as L
    from cnnspec.engine.containers import Sequential

    ctx = L.RunContext(training=False)
    seen: list[str] = []

    def run(seq: Any, x: Any) -> tuple[Any, bool]:
        for child in seq.children:
            if type(child) is Sequential:
                x, found = run(child, x)
                if found or child.name == name:
                    return x, True
                continue
            x = child.forward(x, ctx)
            seen.append(child.name)
            if child.name == name:
                return x, True
        return x, False

    out, found = run(model.root, model.check_input(x))
    if not found:
        raise CnnspecError(f"no layer {name!r} on the main path of {model.network.name}",
                           hint="layers: " + ", ".join(seen[:12])
                           + (" ..." if len(seen) > 12 else ""))
    return out


def draw_feature_maps(model: Any, image: Any, path: str | Path, layer: str | None = None,
                      title: str = "") -> tuple[str, tuple[int, ...]]:
    """Write the input ``image`` (C, H, W) and layer ``layer``'s maps for it to ``path``."""
    import numpy as np

    name = layer or feature_layer(model)
    out = layer_output(model, image[None], name)[0]
    if out.ndim != 3:
        raise CnnspecError(f"{name} outputs a vector of {out.size} values, not maps",
                           hint="pick a conv or pooling layer")
    c = out.shape[0]
    shown = min(c, MAX_TILES)
    rows, cols = _grid(shown + 1)
    fig, axes = _figure(rows, cols, 1.1)
    for ax in axes.ravel():
        ax.axis("off")
    picture = image.transpose(1, 2, 0) if image.shape[0] == 3 else image[0]
    lo, hi = float(picture.min()), float(picture.max())
    axes.ravel()[0].imshow((picture - lo) / (hi - lo or 1.0),
                           cmap=None if image.shape[0] == 3 else "gray")
    axes.ravel()[0].set_title("input", fontsize=7)
    for k in range(shown):
        ax = axes.ravel()[k + 1]
        ax.imshow(np.asarray(out[k]), cmap="viridis", interpolation="nearest")
        ax.set_title(f"{k}", fontsize=6)
    _title(fig, f"{model.network.name} {name}: {shown} of {c} feature maps, "
                f"{out.shape[1]}x{out.shape[2]}" + (f". Input: {title}" if title else ""))
    _save(fig, path)
    return name, tuple(out.shape)
