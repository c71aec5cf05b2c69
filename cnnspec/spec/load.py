"""From the user's text to one validated :class:`Network` tree.

Room: spec. ``load`` accepts a file path, a zoo name or a network string.
Every problem becomes a :class:`SpecError` that names the place (the YAML
``line:column`` or the string column, with a caret) and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cnnspec import conventions as conv_mod
from cnnspec.errors import Location, SpecError
from cnnspec.spec import vocabulary as vocab
from cnnspec.spec import zoo
from cnnspec.spec.budget import MAX_SIZE, collector_paused, shown, whole_number
from cnnspec.spec.notation import parse_string
from cnnspec.spec.source import SourceRef
from cnnspec.spec.templates import Scope, parse_definitions
from cnnspec.spec.tree import Network
from cnnspec.spec.validation import validate
from cnnspec.spec.yaml_arch import apply_defaults, apply_label_args, architecture, block_expander
from cnnspec.spec.yaml_io import load_yaml, read_text

TOP_KEYS = ("name", "description", "input", "conventions", "architecture", "layers",
            "defaults", "claims", "blocks")


def looks_like_path(text: str) -> bool:
    """True when ``text`` names a file rather than a network string."""
    return text.endswith((".yaml", ".yml")) or ("/" in text and not re.search(r"[(\[]", text))


def is_existing_file(text: str) -> bool:
    """True when ``text`` names an existing file (a long network string never does)."""
    if len(text) > 1024 or "\n" in text:
        return False
    try:
        return Path(text).expanduser().is_file()
    except OSError:
        return False


def load(
    spec: str | Path,
    *,
    input_shape: str | tuple[int, ...] | None = None,
    conventions: str | None = None,
) -> Network:
    """The validated network for a file path, a zoo name, or a network string.

    ``input_shape`` (``"32x32x1"``) and ``conventions`` (a preset name) override the spec's.
    """
    if isinstance(spec, Path) or looks_like_path(str(spec)) or is_existing_file(str(spec)):
        path = Path(spec).expanduser()
        network = from_yaml(read_text(path), str(path))
    elif zoo.find(str(spec)) is not None:
        path = zoo.find(str(spec))
        assert path is not None
        network = from_yaml(read_text(path), str(path))
    else:
        check_zoo_typo(str(spec))
        network = from_string(str(spec))
    return with_overrides(network, input_shape, conventions)


def check_zoo_typo(text: str) -> None:
    """A lone word that is no layer name but is close to a zoo name: say so, with the name."""
    word = text.strip()
    if not re.fullmatch(r"[A-Za-z][\w.-]*", word) or vocab.lookup(word) is not None:
        return
    guess = vocab.suggest(word, zoo.names())
    if guess is not None:
        raise SpecError(f"{word!r} is neither a layer nor a zoo spec",
                        Location("<string>", 1, 1, len(word), word),
                        f"did you mean the zoo spec {guess!r}? (`cnnspec zoo` lists them)")


def with_overrides(
    network: Network, input_shape: str | tuple[int, ...] | None, conventions: str | None
) -> Network:
    """``network`` with the input shape and/or convention preset replaced."""
    update: dict[str, Any] = {}
    if input_shape is not None:
        update["input"] = parse_input(input_shape, Location("--input"))
    if conventions is not None:
        update["conventions"] = make_conventions(conventions, Location("--conventions"))
    return network.model_copy(update=update) if update else network


def parse_input(value: Any, where: Location) -> tuple[int, ...]:
    """``"224x224x3"``, ``[224, 224, 3]`` or ``784`` -> a shape tuple (H, W, C) or (N,)."""
    hint = "write the input as H x W x C, e.g. 224x224x3 (x1 for grayscale, x3 for colour)"
    if isinstance(value, tuple):
        dims = list(value)
    elif isinstance(value, bool):
        raise SpecError(f"input {shown(value)} is not a shape", where, hint)
    elif isinstance(value, int):
        dims = [value]
    elif isinstance(value, list):
        dims = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+(\s*[x×X,]\s*\d+)*\s*", value):
        dims = [whole_number(p, where) for p in re.split(r"\s*[x×X,]\s*", value.strip())]
    else:
        raise SpecError(f"input {shown(value)} is not a shape", where, hint)
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise SpecError(f"input {shown(value)} is not a shape of whole numbers", where, hint)
    if len(dims) == 2:
        raise SpecError(
            f"input {'x'.join(map(str, dims))} has no channel count",
            where,
            f"write {dims[0]}x{dims[1]}x1 for grayscale or {dims[0]}x{dims[1]}x3 for colour",
        )
    if len(dims) not in (1, 3):
        raise SpecError(f"input {shown(value)} has {len(dims)} numbers", where, hint)
    if any(d <= 0 for d in dims):
        raise SpecError(f"input {shown(value)} has a size that is not positive", where, hint)
    if any(d > MAX_SIZE for d in dims):
        raise SpecError(f"input size {max(dims):,} is more than {MAX_SIZE:,}, larger than any "
                        "network's input", where, hint)
    check_channels_last(tuple(dims), where)
    return tuple(dims)


def looks_channels_first(dims: tuple[int, ...]) -> bool:
    """True for ``C x H x W`` written where ``H x W x C`` is meant: ``3x32x32``, ``1x28x28``.

    The likely case only: three numbers, the first a channel count (1 grey, 3 colour,
    4 with alpha) and the other two equal and larger, a square image. Read as
    ``H x W x C`` it would be an image 1-4 pixels high with as many channels as columns.
    """
    return len(dims) == 3 and dims[0] in (1, 3, 4) and dims[1] == dims[2] > dims[0]


def check_channels_last(dims: tuple[int, ...], where: Location) -> None:
    """Refuse an input written channels-first (PyTorch's order), saying how to write it."""
    if looks_channels_first(dims):
        c, h, w = dims
        raise SpecError(
            f"input {c}x{h}x{w} looks channels-first (C x H x W, as PyTorch writes it)",
            where,
            f"cnnspec reads H x W x C: write {h}x{w}x{c} for a {h}x{w} image with {c} "
            f"channel{'s' if c > 1 else ''}",
        )


def make_conventions(value: Any, where: Location) -> conv_mod.Conventions:
    """A :class:`Conventions` from a preset name or a mapping ``{preset: ..., field: ...}``."""
    names = ", ".join(conv_mod.PRESET_NAMES)
    if isinstance(value, str):
        if value.lower() not in conv_mod.PRESET_NAMES:
            guess = vocab.suggest(value, list(conv_mod.PRESET_NAMES))
            hint = f"did you mean {guess!r}?" if guess else f"presets: {names}"
            raise SpecError(f"unknown conventions preset {value!r}", where, hint)
        return conv_mod.preset(value)
    if isinstance(value, dict):
        fields = dict(value)
        name = str(fields.pop("preset", "default"))
        base = make_conventions(name, getattr(value, "value_locs", {}).get("preset", where))
        try:
            return conv_mod.Conventions(**{**base.model_dump(), **fields})
        except ValidationError as exc:
            err = exc.errors()[0]
            key = err["loc"][0] if err["loc"] else None
            locs = getattr(value, "key_locs", {})
            allowed = ", ".join(conv_mod.Conventions.model_fields)
            raise SpecError(
                f"conventions.{key}: {err['msg']}",
                locs.get(key, where),
                f"conventions take: {allowed}",
            ) from None
    raise SpecError("conventions must be a preset name or a mapping", where,
                    f"write `conventions: lecture` (presets: {names})")


def from_string(text: str) -> Network:
    """Validate a network string typed by the user."""
    with collector_paused():
        return _from_string(text)


def _from_string(text: str) -> Network:
    parsed = parse_string(text)
    raw: dict[str, Any] = {"name": "network", "layers": parsed.layers}
    if parsed.input is not None:
        raw["input"] = parse_input(parsed.input, parsed.input_ref.loc if parsed.input_ref else
                                   Location())
    return validate(raw, Location("<string>"))


def text_value(doc: Any, key: str, default: str) -> str:
    """A top-level text field (``name``, ``description``): a string or number, nothing nested."""
    value = doc.get(key, default)
    if isinstance(value, (list, dict)):
        kind = "list" if isinstance(value, list) else "mapping"
        raise SpecError(f"`{key}` must be text, not a {kind}", doc.value_locs.get(key, doc.loc),
                        f"write `{key}: my network`")
    return str(value)


def from_yaml(text: str, source: str) -> Network:
    """Validate the text of a YAML spec file."""
    with collector_paused():
        return _from_yaml(text, source)


def _from_yaml(text: str, source: str) -> Network:
    doc = load_yaml(text, source)
    for key in doc:
        if key not in TOP_KEYS:
            guess = vocab.suggest(str(key), list(TOP_KEYS))
            hint = f"did you mean {guess!r}?" if guess else "top-level keys: " + ", ".join(TOP_KEYS)
            raise SpecError(f"unknown key {key!r}", doc.key_locs[key], hint)
    raw: dict[str, Any] = {"name": text_value(doc, "name", Path(source).stem)}
    if "description" in doc:
        raw["description"] = text_value(doc, "description", "")
    if "input" in doc:
        raw["input"] = parse_input(doc["input"], doc.value_locs["input"])
    if "conventions" in doc:
        raw["conventions"] = make_conventions(doc["conventions"], doc.value_locs["conventions"])
    if "claims" in doc:
        raw["claims"] = doc["claims"]
    if "architecture" not in doc:
        raise SpecError("the spec has no `architecture:`", doc.loc,
                        "add `architecture: Conv(5x5,6)-ReLU-Pool(2)-FC(10)` or a list of layers")
    scope = Scope(parse_definitions(doc.get("blocks"), doc.value_locs.get("blocks")),
                  expander=block_expander(source))
    layers = architecture(doc["architecture"], doc.value_locs["architecture"], source, scope)
    if "defaults" in doc:
        apply_defaults(layers, doc["defaults"])
    if "layers" in doc:
        apply_label_args(layers, doc["layers"], doc.key_locs["layers"])
    raw["layers"] = layers
    raw["source"] = SourceRef(Location(source))
    return validate(raw, Location(source), yaml_doc=doc)
