"""The ``architecture:``, ``defaults:`` and ``layers:`` parts of a YAML spec, as node dicts.

Room: spec. Items of an architecture list are network strings, layer mappings,
groups, blocks and calls of the spec's named ``blocks:``; ``defaults:`` and the
per-label ``layers:`` map then fill in their arguments.
"""

from __future__ import annotations

import re
from typing import Any

from cnnspec.errors import Location, SpecError
from cnnspec.spec import vocabulary as vocab
from cnnspec.spec.budget import Budget, whole_number
from cnnspec.spec.notation import parse_string
from cnnspec.spec.source import SourceRef, TextMap, owned
from cnnspec.spec.templates import Argument, Scope, Template, resolve
from cnnspec.spec.validation import CONTAINERS
from cnnspec.spec.yaml_io import LocDict


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


def budget_of(scope: Scope | None) -> Budget:
    """The budget of the load reading ``scope`` (a fresh one without a scope)."""
    return scope.expansions if scope is not None else Budget()


def simple_layer(item: str, where: Location, scope: Scope | None) -> dict[str, Any] | None:
    """The node of a list item that is one bare layer name (``- ReLU``), or ``None``.

    The common case of long lists, read without the string parser; anything
    else (arguments, labels, block names, separators) goes through the parser.
    """
    if not item.isidentifier() or getattr(item, "style", None) not in (None, "") or (
            scope is not None and scope.find(item) is not None):
        return None  # quoted items keep the parser's columns
    word = vocab.lookup(item)
    if word is None or word.kind in ("concat", "sequence", "aux") or item.lower() == "input":
        return None
    budget_of(scope).leaf(word.kind, where)
    return {"kind": word.kind, "written": word.display, **word.fixed,
            "source": SourceRef(where)}


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
        node = simple_layer(item, where, templates)
        if node is not None:
            return [node]
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
        budget = budget_of(templates)
        before = budget.layers
        with budget.nested(where):
            layers = architecture(item.get("layers", []), getattr(item, "value_locs", {}).get(
                "layers", where), source, templates)
        repeat_loc = getattr(item, "value_locs", {}).get("repeat", where)
        raw_repeat = item.get("repeat", 1)
        repeat = resolve(raw_repeat, templates, repeat_loc)
        size = budget.layers - before
        if not size:
            budget.add(1, where)
        if repeat == 0 and isinstance(raw_repeat, str):  # arithmetic made it 0: no layers
            layers, repeat = [], 1
        else:
            budget.repeated(max(size, 1), repeat, repeat_loc)
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
        hint = (f"did you mean {guess!r}? (`cnnspec layers` lists the names)" if guess else
                "`cnnspec layers` lists the layer names")
        raise SpecError(f"unknown layer {name!r}", where, hint)
    budget = budget_of(templates)
    if word.kind not in ("residual", "sequence", "concat", "aux"):
        budget.leaf(word.kind, where)
        return _node_fields(word, name, fields, where, container, source, templates)
    before = budget.layers
    with budget.nested(where):
        node = _node_fields(word, name, fields, where, container, source, templates)
    size = budget.layers - before
    if not size:
        budget.add(1, where)
    budget.repeated(max(size, 1), node.get("repeat"), node["source"].arg("repeat"))
    return node


def _node_fields(word: vocab.Word, name: str, fields: dict[str, Any], where: Location,
                 container: Any, source: str, templates: Scope | None) -> dict[str, Any]:
    """The node dict of layer ``word`` with the arguments in ``fields``."""
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
            if word.kind == "gate":
                node["body"] = architecture(value, where, source, templates)
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
        if word.kind in ("residual", "sequence", "aux", "gate") and key in CONTAINERS:
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
        if word.kind in ("residual", "sequence", "concat", "aux", "gate"):
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
        if field_name in arg_locs:
            spelled = _spelled(fields, word.kind, field_name)
            twice = ("also as the kernel's depth" if spelled.count(" and ") == 0
                     else f"as {spelled}")
            hint = ("give each argument once" if str(key) == field_name else
                    f"give each argument once ({str(key)!r} is another name for "
                    f"{field_name!r})")
            raise SpecError(f"{word.display}'s {field_name} is given twice ({twice})",
                            key_locs.get(key, where), hint)
        if field_name != "label":
            value = resolve(value, templates, loc)
        if field_name == "kernel" and isinstance(value, str) and \
                re.fullmatch(r"\d+x\d+x\d+", value):
            dims = [whole_number(p, loc) for p in value.split("x")]
            if "in_channels" in arg_locs:
                raise SpecError(f"{word.display}'s in_channels is given twice (also as the "
                                "kernel's depth)", loc,
                                "write the kernel as FH x FW, or drop in_channels")
            node["in_channels"] = dims[2]
            arg_locs["in_channels"] = loc
            value = f"{dims[0]}x{dims[1]}"
        node[field_name] = value
        arg_locs[field_name] = loc
    node["source"] = SourceRef(where, arg_locs)
    return node


def _spelled(fields: dict[str, Any], kind: str, field_name: str) -> str:
    """The keys of ``fields`` that name ``field_name``: ``'kernel' and 'filter'``."""
    keys = [repr(str(k)) for k in fields
            if k != "__positional__" and vocab.arg_field(kind, str(k)) == field_name]
    return " and ".join(keys)


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
                    owned(node).args.setdefault(field_name, loc)


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
                owned(node).args[field_name] = loc
