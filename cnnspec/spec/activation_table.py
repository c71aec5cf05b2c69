"""The table of element-wise activations: one entry per activation, read by every room.

Room: spec; plain data, imports nothing from cnnspec.

An entry names the layer kind, how users write it, its settings (``Knob``) and
its formula. The spec models (``activations.py``), the vocabulary, the analysis,
the engine's pairs and the exporters all key on ``kind``: adding an activation
is one entry here plus one forward/backward pair and one export line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Knob:
    """One setting of an activation: its field, default, bounds and spellings."""

    name: str
    default: Any
    description: str
    spellings: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    gt: float | None = None
    ge: float | None = None

    @property
    def kind(self) -> type:
        """The value type: ``str`` for a choice, else the default's type."""
        return str if self.choices else type(self.default)


@dataclass(frozen=True)
class ActivationEntry:
    """An element-wise activation: ``out = f(x)`` value by value, shape unchanged.

    ``learned`` activations (PReLU) hold trainable slopes; the others have none.
    """

    kind: str
    display: str
    aliases: tuple[str, ...]
    formula: str
    knobs: tuple[Knob, ...] = ()
    learned: bool = False


ACTIVATIONS: tuple[ActivationEntry, ...] = (
    ActivationEntry("relu6", "ReLU6", ("Relu6",), "min(max(0, x), 6)"),
    ActivationEntry("leaky_relu", "LeakyReLU", ("LReLU", "LeakyRelu"),
                    "x if x > 0 else slope * x",
                    (Knob("slope", 0.01, "Slope for x <= 0.", ("slope", "negative_slope", "a"),
                          ge=0.0),)),
    ActivationEntry("prelu", "PReLU", ("Prelu",),
                    "x if x > 0 else a_c * x, a learned (one shared a, or one per channel)",
                    (Knob("num_parameters", 1, "Learned slopes: 1 (shared) or C (per channel).",
                          ("num_parameters", "n", "slopes"), gt=0),
                     Knob("init", 0.25, "Initial slope.", ("init",))),
                    learned=True),
    ActivationEntry("elu", "ELU", ("Elu",), "x if x > 0 else alpha * (exp(x) - 1)",
                    (Knob("alpha", 1.0, "Scale of the negative part.", ("alpha", "a"),
                          gt=0.0),)),
    ActivationEntry("silu", "SiLU", ("Swish",), "x * sigmoid(x)"),
    ActivationEntry("gelu", "GELU", ("Gelu",),
                    "x * Phi(x) = x/2 * (1 + erf(x / sqrt 2)); tanh form: "
                    "x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))",
                    (Knob("approximate", "none", "'none' (erf) or 'tanh'.",
                          ("approximate", "form"), choices=("none", "tanh")),)),
    ActivationEntry("hardswish", "Hardswish", ("HardSwish", "HSwish", "h_swish"),
                    "x * min(max(x + 3, 0), 6) / 6"),
    ActivationEntry("hardsigmoid", "Hardsigmoid", ("HardSigmoid", "HSigmoid", "h_sigmoid"),
                    "min(max(x + 3, 0), 6) / 6"),
    ActivationEntry("mish", "Mish", (), "x * tanh(softplus(x))"),
    ActivationEntry("softplus", "Softplus", ("SoftPlus",),
                    "log(1 + exp(beta * x)) / beta; x where beta * x > threshold",
                    (Knob("beta", 1.0, "Sharpness beta.", ("beta", "b"), gt=0.0),
                     Knob("threshold", 20.0, "Above beta * x > threshold the output is x.",
                          ("threshold", "t"), gt=0.0))),
)

BY_KIND: dict[str, ActivationEntry] = {entry.kind: entry for entry in ACTIVATIONS}
"""kind -> entry."""


def knob_values(node: Any) -> dict[str, Any]:
    """The settings of an activation node as ``{name: value}`` (its knobs' fields)."""
    entry = BY_KIND[node.kind]
    return {knob.name: getattr(node, knob.name) for knob in entry.knobs}


def settings_text(node: Any) -> str:
    """``slope=0.1`` for a node whose knobs differ from their defaults; '' otherwise."""
    entry = BY_KIND[node.kind]
    parts = [f"{k.name}={getattr(node, k.name):g}" if not k.choices
             else f"{k.name}={getattr(node, k.name)}"
             for k in entry.knobs if getattr(node, k.name) != k.default]
    return ", ".join(parts)
