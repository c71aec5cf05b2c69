"""Named blocks with parameters: the ``blocks:`` section of a YAML spec.

Room: spec; imports ``cnnspec.errors`` and the vocabulary only.

A block is defined once, under a head written like a call, and used by name::

    blocks:
      bottleneck(planes, stride=1):
        - residual:
            body: "Conv(1x1, planes)-BN-ReLU-Conv(3x3, planes, s=stride, p=1)-BN-ReLU
                   -Conv(1x1, planes*4)-BN"
            shortcut: "Conv(1x1, planes*4, s=stride)-BN"
        - ReLU
    architecture: "Conv(7x7, 64, s=2, p=3)-[bottleneck(64)] x 3-..."

A call (``bottleneck(64)``, ``bottleneck(128, stride=2)``, or in a YAML list
``- bottleneck: {planes: 128, stride: 2}``) becomes a ``sequence`` node labelled
with the call, so the analysis table shows the block as one row with its
layers under it. Inside a body, argument values (and repeat counts, ``x (n-1)``)
may be arithmetic over the parameters: numbers, parameter names, ``+ - * / //``,
unary minus and parentheses. :func:`evaluate` interprets exactly that subset of
Python's ``ast``; nothing is ever passed to ``eval``.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cnnspec.errors import Location, SpecError
from cnnspec.spec import vocabulary as vocab
from cnnspec.spec.budget import Budget
from cnnspec.spec.source import AnyRef, SourceRef

Value = Any  # int | float | bool | str | tuple[int, ...]: what an argument can hold
MAX_ARITHMETIC = 200
"""Longest arithmetic expression, in characters."""

_ARITHMETIC_HINT = "use numbers, parameter names, + - * / // and parentheses, e.g. planes*4"
_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
}
_WORD_VALUES = {"true", "false", "same", "valid", "max", "avg", "stochastic", "identity",
                "none", "tanh"}


# -- arithmetic ---------------------------------------------------------------------------
def evaluate(expr: str, env: Mapping[str, Value], where: Location | None,
             context: str = "") -> int | float:
    """The value of ``expr``, an arithmetic expression over the names bound in ``env``.

    Allowed: integer and decimal numbers, names of ``env`` (bound to numbers),
    ``a + b``, ``a - b``, ``a * b``, ``a // b`` (floor division), ``a / b`` (a
    whole result stays an integer: ``planes*4/2``; otherwise a decimal), unary
    ``-``/``+`` and parentheses. Anything else is a :class:`SpecError` at ``where``.
    """
    text = expr.strip()
    if len(text) > MAX_ARITHMETIC:
        raise SpecError(f"the arithmetic {text[:20]!r}... is {len(text):,} characters long, more "
                        f"than {MAX_ARITHMETIC}", where, "compute it in a block parameter")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError):
        raise SpecError(f"cannot read {text!r} as arithmetic", where, _ARITHMETIC_HINT) from None
    return _value(tree.body, env, text, where, context)


def _value(node: ast.AST, env: Mapping[str, Value], text: str, where: Location | None,
           context: str) -> int | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name):
        return _number(node.id, env, text, where, context)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _value(node.operand, env, text, where, context)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and (type(node.op) in _OPERATORS or
                                        isinstance(node.op, ast.Div)):
        left = _value(node.left, env, text, where, context)
        right = _value(node.right, env, text, where, context)
        if isinstance(node.op, (ast.Div, ast.FloorDiv)) and right == 0:
            raise SpecError(f"{text!r} divides by zero", where, "check the block's arguments")
        if isinstance(node.op, ast.Div):
            exact = Fraction(str(left)) / Fraction(str(right))
            return int(exact) if exact.denominator == 1 else float(exact)
        return _OPERATORS[type(node.op)](left, right)
    shown = ast.get_source_segment(text, node) or text
    raise SpecError(f"{shown!r} is not allowed in {text!r}: only arithmetic is", where,
                    _ARITHMETIC_HINT)


def _number(name: str, env: Mapping[str, Value], text: str, where: Location | None,
            context: str) -> int | float:
    if name not in env:
        raise unknown_name(name, env, where, context)
    value = env[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"parameter {name!r} is {format_value(value)}, not a number, so "
                        f"{text!r} cannot be computed", where,
                        f"pass a number for {name}, or use it without arithmetic")
    return value


def unknown_name(name: str, env: Mapping[str, Value], where: Location | None,
                 context: str) -> SpecError:
    """The error for a name that is not a parameter in scope, with the closest one."""
    if not env:
        return SpecError(f"{name!r} is not a number: names can only be used inside a block "
                         "(a `blocks:` entry), where they refer to its parameters", where,
                         "write the number, or define a block with parameters in `blocks:`")
    guess = difflib.get_close_matches(name, list(env), n=1, cutoff=0.5)
    known = ", ".join(env)
    inside = f" of {context}" if context else ""
    hint = f"did you mean {guess[0]!r}? " if guess else ""
    return SpecError(f"{name!r} is not a parameter{inside}", where,
                     f"{hint}the parameters are: {known}")


def format_value(value: Value) -> str:
    """An argument as the notation writes it: ``64``, ``3x3``, ``0.5``, ``true``, ``max``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "x".join(str(v) for v in value)
    return str(value)


def parse_literal(text: str) -> Value:
    """A default written in a block head: ``1``, ``0.5``, ``3x3``, ``true``, ``max``."""
    raw = text.strip()
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if re.fullmatch(r"-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)", raw):
        return float(raw)
    if re.fullmatch(r"\d+(\s*[x×X]\s*\d+)+", raw):
        return tuple(int(p) for p in re.split(r"\s*[x×X]\s*", raw))
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", raw):
        return lowered
    raise ValueError(raw)


# -- definitions ---------------------------------------------------------------------------
_NO_DEFAULT = object()
_HEAD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*", re.DOTALL)


@dataclass(frozen=True)
class Param:
    """One parameter of a block: a name and, optionally, a default value."""

    name: str
    default: Value = _NO_DEFAULT

    @property
    def required(self) -> bool:
        """True when a call must give this parameter."""
        return self.default is _NO_DEFAULT

    def __str__(self) -> str:
        return self.name if self.required else f"{self.name}={format_value(self.default)}"


@dataclass(frozen=True)
class Template:
    """A named block: its parameters, its body (YAML as written) and where it was defined."""

    name: str
    params: tuple[Param, ...]
    body: Any
    loc: Location
    body_loc: Location

    @property
    def signature(self) -> str:
        """``bottleneck(planes, stride=1)``."""
        return f"{self.name}({', '.join(str(p) for p in self.params)})"


def parse_definitions(value: Any, where: Location | None) -> dict[str, Template]:
    """The blocks of a ``blocks:`` mapping, keyed by lower-case name."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SpecError("`blocks` must map a block head like `conv_bn(filters, stride=1)` to "
                        "its layers", where,
                        "write `blocks: {conv_bn(filters): \"Conv(3x3, filters, p=1)-BN-ReLU\"}`")
    key_locs = getattr(value, "key_locs", {})
    value_locs = getattr(value, "value_locs", {})
    found: dict[str, Template] = {}
    for head, body in value.items():
        loc = key_locs.get(head, where)
        template = parse_head(str(head), body, loc, value_locs.get(head, loc))
        key = template.name.lower()
        if key in found:
            raise SpecError(f"block {template.name!r} is defined twice (also as "
                            f"{found[key].signature}, at {found[key].loc})", loc,
                            "names are case-insensitive: rename one of them")
        found[key] = template
    return found


def parse_head(head: str, body: Any, loc: Location | None,
               body_loc: Location | None) -> Template:
    """A :class:`Template` from its head ``name(p1, p2=default)`` and its body."""
    example = "write the head as name(param, other=default), e.g. bottleneck(planes, stride=1)"
    match = _HEAD.fullmatch(head)
    if match is None:
        if head.count("(") != head.count(")"):
            example = ("in a {...} mapping each comma starts a new key: write the block on a "
                       "line of its own, or quote its head")
        raise SpecError(f"cannot read the block head {head!r}", loc, example)
    name, inside = match.group(1), match.group(2)
    if vocab.lookup(name) is not None:
        raise SpecError(f"block name {name!r} is already a layer name", loc,
                        f"rename the block, e.g. {name.lower()}_block")
    params: list[Param] = []
    for piece in (inside.split(",") if inside and inside.strip() else []):
        pname, eq, default_text = piece.partition("=")
        pname = pname.strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", pname) or keyword.iskeyword(pname):
            raise SpecError(f"block {name!r}: {pname!r} is not a parameter name", loc, example)
        if any(p.name == pname for p in params):
            raise SpecError(f"block {name!r}: parameter {pname!r} is listed twice", loc,
                            "give each parameter once")
        if eq:
            try:
                default = parse_literal(default_text)
            except ValueError:
                raise SpecError(f"block {name!r}: cannot read the default "
                                f"{default_text.strip()!r} of {pname!r}", loc,
                                "defaults are numbers, sizes like 3x3, true/false or words"
                                ) from None
            params.append(Param(pname, default))
        else:
            if params and not params[-1].required:
                raise SpecError(f"block {name!r}: parameter {pname!r} without a default follows "
                                f"one with a default", loc,
                                "put the parameters with defaults last")
            params.append(Param(pname))
    if body is None or body == [] or body == "":
        raise SpecError(f"block {name!r} has no layers", body_loc or loc,
                        "give its layers: a network string, a list, or one block mapping")
    return Template(name, tuple(params), body, loc or Location(), body_loc or loc or Location())


# -- calls ---------------------------------------------------------------------------------
Argument = tuple[str | None, Value, Location | None]  # (keyword or None, value, where written)


def bind(template: Template, args: list[Argument], call_loc: Location | None) -> dict[str, Value]:
    """Parameter values for a call: positional first, then keywords, then defaults."""
    bound: dict[str, Value] = {}
    names = [p.name for p in template.params]
    positional = [a for a in args if a[0] is None]
    if len(positional) > len(names):
        extra = positional[len(names)]
        given = len(positional)
        raise SpecError(
            f"{template.name} takes {len(names)} argument{'s' * (len(names) != 1)} but "
            f"{given} {'were' if given != 1 else 'was'} given", extra[2] or call_loc,
            f"call it as {template.signature}")
    for param, (_, value, _) in zip(template.params, positional, strict=False):
        bound[param.name] = value
    for key, value, loc in args:
        if key is None:
            continue
        if key not in names:
            guess = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            raise SpecError(f"{template.name} has no parameter {key!r}", loc or call_loc,
                            f"{hint}it is defined as {template.signature}")
        if key in bound:
            raise SpecError(f"{template.name}: parameter {key!r} is given twice", loc or call_loc,
                            f"give each parameter once; it is defined as {template.signature}")
        bound[key] = value
    missing = [p.name for p in template.params if p.required and p.name not in bound]
    if missing:
        raise SpecError(f"{template.name} needs {', '.join(missing)}", call_loc,
                        f"call it as {template.signature}")
    for param in template.params:
        bound.setdefault(param.name, param.default)
    return bound


def call_text(name: str, args: list[Argument]) -> str:
    """The call as a label: ``bottleneck(128, stride=2)``; a call without arguments: the name."""
    parts = [format_value(v) if k is None else f"{k}={format_value(v)}" for k, v, _ in args]
    return f"{name}({', '.join(parts)})" if parts else name


def copy_node(node: dict[str, Any]) -> dict[str, Any]:
    """A copy of a node dict that later steps (defaults, label arguments) may change."""
    out = dict(node)
    for key in ("layers", "body", "shortcut"):
        if key in out:
            out[key] = [copy_node(n) for n in out[key]]
    if "branches" in out:
        out["branches"] = [[copy_node(n) for n in b] for b in out["branches"]]
    ref = out.get("source")
    if isinstance(ref, AnyRef):
        out["source"] = SourceRef(ref.place, dict(ref.args))
    return out


Expander = Callable[["Template", dict[str, Value], str, Location | None, "Scope"], dict[str, Any]]


@dataclass(frozen=True)
class Scope:
    """What names mean where a piece of the spec is read.

    ``templates``: the defined blocks; ``env``: the parameters bound by the call
    being expanded (empty at the top level); ``stack``: the calls being expanded,
    outermost first (to report recursion); ``expander`` turns a bound call into
    a node dict (supplied by the loader, which knows how to read a body);
    ``expansions`` is the :class:`Budget` shared by every scope of one load;
    ``template`` is the block being expanded.
    """

    templates: Mapping[str, Template] = field(default_factory=dict)
    env: Mapping[str, Value] = field(default_factory=dict)
    stack: tuple[str, ...] = ()
    expander: Expander | None = None
    expansions: Budget = field(default_factory=Budget)
    template: Template | None = None

    @property
    def context(self) -> str:
        """The block being expanded, for messages (``bottleneck(planes, stride=1)``)."""
        return f"block {self.template.signature}" if self.template else ""

    def find(self, name: str) -> Template | None:
        """The block called ``name`` (case-insensitive), or ``None``."""
        return self.templates.get(name.lower())

    def suggest(self, name: str, layer_guess: str | None = None) -> str | None:
        """The closer to ``name`` of ``layer_guess`` and the defined block names, or ``None``."""
        found = difflib.get_close_matches(name.lower(), list(self.templates), n=1, cutoff=0.6)
        block = self.templates[found[0]].name if found else None
        if block is None or layer_guess is None:
            return block or layer_guess

        def closeness(candidate: str) -> float:
            return difflib.SequenceMatcher(None, name.lower(), candidate.lower()).ratio()

        return block if closeness(block) >= closeness(layer_guess) else layer_guess

    def lookup_name(self, name: str) -> tuple[bool, Value]:
        """``(True, value)`` when ``name`` is a bound parameter, else ``(False, None)``."""
        if name in self.env:
            return True, self.env[name]
        return False, None

    def check_word(self, name: str, where: Location | None) -> None:
        """Inside a block, a bare word close to a parameter name is a typo: say so."""
        if not self.env or name.lower() in _WORD_VALUES or name in self.env:
            return
        guess = difflib.get_close_matches(name, list(self.env), n=1, cutoff=0.75)
        if guess:
            raise unknown_name(name, self.env, where, self.context)

    def call(self, template: Template, args: list[Argument], call_loc: Location | None
             ) -> dict[str, Any]:
        """Expand a call of ``template`` into one node dict."""
        bound = bind(template, args, call_loc)
        label = call_text(template.name, args)
        if template.name.lower() in (s.lower() for s in self.stack):
            chain = " -> ".join((*self.stack, template.name))
            raise SpecError(f"block {template.name!r} calls itself ({chain})", call_loc,
                            f"a block cannot contain itself; repeat it with "
                            f"[{template.name}(...)] x N instead")
        budget = self.expansions
        budget.call(call_loc)
        try:
            key: Any = (template.name.lower(), label,
                        tuple((k, type(v).__name__, v) for k, v in sorted(bound.items())))
            hash(key)
        except TypeError:  # an argument that is a list: expand without remembering
            key = None
        if key is not None and key in budget.done:
            first, size = budget.done[key]
            budget.add(size, call_loc)
            node = copy_node(first)
        else:
            before = budget.layers
            with budget.nested(call_loc):
                node = self.expand(template, bound, label, call_loc)
            size = budget.layers - before
            if key is not None:  # nothing below the top changes until every call is read
                budget.done[key] = (dict(node), size)
        node["source"] = SourceRef(call_loc or template.loc)
        return node

    def expand(self, template: Template, bound: dict[str, Value], label: str,
               call_loc: Location | None) -> dict[str, Any]:
        """Read ``template``'s body with ``bound`` parameters (errors name the call)."""
        if self.expander is None:  # pragma: no cover - the loader always supplies one
            raise SpecError(f"block {template.name!r} cannot be expanded here", call_loc)
        inner = Scope(self.templates, bound, (*self.stack, template.name), self.expander,
                      self.expansions, template)
        try:
            return self.expander(template, bound, label, call_loc, inner)
        except SpecError as exc:
            if exc.loc == call_loc or " (in " in exc.message:  # name the innermost call only
                raise
            where = f"in {label}" + (f", called at {call_loc}" if call_loc else "")
            raise type(exc)(f"{exc.message} ({where})", exc.loc, exc.hint) from None


def resolve(value: Any, scope: Scope | None, where: Location | None) -> Any:
    """A YAML argument value with the block's parameters put in.

    A string that is a parameter name becomes its value; a string of arithmetic
    (``planes*4``) is evaluated; lists are resolved item by item; anything else
    is returned unchanged.
    """
    if scope is None or not scope.env:
        return value
    if isinstance(value, list):
        return [resolve(v, scope, where) for v in value]
    if not isinstance(value, str):
        return value
    text = value.strip()
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
        bound, found = scope.lookup_name(text)
        if bound:
            return found
        scope.check_word(text, where)
        return value
    if re.fullmatch(r"[\w\s.+\-*/()]+", text) and re.search(r"[+\-*/()]", text):
        return evaluate(text, scope.env, where, scope.context)
    return value
