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
from cnnspec.spec.notation import MAX_LAYERS, count_layers, parse_string
from cnnspec.spec.source import SourceRef, TextMap
from cnnspec.spec.templates import Argument, Scope, Template, parse_definitions, resolve
from cnnspec.spec.tree import Network
from cnnspec.spec.yaml_io import LocDict, load_yaml, read_text

TOP_KEYS = ("name", "description", "input", "conventions", "architecture", "layers",
            "defaults", "claims", "blocks")
CONTAINERS = ("layers", "body", "shortcut", "branches")


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
        raise SpecError(f"input {value!r} is not a shape", where, hint)
    elif isinstance(value, int):
        dims = [value]
    elif isinstance(value, list):
        dims = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+(\s*[x×X,]\s*\d+)*\s*", value):
        dims = [int(p) for p in re.split(r"\s*[x×X,]\s*", value.strip())]
    else:
        raise SpecError(f"input {value!r} is not a shape", where, hint)
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise SpecError(f"input {value!r} is not a shape of whole numbers", where, hint)
    if len(dims) == 2:
        raise SpecError(
            f"input {'x'.join(map(str, dims))} has no channel count",
            where,
            f"write {dims[0]}x{dims[1]}x1 for grayscale or {dims[0]}x{dims[1]}x3 for colour",
        )
    if len(dims) not in (1, 3):
        raise SpecError(f"input {value!r} has {len(dims)} numbers", where, hint)
    if any(d <= 0 for d in dims):
        raise SpecError(f"input {value!r} has a size that is not positive", where, hint)
    return tuple(dims)


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
    parsed = parse_string(text)
    raw: dict[str, Any] = {"name": "network", "layers": parsed.layers}
    if parsed.input is not None:
        raw["input"] = parse_input(parsed.input, parsed.input_ref.loc if parsed.input_ref else
                                   Location())
    return validate(raw, Location("<string>"))


def from_yaml(text: str, source: str) -> Network:
    """Validate the text of a YAML spec file."""
    doc = load_yaml(text, source)
    for key in doc:
        if key not in TOP_KEYS:
            guess = vocab.suggest(str(key), list(TOP_KEYS))
            hint = f"did you mean {guess!r}?" if guess else "top-level keys: " + ", ".join(TOP_KEYS)
            raise SpecError(f"unknown key {key!r}", doc.key_locs[key], hint)
    raw: dict[str, Any] = {"name": str(doc.get("name", Path(source).stem))}
    if "description" in doc:
        raw["description"] = str(doc["description"])
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
    total = count_layers(layers)
    if total > MAX_LAYERS:
        raise SpecError(f"the repeats expand to {total:,} layers, more than {MAX_LAYERS:,}",
                        doc.value_locs["architecture"], "lower the repeat counts")
    if "defaults" in doc:
        apply_defaults(layers, doc["defaults"])
    if "layers" in doc:
        apply_label_args(layers, doc["layers"], doc.key_locs["layers"])
    raw["layers"] = layers
    raw["source"] = SourceRef(Location(source))
    return validate(raw, Location(source), yaml_doc=doc)


# -- architecture in YAML ------------------------------------------------------------------
def architecture(value: Any, where: Location, source: str,
                 templates: Scope | None = None) -> list[dict[str, Any]]:
    """Node dicts for an ``architecture:`` value: a network string or a list of items.

    ``templates`` is the :class:`Scope` of the ``blocks:`` the spec defines (and,
    inside a block, its bound parameters).
    """
    if isinstance(value, str):
        return parse_string(value, string_map(value, where, source), templates).layers
    if isinstance(value, list):
        nodes: list[dict[str, Any]] = []
        locs = getattr(value, "item_locs", [where] * len(value))
        for item, loc in zip(value, locs, strict=True):
            nodes.extend(list_item(item, loc, source, templates))
        return nodes
    raise SpecError("`architecture` must be a network string or a list of layers", where,
                    "write `architecture: Conv(3x3,16)-ReLU-Pool(2)-FC(10)`")


def block_expander(source: str):
    """The function that turns a bound block call into a node dict, for :class:`Scope`."""

    def expand(template: Template, bound: dict[str, Any], label: str,
               call_loc: Location | None, inner: Scope) -> dict[str, Any]:
        body = template.body
        if isinstance(body, dict):
            layers = list_item(body, template.body_loc, source, inner)
        else:
            layers = architecture(body, template.body_loc, source, inner)
        return {"kind": "sequence", "layers": layers, "repeat": 1, "label": label,
                "written": template.name, "source": SourceRef(call_loc or template.loc)}

    return expand


def call_block(template: Template, args: Any, where: Location, container: Any,
               scope: Scope) -> dict[str, Any]:
    """Expand ``- name: ARGS`` (a mapping, a list or one value) when ``name`` is a block."""
    call: list[Argument] = []
    if isinstance(args, dict):
        value_locs = getattr(args, "value_locs", {})
        key_locs = getattr(args, "key_locs", {})
        for key, value in args.items():
            loc = value_locs.get(key, where)
            call.append((str(key), resolve(value, scope, loc), key_locs.get(key, loc)))
    elif isinstance(args, list):
        item_locs = getattr(args, "item_locs", [where] * len(args))
        call.extend((None, resolve(v, scope, loc), loc) for v, loc in zip(args, item_locs,
                                                                          strict=True))
    elif args is not None:
        loc = getattr(container, "value_locs", {}).get(template.name, where) \
            if isinstance(container, dict) else where
        call.append((None, resolve(args, scope, loc), loc))
    return scope.call(template, call, where)


def string_map(value: str, where: Location, source: str) -> TextMap:
    """A :class:`TextMap` placing a YAML string scalar in its file."""
    style = getattr(value, "style", None)
    column = (where.column or 1) + (1 if style in ("'", '"') else 0)
    if style in ("|", ">"):
        return TextMap(value, source, (where.line or 1) + 1, 1)
    return TextMap(value, source, where.line or 1, column)


def list_item(item: Any, where: Location, source: str,
              templates: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Node dicts for one item of an ``architecture:`` list."""
    if isinstance(item, str):
        if item.count("(") > item.count(")"):
            raise SpecError(
                f"the layer {item!r} is cut short: in a YAML list written [a, b], every comma "
                "starts a new item", where,
                "quote a layer that has commas, e.g. [\"Conv(3x3, 32)\", ReLU]",
            )
        return parse_string(item, string_map(item, where, source), templates).layers
    if not isinstance(item, dict) or not item:
        raise SpecError("a layer in the list must be a string or a mapping", where,
                        "write `- Conv(3x3, 16)` or `- conv: {kernel: 3, filters: 16}`")
    key_locs = getattr(item, "key_locs", {})
    if "kind" in item:
        fields = {k: v for k, v in item.items() if k != "kind"}
        template = templates.find(str(item["kind"])) if templates else None
        if template is not None and templates is not None and vocab.lookup(str(item["kind"])) \
                is None:
            args = LocDict(fields)
            args.key_locs = key_locs
            args.value_locs = getattr(item, "value_locs", {})
            return [call_block(template, args, key_locs.get("kind", where), item, templates)]
        return [node_from_mapping(str(item["kind"]), fields, key_locs.get("kind", where), item,
                                  source, templates)]
    if "repeat" in item or ("layers" in item and len(item) <= 3):
        layers = architecture(item.get("layers", []), getattr(item, "value_locs", {}).get(
            "layers", where), source, templates)
        repeat = resolve(item.get("repeat", 1), templates,
                         getattr(item, "value_locs", {}).get("repeat", where))
        node = {"kind": "sequence", "layers": layers, "repeat": repeat,
                "written": "Group", "source": SourceRef(where, dict(key_locs))}
        if "label" in item:
            node["label"] = item["label"]
        extra = set(item) - {"repeat", "layers", "label"}
        if extra:
            key = sorted(extra)[0]
            raise SpecError(f"a group takes `layers`, `repeat` and `label`, not {key!r}",
                            key_locs.get(key, where), "move the key into a layer")
        return [node]
    if len(item) != 1:
        raise SpecError(
            "a layer mapping has one key, the layer name", where,
            "write `- conv: {kernel: 3, filters: 16}` or `- {kind: conv, kernel: 3}`",
        )
    ((name, args),) = item.items()
    template = templates.find(str(name)) if templates else None
    if template is not None and templates is not None and vocab.lookup(str(name)) is None:
        return [call_block(template, args, key_locs.get(name, where), item, templates)]
    arg_map = args if isinstance(args, dict) else {}
    if args is not None and not isinstance(args, dict):
        arg_map = {"__positional__": args}
    return [node_from_mapping(str(name), arg_map, key_locs.get(name, where), args, source,
                              templates)]


def node_from_mapping(name: str, fields: dict[str, Any], where: Location, container: Any,
                      source: str, templates: Scope | None) -> dict[str, Any]:
    """One node dict from a layer name and a mapping of its arguments."""
    word = vocab.lookup(name) or vocab.lookup(name.replace("_", ""))
    if word is None:
        guess = vocab.suggest(name)
        if templates is not None:
            guess = templates.suggest(name, guess)
        hint = f"did you mean {guess!r}?" if guess else "see `cnnspec --help` for layer names"
        raise SpecError(f"unknown layer {name!r}", where, hint)
    node: dict[str, Any] = {"kind": word.kind, "written": word.display, **word.fixed}
    key_locs = getattr(container, "key_locs", {}) if isinstance(container, dict) else {}
    value_locs = getattr(container, "value_locs", {}) if isinstance(container, dict) else {}
    arg_locs: dict[str, Location] = {}
    for key, value in fields.items():
        if key == "__positional__":
            positional = vocab.POSITIONAL.get(word.kind, ())
            if word.kind in ("sequence", "aux"):
                node["layers"] = architecture(value, where, source, templates)
                continue
            if word.kind == "concat" and isinstance(value, list):
                node["branches"] = [[] if b in (None, "identity", []) else
                                    architecture(b, where, source, templates) for b in value]
                continue
            if not positional:
                raise SpecError(f"{word.display} takes a mapping of arguments", where,
                                f"write `{name}: {{...}}`")
            node[positional[0]] = resolve(value, templates, where)
            arg_locs[positional[0]] = where
            continue
        loc = value_locs.get(key, key_locs.get(key, where))
        if word.kind in ("residual", "sequence", "aux") and key in CONTAINERS:
            node[key] = architecture(value, loc, source, templates)
            arg_locs[key] = loc
            continue
        if word.kind == "concat" and key == "branches":
            if not isinstance(value, list):
                raise SpecError("`branches` is a list of branches (each a string or list)", loc,
                                "write branches: [Conv(1x1,64), Conv(3x3,128,p=1)]")
            item_locs = getattr(value, "item_locs", [loc] * len(value))
            node["branches"] = [[] if b in (None, "identity", []) else
                                architecture(b, bl, source, templates)
                                for b, bl in zip(value, item_locs, strict=True)]
            continue
        if word.kind in ("residual", "sequence", "concat", "aux"):
            field_name = key if key in ("label", "repeat") else None
        else:
            field_name = vocab.arg_field(word.kind, str(key))
        if field_name is None:
            choices = vocab.known_args(word.kind)
            guess = vocab.suggest(str(key), choices)
            hint = f"did you mean {guess!r}?" if guess else f"{word.display} takes: " + ", ".join(
                choices)
            raise SpecError(f"{word.display} has no argument {key!r}",
                            key_locs.get(key, where), hint)
        if field_name != "label":
            value = resolve(value, templates, loc)
        if field_name == "kernel" and isinstance(value, str) and value.count("x") == 2:
            dims = [int(p) for p in value.split("x")]
            node["in_channels"] = dims[2]
            value = f"{dims[0]}x{dims[1]}"
        node[field_name] = value
        arg_locs[field_name] = loc
    node["source"] = SourceRef(where, arg_locs)
    return node


def walk_raw(nodes: list[dict[str, Any]]):
    """Every node dict in the raw tree, depth first."""
    for node in nodes:
        yield node
        for key in ("layers", "body", "shortcut"):
            yield from walk_raw(node.get(key) or [])
        for branch in node.get("branches") or []:
            yield from walk_raw(branch)


def _arg_fields(kind: str, display: str, args: Any, where: Location) -> dict[str, tuple]:
    if not isinstance(args, dict):
        raise SpecError("layer arguments must be a mapping", where,
                        "write `Conv:1: {kernel: 11, filters: 96, stride: 4}`")
    out: dict[str, tuple] = {}
    for key, value in args.items():
        field_name = vocab.arg_field(kind, str(key))
        loc = args.key_locs.get(key, where) if isinstance(args, LocDict) else where
        if field_name is None:
            choices = vocab.known_args(kind)
            guess = vocab.suggest(str(key), choices)
            hint = f"did you mean {guess!r}?" if guess else f"{display} takes: " + ", ".join(
                choices)
            raise SpecError(f"{display} has no argument {key!r}", loc, hint)
        value_loc = args.value_locs.get(key, loc) if isinstance(args, LocDict) else loc
        out[field_name] = (value, value_loc)
    return out


def apply_defaults(layers: list[dict[str, Any]], defaults: Any) -> None:
    """Fill unset arguments from ``defaults: {type: {arg: value}}``."""
    if not isinstance(defaults, dict):
        raise SpecError("`defaults` must map a layer type to its arguments",
                        getattr(defaults, "loc", Location()),
                        "write `defaults: {conv: {padding: 1}}`")
    for name, args in defaults.items():
        where = defaults.key_locs.get(name) if isinstance(defaults, LocDict) else None
        word = vocab.lookup(str(name))
        if word is None:
            guess = vocab.suggest(str(name))
            raise SpecError(f"unknown layer type {name!r} in defaults", where,
                            f"did you mean {guess!r}?" if guess else "use a layer name")
        fields = _arg_fields(word.kind, word.display, args, where or Location())
        for node in walk_raw(layers):
            if node["kind"] != word.kind:
                continue
            if any(node.get(k) != v for k, v in word.fixed.items()) and name.lower() != "pool":
                continue
            for field_name, (value, loc) in fields.items():
                if field_name not in node:
                    node[field_name] = value
                    node["source"].args.setdefault(field_name, loc)


def apply_label_args(layers: list[dict[str, Any]], mapping: Any, where: Location) -> None:
    """Merge ``layers: {Conv:1: {kernel: 11, ...}}`` into the nodes with those labels."""
    if not isinstance(mapping, dict):
        raise SpecError("`layers` must map a label (like Conv:1) to its arguments", where,
                        "write `layers: {Conv:1: {kernel: 11, filters: 96}}`")
    by_label: dict[str, list[dict[str, Any]]] = {}
    for node in walk_raw(layers):
        if node.get("label"):
            by_label.setdefault(str(node["label"]), []).append(node)
    for label, args in mapping.items():
        key_loc = mapping.key_locs.get(label, where) if isinstance(mapping, LocDict) else where
        targets = by_label.get(str(label)) or by_label.get(
            next((k for k in by_label if k.lower() == str(label).lower()), ""), [])
        if not targets:
            guess = vocab.suggest(str(label), list(by_label)) if by_label else None
            hint = (f"did you mean {guess!r}?" if guess else
                    "labels are written in the architecture, e.g. Conv:1")
            raise SpecError(f"no layer is labelled {label!r}", key_loc, hint)
        for node in targets:
            display = node.get("written") or node["kind"]
            for field_name, (value, loc) in _arg_fields(node["kind"], display, args or {},
                                                        key_loc).items():
                if field_name in node["source"].args and field_name in node:
                    raise SpecError(
                        f"{label}'s {field_name} is given twice (in the string and here)", loc,
                        "give it in one place",
                    )
                node[field_name] = value
                node["source"].args[field_name] = loc


# -- validation ----------------------------------------------------------------------------
_FRIENDLY = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "literal_error": "must be one of {expected}",
    "tuple_type": "must be one number or two (H x W)",
    "too_long": "must be one number or two (H x W)",
    "too_short": "must be one number or two (H x W)",
    "missing": "is required",
    "extra_forbidden": "is not a known argument",
}


def locate(raw: dict[str, Any], path: tuple[Any, ...]) -> tuple[Location | None, str | None,
                                                                 dict[str, Any] | None]:
    """The place, field name and node dict a pydantic error ``loc`` points at."""
    node: Any = raw
    ref: SourceRef | None = raw.get("source") if isinstance(raw.get("source"), SourceRef) else None
    owner: dict[str, Any] | None = None
    field_name: str | None = None
    for part in path:
        if isinstance(node, dict):
            if part in node and isinstance(node[part], (list, dict)) and part in (
                    *CONTAINERS, "claims"):
                node = node[part]
                continue
            if part == node.get("kind"):
                continue
            field_name = str(part)
            break
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if isinstance(node, dict) and isinstance(node.get("source"), SourceRef):
                ref = node["source"]
                owner = node
            continue
        break
    if ref is None:
        return None, field_name, owner
    return (ref.arg(field_name) if field_name else ref.loc), field_name, owner


def validate(raw: dict[str, Any], where: Location, yaml_doc: LocDict | None = None) -> Network:
    """Validate node dicts into a :class:`Network`, turning the first error into a SpecError."""
    try:
        return Network.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc, field_name, owner = locate(raw, tuple(err["loc"]))
        if err["loc"] and err["loc"][0] == "claims" and yaml_doc is not None:
            claims = yaml_doc.get("claims")
            key = err["loc"][1] if len(err["loc"]) > 1 else None
            loc = (claims.key_locs.get(key) if isinstance(claims, LocDict) else None) or \
                yaml_doc.key_locs.get("claims")
            field_name = f"claims.{key}"
        template = _FRIENDLY.get(err["type"], err["msg"])
        try:
            what = template.format(**(err.get("ctx") or {}))
        except (KeyError, IndexError):
            what = err["msg"]
        subject = field_name or "value"
        if owner is not None:
            subject = f"{owner.get('label') or owner.get('written') or owner['kind']}: {subject}"
        shown = err.get("input")
        got = "" if err["type"] == "missing" or isinstance(shown, dict) else f" (got {shown!r})"
        hint = _hint(err["type"], field_name)
        raise SpecError(f"{subject} {what}{got}", loc or where, hint) from None


def _hint(kind: str, field_name: str | None) -> str:
    if field_name in ("kernel", "stride", "dilation"):
        return f"write {field_name} as a positive whole number, or HxW such as 3x3"
    if field_name == "padding":
        return "write padding as a whole number >= 0, HxW, 'same' or 'valid'"
    if kind in ("greater_than", "greater_than_equal"):
        return "use a positive number"
    if kind.startswith("bool"):
        return "write true or false"
    return "see `cnnspec schema` for every field"
