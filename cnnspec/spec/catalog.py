"""The language's vocabulary as a user reads it: each layer and block with one example.

Room: spec; built from :mod:`cnnspec.spec.vocabulary` (names, aliases, argument
names), so a new word shows up here with its spellings. Its example is written
here, and a test parses every example and checks that every word has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnspec.spec import vocabulary as vocab
from cnnspec.spec.activation_table import ACTIVATIONS

CONTAINERS = ("residual", "concat", "gate", "aux")  # words that hold layers: written in YAML


@dataclass(frozen=True)
class Entry:
    """One word of the language: what it is, how it may be spelled, one example.

    ``form`` is ``"string"`` when the example is a network string, ``"yaml"`` when
    it is an item of a YAML ``architecture:`` list, ``"file"`` when it is YAML keys.
    """

    name: str
    group: str  # "layer" or "block"
    what: str
    example: str
    form: str = "string"
    aliases: tuple[str, ...] = ()
    arguments: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"name": self.name, "group": self.group, "what": self.what,
                "example": self.example, "form": self.form, "aliases": list(self.aliases),
                "arguments": list(self.arguments)}


# display name -> (what it is, one example); the example parses as written.
_LAYERS: dict[str, tuple[str, str]] = {
    "Conv": ("convolution: kernel, filters; s=stride, p=padding (or same), d, g, bias",
             "Conv(3x3, 64, s=1, p=1)"),
    "Pool": ("max pooling (the lecture's Pool): kernel, stride", "Pool(2)"),
    "MPool": ("max pooling: kernel, stride, p=padding, ceil=true", "MPool(3, s=2)"),
    "APool": ("average pooling: kernel, stride", "APool(2, s=2)"),
    "StochPool": ("stochastic pooling (Zeiler & Fergus): kernel, stride", "StochPool(2)"),
    "GAP": ("global average pooling: H x W x C -> 1 x 1 x C", "GAP"),
    "GMP": ("global max pooling: H x W x C -> 1 x 1 x C", "GMP"),
    "AdaptiveAvgPool": ("average pooling to a fixed output size", "AdaptiveAvgPool(6x6)"),
    "FC": ("fully connected: units (flattens its input)", "FC(10)"),
    "ReLU": ("max(0, x)", "ReLU"),
    "Sigmoid": ("1 / (1 + e^-x)", "Sigmoid"),
    "Tanh": ("hyperbolic tangent", "Tanh"),
    "SM": ("softmax over the classes", "SM"),
    "Flatten": ("H x W x C -> H*W*C", "Flatten"),
    "Dropout": ("drops a fraction p of the values in training", "Dropout(0.5)"),
    "LRN": ("local response normalisation: size, k, alpha, beta", "LRN(5, 2, 1e-4, 0.75)"),
    "BN": ("batch normalisation: eps, momentum", "BN"),
    "Subsample": ("LeNet-5's trainable subsampling: kernel", "Subsample(2)"),
    "Transition": ("DenseNet's BN-ReLU-Conv(1x1)-AvgPool(2): compression theta",
                   "Transition(0.5)"),
    "DualPath": ("DPN's dual-path block: width, out, inc, groups; s, proj",
                 "DualPath(96, 256, 16, 32, s=1, proj=true)"),
    "Split": ("a part of the channels: part i of n equal parts, or start=, stop=", "Split(1, 2)"),
    "Shuffle": ("channel shuffle across g groups (ShuffleNet)", "Shuffle(2)"),
    # the element-wise activations: their formula from the one table, their name as example
    **{a.display: (a.formula, a.display) for a in ACTIVATIONS},
}

# YAML-only layers: (what it is, one ``architecture:`` item)
_YAML_LAYERS: dict[str, tuple[str, str]] = {
    "TableConv": ("LeNet-5's partially connected conv: connections[k] = inputs of filter k",
                  "- {kind: table_conv, kernel: 5, connections: [[0, 1, 2], [1, 2, 3]]}"),
}

# blocks: (name, what, example, form); containers are written in YAML.
_BLOCKS: tuple[tuple[str, str, str, str], ...] = (
    ("[ ... ] x N", "a group of layers repeated N times; [...] repeats the previous group",
     "[Conv(3x3, 64, p=1)-ReLU] x 2", "string"),
    ("Residual", "y = F(x) + shortcut(x); no shortcut is the identity",
     '- residual: {body: "Conv(3x3,64,p=1)-BN-ReLU-Conv(3x3,64,p=1)-BN"}', "yaml"),
    ("Concat", "branches on one input, concatenated on channels (Incept is the same)",
     '- concat: {branches: ["Conv(1x1,64)", "Conv(1x1,96)-Conv(3x3,128,p=1)"]}', "yaml"),
    ("Gate", "y = x * g(x): the input times what the body computes (squeeze-and-excitation)",
     "- gate: GAP-Conv(1x1, 16)-ReLU-Conv(1x1, 64)-Sigmoid", "yaml"),
    ("Aux", "an auxiliary classifier head: trained beside the main output, skipped at inference",
     "- aux: AdaptiveAvgPool(4x4)-Conv(1x1,128)-Flatten-FC(1024)-ReLU-FC(10)", "yaml"),
    ("(F x F x C)@K", "K filters of F x F x C, the lecture's notation for a conv",
     "(1x1x500)@120", "string"),
    ("blocks:", "a named block with parameters, defined once in YAML and called like a layer",
     'blocks:\n  basic(n): "Conv(3x3, n, p=1)-ReLU"\narchitecture:\n  - basic(64)', "file"),
)


def entries() -> list[Entry]:
    """Every layer name (with its aliases and argument names), then the blocks."""
    found: list[Entry] = []
    for display, aliases in vocab.SPELLINGS.items():
        word = vocab.lookup(display)
        assert word is not None
        if word.kind in CONTAINERS:
            continue  # listed among the blocks
        form = "yaml" if display in _YAML_LAYERS else "string"
        what, example = _LAYERS.get(display) or _YAML_LAYERS.get(display) or ("", "")
        arguments = sorted({name for name, field in vocab.ARG_NAMES.get(word.kind, {}).items()
                            if name == field and field != "label"})
        found.append(Entry(display, "layer", what, example, form, aliases, tuple(arguments)))
    for name, what, example, form in _BLOCKS:
        word = vocab.lookup(name)
        aliases = () if word is None else tuple(
            spelling for display, spellings in vocab.SPELLINGS.items()
            if vocab.WORDS[display.lower()].kind == word.kind
            for spelling in (display, *spellings) if spelling != name)
        found.append(Entry(name, "block", what, example, form, aliases))
    return found
