"""The words of the notation: layer names, their aliases, and argument names.

Room: spec; imports nothing from cnnspec but errors and the activation table.

Names are case-insensitive. Each spelling maps to a canonical ``kind`` plus
fixed arguments (``MPool`` is ``pool`` with ``mode: max``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from cnnspec.spec.activation_table import ACTIVATIONS


@dataclass(frozen=True)
class Word:
    """One layer name: the kind it builds, fixed arguments, and how to display it."""

    kind: str
    display: str
    fixed: dict[str, Any] = field(default_factory=dict)


# display name -> the other spellings, as written (for listings; lookups ignore case)
SPELLINGS: dict[str, tuple[str, ...]] = {}


def _words() -> dict[str, Word]:
    table: dict[str, Word] = {}

    def add(display: str, kind: str, *aliases: str, **fixed: Any) -> None:
        SPELLINGS[display] = SPELLINGS.get(display, ()) + aliases
        for spelling in (display, *aliases):
            table[spelling.lower()] = Word(kind, display, fixed)

    add("Conv", "conv", "Convolution", "Conv2d", "CONV")
    add("Pool", "pool", "Pooling", mode="max")
    add("MPool", "pool", "MaxPool", "MaxPool2d", "Max_Pool", mode="max")
    add("APool", "pool", "AvgPool", "AvgPool2d", "AveragePool", "Avg_Pool", mode="avg")
    add("StochPool", "pool", "StochasticPool", mode="stochastic")
    add("GAP", "global_pool", "GlobalAvgPool", "GlobalAveragePool", mode="avg")
    add("GMP", "global_pool", "GlobalMaxPool", mode="max")
    add("AdaptiveAvgPool", "adaptive_pool", "AdaptiveAvgPool2d", "AdaptivePool")
    add("FC", "fc", "Dense", "Linear", "FullyConnected")
    add("ReLU", "relu")
    add("Sigmoid", "sigmoid", "Sigm")
    add("Tanh", "tanh")
    add("SM", "softmax", "Softmax")
    add("Flatten", "flatten")
    add("Dropout", "dropout", "Drop")
    add("LRN", "lrn", "Norm")
    add("BN", "batchnorm", "BatchNorm", "BatchNorm2d", "BatchNormalization")
    add("Subsample", "subsample", "Subsampling")
    add("Incept", "concat", "Inception")
    add("Concat", "concat")
    add("Residual", "residual", "Res")
    add("Aux", "aux", "AuxHead")
    add("Transition", "transition", "Trans")
    add("DualPath", "dual_path", "DualPathBlock", "DPNBlock")
    add("TableConv", "table_conv", "ConnectionTableConv")
    add("Gate", "gate", "Multiply", "Scale")
    add("Split", "split", "ChannelSplit", "Chunk")
    add("Shuffle", "shuffle", "ChannelShuffle")
    for entry in ACTIVATIONS:
        add(entry.display, entry.kind, *entry.aliases)
    return table


WORDS: dict[str, Word] = _words()

# Argument names as users write them -> field names, per kind.
_COMMON = {"label": "label", "name": "label"}
ARG_NAMES: dict[str, dict[str, str]] = {
    "conv": {
        "k": "kernel", "kernel": "kernel", "kernel_size": "kernel", "size": "kernel",
        "f": "kernel", "filter": "kernel",
        "n": "filters", "filters": "filters", "out": "filters", "out_channels": "filters",
        "channels": "filters", "num": "filters",
        "in": "in_channels", "in_channels": "in_channels", "depth": "in_channels",
        "s": "stride", "stride": "stride",
        "p": "padding", "pad": "padding", "padding": "padding",
        "d": "dilation", "dilation": "dilation",
        "g": "groups", "groups": "groups",
        "bias": "bias", "value": "pad_value", "pad_value": "pad_value",
    },
    "pool": {
        "k": "kernel", "kernel": "kernel", "size": "kernel", "kernel_size": "kernel",
        "f": "kernel",
        "s": "stride", "stride": "stride",
        "p": "padding", "pad": "padding", "padding": "padding",
        "mode": "mode", "ceil": "ceil_mode", "ceil_mode": "ceil_mode",
    },
    "global_pool": {"mode": "mode"},
    "adaptive_pool": {"output": "output", "size": "output", "output_size": "output"},
    "fc": {"n": "units", "units": "units", "out": "units", "out_features": "units",
           "bias": "bias"},
    "dropout": {"p": "p", "rate": "p"},
    "lrn": {"n": "size", "size": "size", "k": "k", "alpha": "alpha", "beta": "beta"},
    "batchnorm": {"eps": "eps", "momentum": "momentum"},
    "subsample": {"k": "kernel", "kernel": "kernel", "size": "kernel", "s": "stride",
                  "stride": "stride"},
    "expect": {"shape": "shape"},
    "transition": {"compression": "compression", "theta": "compression", "c": "compression",
                   "pool": "pool", "bias": "bias"},
    "dual_path": {"width": "width", "r": "width", "out": "out", "inc": "inc", "k": "inc",
                  "groups": "groups", "g": "groups", "s": "stride", "stride": "stride",
                  "proj": "projection", "projection": "projection", "eps": "eps"},
    "table_conv": {"k": "kernel", "kernel": "kernel", "size": "kernel",
                   "connections": "connections", "table": "connections",
                   "s": "stride", "stride": "stride", "p": "padding", "pad": "padding",
                   "padding": "padding", "bias": "bias"},
    "split": {"part": "part", "of": "of", "start": "start", "stop": "stop", "end": "stop"},
    "shuffle": {"groups": "groups", "g": "groups"},
}
for _entry in ACTIVATIONS:
    ARG_NAMES[_entry.kind] = {s: k.name for k in _entry.knobs for s in (k.name, *k.spellings)}
for _names in ARG_NAMES.values():
    _names.update(_COMMON)

# Positional arguments in ``Name(a, b, ...)``, per kind.
POSITIONAL: dict[str, tuple[str, ...]] = {
    "conv": ("kernel", "filters"),
    "pool": ("kernel", "stride"),
    "adaptive_pool": ("output",),
    "fc": ("units",),
    "dropout": ("p",),
    "lrn": ("size", "k", "alpha", "beta"),
    "batchnorm": ("eps",),
    "subsample": ("kernel",),
    "transition": ("compression",),
    "dual_path": ("width", "out", "inc", "groups"),
    "table_conv": ("kernel",),
    "split": ("part", "of"),
    "shuffle": ("groups",),
    **{entry.kind: tuple(k.name for k in entry.knobs) for entry in ACTIVATIONS if entry.knobs},
}


def lookup(name: str) -> Word | None:
    """The :class:`Word` for a spelling, or ``None``."""
    return WORDS.get(name.lower())


def suggest(name: str, choices: list[str] | None = None) -> str | None:
    """The closest known layer name to a misspelling (displayed spelling), or ``None``."""
    pool = choices if choices is not None else list(WORDS)
    found = difflib.get_close_matches(name.lower(), [c.lower() for c in pool], n=1, cutoff=0.5)
    if not found:
        return None
    if choices is not None:
        return next(c for c in choices if c.lower() == found[0])
    word = WORDS[found[0]]
    exact = [d for d in (word.display,) if d.lower() == found[0]]
    return exact[0] if exact else _spelling(found[0])


def _spelling(lowered: str) -> str:
    """A readable spelling of an alias: the display name when it matches, else capitalised."""
    word = WORDS[lowered]
    if word.display.lower() == lowered:
        return word.display
    for candidate in ("MaxPool", "AvgPool", "Softmax", "Dense", "Linear", "BatchNorm", "Norm"):
        if candidate.lower() == lowered:
            return candidate
    return lowered.capitalize()


def arg_field(kind: str, key: str) -> str | None:
    """The model field an argument name refers to for ``kind``, or ``None``."""
    return ARG_NAMES.get(kind, _COMMON).get(key.lower())


def known_args(kind: str) -> list[str]:
    """Argument spellings accepted for ``kind``, for suggestions."""
    return sorted(ARG_NAMES.get(kind, _COMMON))
