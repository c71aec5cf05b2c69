"""Validating node dicts into a :class:`Network`, with every error placed and explained.

Room: spec. A pydantic error's ``loc`` is followed through the raw dicts to the
node (and argument) it concerns, whose :class:`SourceRef` gives the place.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from cnnspec.errors import Location, SpecError
from cnnspec.spec.budget import MAX_SIZE, shown
from cnnspec.spec.layers import Node
from cnnspec.spec.source import AnyRef, ShiftedRef, SourceRef
from cnnspec.spec.tree import MODEL_OF_KIND, Network
from cnnspec.spec.yaml_io import LocDict

CONTAINERS = ("layers", "body", "shortcut", "branches")


_FRIENDLY = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le:,}",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing_size": "is too long a number to be a size",
    "finite_number": "must be a finite number (not NaN or infinity)",
    "value_error": "{error}",
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
    ref: SourceRef | None = raw.get("source") if isinstance(raw.get("source"), AnyRef) else None
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
            if isinstance(node, dict) and isinstance(node.get("source"), AnyRef):
                ref = node["source"]
                owner = node
            continue
        break
    if ref is None:
        return None, field_name, owner
    return (ref.arg(field_name) if field_name else ref.loc), field_name, owner


def share_copies(nodes: list[Any], models: dict[int, Node | None] | None = None) -> None:
    """Replace, in place, each copy of a layer text read once by a model of that layer.

    A copy is a node dict whose source is a :class:`ShiftedRef`; every copy of one
    reading holds the same values (a step that changes a node gives it a
    :class:`SourceRef` of its own first, see ``source.owned``). One model per reading
    is validated and each copy becomes that model with the copy's place: its field
    dictionary is copied, the record of which fields were given is shared (the
    models are frozen), and pydantic takes a model instance as it is. A reading
    that does not validate is left as dicts: the whole tree's validation then
    reports its first copy, in its place.
    """
    models = {} if models is None else models
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            continue
        ref = node.get("source")
        if isinstance(ref, ShiftedRef):
            key = id(ref.first)
            if key not in models:
                models[key] = _model_of(node)
            model = models[key]
            if model is not None:
                nodes[i] = _moved_copy(model, ref)
            continue
        for container in CONTAINERS[:3]:
            inner = node.get(container)
            if isinstance(inner, list):
                share_copies(inner, models)
        for branch in node.get("branches") or ():
            if isinstance(branch, list):
                share_copies(branch, models)


def _model_of(node: dict[str, Any]) -> Node | None:
    """The validated leaf model of a node dict (no place), or ``None`` when it is refused."""
    model = MODEL_OF_KIND.get(node.get("kind"))  # type: ignore[arg-type]
    if model is None or model.is_block:
        return None
    try:
        return model.model_validate({**node, "source": None})
    except ValidationError:
        return None


def _moved_copy(model: Node, ref: ShiftedRef) -> Node:
    """``model`` with ``source=ref``: pydantic's own copy, without copying the field set."""
    copy = model.__class__.__new__(model.__class__)
    object.__setattr__(copy, "__dict__", {**model.__dict__, "source": ref})
    object.__setattr__(copy, "__pydantic_fields_set__", model.__pydantic_fields_set__)
    object.__setattr__(copy, "__pydantic_extra__", None)
    object.__setattr__(copy, "__pydantic_private__", None)
    return copy


def validate(raw: dict[str, Any], where: Location, yaml_doc: LocDict | None = None) -> Network:
    """Validate node dicts into a :class:`Network`, turning the first error into a SpecError."""
    if isinstance(raw.get("layers"), list):
        share_copies(raw["layers"])
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
        value = err.get("input")
        got = "" if err["type"] == "missing" or isinstance(value, dict) else \
            f" (got {shown(value)})"
        hint = _hint(err["type"], field_name, err.get("ctx") or {})
        raise SpecError(f"{subject} {what}{got}", loc or where, hint) from None


def _hint(kind: str, field_name: str | None, ctx: dict[str, Any]) -> str:
    if kind in ("less_than_equal", "int_parsing_size") and ctx.get("le", MAX_SIZE) == MAX_SIZE:
        return f"sizes and counts are at most {MAX_SIZE:,}; real networks stay far below"
    if kind == "finite_number":
        return "write a number such as 0.0001 or 2"
    if field_name in ("kernel", "stride", "dilation"):
        return f"write {field_name} as a positive whole number, or HxW such as 3x3"
    if field_name == "padding":
        return "write padding as a whole number >= 0, HxW, 'same' or 'valid'"
    if kind in ("greater_than", "greater_than_equal"):
        return "use a positive number"
    if kind.startswith("bool"):
        return "write true or false"
    return "see `cnnspec schema` for every field"
