"""``cnnspec schema``: the JSON Schema of the YAML spec format.

Room: consumers (export). Built from the pydantic models of :mod:`cnnspec.spec`
(descriptions, types, bounds, enums), reshaped to the YAML a person writes:
top-level keys as :data:`cnnspec.spec.load.TOP_KEYS`, layers under any of
their names (``Conv``, ``conv2d``, ``MPool`` ...; case-insensitive), argument
aliases (``k``, ``s``, ``p`` ...), sizes written ``3``, ``"3x3"`` or ``[3, 3]``.
Editors use it to complete and check spec files; the loader stays the
authority (block templates' bodies, for one, are only checked loosely here).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from cnnspec.conventions import PRESET_NAMES, Conventions
from cnnspec.spec import vocabulary as vocab
from cnnspec.spec.tree import Claims, Network

CONTAINER_FIELDS = {"layers", "body", "shortcut", "branches"}
BLOCK_KINDS = ("sequence", "residual", "concat", "aux", "gate")
SIZE_TEXT = r"^\s*\d+(\s*[xX×]\s*\d+){0,2}\s*$"


def any_case(word: str) -> str:
    """A regex matching ``word`` in any letter case (JSON Schema regexes have no flags)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


def _field_schemas() -> dict[str, dict[str, Any]]:
    """kind -> {field: JSON schema} from the pydantic models, sizes widened."""
    defs = Network.model_json_schema()["$defs"]
    out: dict[str, dict[str, Any]] = {}
    for model in defs.values():
        props = model.get("properties", {})
        kind = props.get("kind", {}).get("const")
        if kind is None:
            continue
        out[kind] = {name: _widen(schema, name) for name, schema in props.items()
                     if name != "kind"}
    return out


def _widen(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """A field schema that also accepts how YAML writes it (``3``, ``"3x3"`` for pairs)."""
    schema = copy.deepcopy(schema)
    schema.pop("title", None)
    schema.pop("default", None)
    text = str(schema)
    if "prefixItems" in text:
        described = {k: schema.pop(k) for k in ("description",) if k in schema}
        return {**described, "anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": SIZE_TEXT},
            {"type": "array", "items": {"type": "integer", "minimum": 0},
             "minItems": 1, "maxItems": 3},
            *([{"type": "string", "enum": ["same", "valid"]}] if "same" in text else []),
            *([{"type": "null"}] if "'null'" in text else []),
        ]}
    if name == "shape":  # Expect: "224x224x120" or a list
        return {"description": schema.get("description", ""),
                "anyOf": [{"type": "string", "pattern": SIZE_TEXT},
                          {"type": "array", "items": {"type": "integer", "minimum": 1}}]}
    return schema


def _args_schema(kind: str, fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The mapping of arguments a layer of ``kind`` takes, under every accepted spelling."""
    props: dict[str, Any] = {}
    spellings = vocab.ARG_NAMES.get(kind, {"label": "label", "name": "label"})
    for spelling, field_name in spellings.items():
        if field_name in fields:
            props[spelling] = fields[field_name]
    return {"type": "object", "properties": props, "additionalProperties": False}


def _layer_names() -> dict[str, list[str]]:
    """kind -> every spelling of a layer name (lower case) in the vocabulary."""
    names: dict[str, list[str]] = {}
    for spelling, word in vocab.WORDS.items():
        names.setdefault(word.kind, []).append(spelling)
    return names


def _layer_item(fields: dict[str, dict[str, Any]],
                definitions: dict[str, Any]) -> dict[str, Any]:
    """``- conv: {kernel: 3, filters: 64}``: one key, a layer name, mapping to its arguments.

    Each kind's argument schema is added to ``definitions`` as ``{kind}_args``.
    """
    arch = {"$ref": "#/$defs/architecture"}
    props: dict[str, Any] = {}
    patterns: dict[str, Any] = {}
    displays = {w.display: w.kind for w in vocab.WORDS.values()}
    for kind, spellings in _layer_names().items():
        if kind == "residual":
            value: dict[str, Any] = {"type": "object", "additionalProperties": False,
                                     "properties": {"body": arch, "shortcut": arch,
                                                    "label": {"type": "string"}}}
        elif kind == "concat":
            branch = {"anyOf": [arch, {"type": "null"}]}
            value = {"anyOf": [
                {"type": "object", "additionalProperties": False,
                 "properties": {"branches": {"type": "array", "items": branch},
                                "label": {"type": "string"}}},
                {"type": "array", "items": branch}]}
        elif kind == "gate":
            value = {"anyOf": [arch, {"type": "object", "additionalProperties": False,
                                      "properties": {"body": arch,
                                                     "label": {"type": "string"}}}]}
        elif kind in ("aux", "sequence"):
            value = {"anyOf": [arch, {"type": "object", "additionalProperties": False,
                                      "properties": {"layers": arch, "label": {"type": "string"},
                                                     "repeat": {"type": "integer",
                                                                "minimum": 1}}}]}
        else:
            value = {"anyOf": [_args_schema(kind, fields.get(kind, {})), {"type": "null"},
                               {"type": ["integer", "number", "string", "array"]}]}
        definitions[f"{kind}_args"] = value
        ref = {"$ref": f"#/$defs/{kind}_args"}
        patterns["^(" + "|".join(any_case(s) for s in spellings) + ")$"] = ref
        for display, display_kind in displays.items():
            if display_kind == kind:
                props[display] = ref
    return {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": props,
            "patternProperties": patterns, "additionalProperties": False}


def _kind_item(fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``- {kind: conv, kernel: 3, filters: 64}``: the model's own field names."""
    arch = {"$ref": "#/$defs/architecture"}
    variants = []
    for kind, props in sorted(fields.items()):
        props = {name: (arch if name in CONTAINER_FIELDS - {"branches"} else
                        {"type": "array", "items": arch} if name == "branches" else schema)
                 for name, schema in props.items()}
        variants.append({"type": "object", "required": ["kind"], "additionalProperties": False,
                         "properties": {"kind": {"const": kind}, **props}})
    return {"type": "object", "required": ["kind"], "oneOf": variants}


def _template_call() -> dict[str, Any]:
    """``- bottleneck: {planes: 128, stride: 2}``: a block defined under ``blocks:``."""
    known = "|".join(any_case(s) for s in vocab.WORDS)
    return {"type": "object", "minProperties": 1, "maxProperties": 1,
            "propertyNames": {"not": {"pattern": f"^({known}|repeat|layers|kind|label)$"}},
            "additionalProperties": {"type": ["object", "null", "integer", "number",
                                              "string", "array"]},
            "description": "A call of a block defined under `blocks:`."}


def _loose_args(fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Arguments of a layer whose kind the schema cannot know (``layers:``, ``defaults:``)."""
    union: dict[str, list[dict[str, Any]]] = {}
    for kind, spellings in vocab.ARG_NAMES.items():
        for spelling, field_name in spellings.items():
            schema = fields.get(kind, {}).get(field_name)
            if schema is not None and schema not in union.setdefault(spelling, []):
                union[spelling].append(schema)
    props = {k: v[0] if len(v) == 1 else {"anyOf": v} for k, v in sorted(union.items())}
    return {"type": ["object", "null"], "properties": props, "additionalProperties": False}


def _conventions() -> dict[str, Any]:
    presets = {"type": "string", "pattern": "^(" + "|".join(any_case(p) for p in PRESET_NAMES)
               + ")$", "description": "A preset: " + ", ".join(PRESET_NAMES) + "."}
    mapping = _strip_titles(_inline(Conventions.model_json_schema()))
    mapping["properties"]["preset"] = presets
    return {"description": "Counting conventions: a preset name, or a preset with fields "
                           "overridden.", "anyOf": [presets, mapping]}


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with references to its own ``$defs`` replaced by what they name."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/") and ref[8:] in defs:
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return {**resolve(defs[ref[8:]]), **resolve(rest)}
            return {k: resolve(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip_titles(v) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


def spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a cnnspec YAML spec file."""
    fields = _field_schemas()
    string_or_list = {"anyOf": [
        {"type": "string", "description": "A network string, e.g. "
                                          "'Conv(5x5,6)-ReLU-Pool(2)-FC(10)-SM'."},
        {"type": "array", "items": {"$ref": "#/$defs/item"}}]}
    group = {"type": "object", "additionalProperties": False,
             "anyOf": [{"required": ["repeat"]}, {"required": ["layers"]}],
             "properties": {"repeat": {"type": ["integer", "string"]},
                            "layers": {"$ref": "#/$defs/architecture"},
                            "label": {"type": "string"}},
             "description": "Layers repeated: {repeat: 3, layers: [...]}."}
    layer_kinds = sorted(fields)
    definitions: dict[str, Any] = {}
    layer = _layer_item(fields, definitions)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "cnnspec network spec",
        "description": "A convolutional network for cnnspec: its input, conventions and "
                       "layers. See `cnnspec --help`.",
        "type": "object",
        "required": ["architecture"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "description": "A name for reports."},
            "description": {"type": "string",
                            "description": "Free text: source paper, variant."},
            "input": {"description": "Input shape H x W x C, e.g. 224x224x3 (or N for a "
                                     "vector).",
                      "anyOf": [{"type": "string", "pattern": r"^\s*\d+(\s*[x×X,]\s*\d+)*\s*$"},
                                {"type": "integer", "minimum": 1},
                                {"type": "array", "items": {"type": "integer", "minimum": 1}}]},
            "conventions": _conventions(),
            "architecture": {"$ref": "#/$defs/architecture"},
            "layers": {"type": "object", "additionalProperties": _loose_args(fields),
                       "description": "Arguments by label: {Conv:1: {kernel: 11, filters: 96}}."},
            "defaults": {"type": "object", "additionalProperties": _loose_args(fields),
                         "propertyNames": {"pattern": "^(" + "|".join(
                             any_case(s) for s in vocab.WORDS) + ")$"},
                         "description": "Arguments for every layer of a type: "
                                        "{conv: {padding: 1}}."},
            "claims": _strip_titles(_inline(Claims.model_json_schema())),
            "blocks": {"type": "object",
                       "additionalProperties": {"type": ["string", "array", "object"]},
                       "description": "Named blocks with parameters: {'conv_bn(filters, "
                                      "stride=1)': 'Conv(3x3, filters, s=stride, p=1)-BN-ReLU'}."},
        },
        "$defs": {
            "architecture": {**string_or_list,
                             "description": "The layers: a network string or a list."},
            "item": {"description": "One list item: a network string, a layer mapping, a "
                                    "{kind: ...} mapping, a repeated group or a block call. "
                                    f"Layer kinds: {', '.join(layer_kinds)}.",
                     "anyOf": [{"type": "string"}, {"$ref": "#/$defs/layer"},
                               {"$ref": "#/$defs/kind_mapping"}, group,
                               {"$ref": "#/$defs/block_call"}]},
            "layer": layer,
            "kind_mapping": _kind_item(fields),
            "block_call": _template_call(),
            **definitions,
        },
    }
