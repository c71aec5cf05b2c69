"""The string notation: ``Conv(5x5,6)-ReLU-Pool(2)-[Conv-ReLU] x 3-FC(10)-SM``.

Room: spec. Produces plain dicts (one per node, with a :class:`SourceRef`)
that the pydantic models then validate; it never computes sizes.

Grammar (names case-insensitive; ``-``, ``->``, ``=>`` and whitespace separate)::

    network := [INPUT ['(' shape ')']] [shape] item*
    item    := layer | group | paren | shape
    layer   := NAME [':' LABEL] ['(' args ')']
    group   := '[' network ']' [('x' | '*' | '×') COUNT]     '[...]' repeats the previous group
    paren   := '(' NAME ')'                  e.g. "(SM)": a trailing softmax
             | '(' shape NAME ')'            e.g. "(1x1 conv)"
             | '(' shape ')' '@' COUNT       e.g. "(1x1x500)@120": FH x FW x C_in @ K filters
    shape   := INT ('x' INT)*               a leading shape is the input; a later one is an
                                             expected shape, checked by the analysis
    args    := arg (',' arg)*;  arg := [key '='] (shape | number | name | arith)
    arith   := numbers and names with + - * / // and parentheses, e.g. planes*4

Inside a block defined in YAML ``blocks:`` (see ``templates.py``), names in
arguments and repeat counts (``x n``, ``x (n-1)``) are the block's parameters,
and a block is called like a layer: ``bottleneck(64, stride=2)``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cnnspec.errors import SpecError
from cnnspec.spec import vocabulary as vocab
from cnnspec.spec.budget import Budget, whole_number
from cnnspec.spec.notation_args import LayerArguments
from cnnspec.spec.readings import PLAIN_LAYER, Reading, copy_at, remember
from cnnspec.spec.source import SourceRef, Span, TextMap
from cnnspec.spec.templates import Scope, evaluate
from cnnspec.spec.tokens import Token, TokenStream, check_brackets, shape_of

_SEEN_ONCE = object()  # a plain layer text met once so far


@dataclass
class ParsedString:
    """What a network string says: an optional input shape and the node dicts."""

    input: tuple[int, ...] | None
    input_ref: SourceRef | None
    layers: list[dict[str, Any]]


class _Parser(LayerArguments):
    def __init__(self, text: str, where: TextMap, scope: Scope | None = None):
        self.text = text
        self.where = where
        self.scope = scope
        check_brackets(text, where)
        self.tokens = TokenStream(text, where)
        self.pos = 0
        self.last_group: list[dict[str, Any]] | None = None
        self.last_group_size = 0
        self.budget = scope.expansions if scope is not None else Budget()
        # plain layers already read, by their text: a long string repeats a few layers
        # many times, and each copy is rebuilt from the first reading without re-tokenising
        self.readings: dict[str, Reading | object | None] = {}

    # -- token helpers -------------------------------------------------------
    def peek(self, skip_ws: bool = True) -> Token | None:
        i = self.pos
        token = self.tokens.at(i)
        while skip_ws and token is not None and token.kind == "ws":
            i += 1
            token = self.tokens.at(i)
        return token

    def next(self, skip_ws: bool = True) -> Token | None:
        token = self.tokens.at(self.pos)
        while skip_ws and token is not None and token.kind == "ws":
            self.pos += 1
            token = self.tokens.at(self.pos)
        if token is None:
            return None
        self.pos += 1
        if self.pos - self.tokens.base > 4096:
            self.tokens.release(self.pos)
        return token

    def previous(self) -> Token:
        """The token just read."""
        token = self.tokens.at(self.pos - 1)
        assert token is not None
        return token

    def loc(self, token: Token | None):
        if token is None:
            return self.where.loc(len(self.text))
        return self.where.loc(token.start, token.end)

    def span(self, token: Token) -> Span:
        """A lazily resolved place for a token (most places are never shown)."""
        return Span(self.where, token.start, token.end)

    def is_sep(self, token: Token) -> bool:
        return token.kind in ("ws", "arrow") or token.text == "-"

    # -- grammar ---------------------------------------------------------------
    def network(self) -> ParsedString:
        input_shape: tuple[int, ...] | None = None
        input_ref: SourceRef | None = None
        self.skip_separators()
        first = self.peek()
        if first is not None and first.kind == "name" and first.text.lower() == "input":
            self.next()
            after = self.peek(skip_ws=False)
            if after is not None and after.text == "(":
                self.next()
                shape_token = self.next()
                if shape_token is None or shape_token.kind != "shape":
                    raise SpecError(
                        "INPUT(...) takes a shape", self.loc(shape_token), "write INPUT(32x32x3)"
                    )
                input_shape = shape_of(shape_token.text, self.span(shape_token))
                input_ref = SourceRef(self.loc(shape_token))
                self.expect(")", "close INPUT( with ')'")
            self.skip_separators()
        first = self.peek()
        if first is not None and first.kind == "shape" and input_shape is None:
            self.next()
            input_shape = shape_of(first.text, self.span(first))
            input_ref = SourceRef(self.loc(first))
        layers = self.sequence(closing=None)
        return ParsedString(input_shape, input_ref, layers)

    def skip_separators(self) -> None:
        token = self.tokens.at(self.pos)
        while token is not None and self.is_sep(token):
            self.pos += 1
            token = self.tokens.at(self.pos)

    def expect(self, text: str, hint: str) -> Token:
        token = self.next()
        if token is None or token.text != text:
            found = "the end of the string" if token is None else repr(token.text)
            raise SpecError(f"expected {text!r} but found {found}", self.loc(token), hint)
        return token

    def sequence(self, closing: Token | None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            self.skip_separators()
            token = self.peek()
            if token is None:
                if closing is not None:
                    raise SpecError(
                        "unbalanced brackets: this '[' is never closed",
                        self.loc(closing),
                        "add ']' after the group's last layer",
                    )
                return items
            if token.text == "]":
                if closing is None:
                    raise SpecError(
                        "unbalanced brackets: this ']' has no matching '['",
                        self.loc(token),
                        "add '[' before the group's first layer, or remove the ']'",
                    )
                return items
            items.append(self.item())

    def item(self) -> dict[str, Any]:
        token = self.peek()
        assert token is not None
        if token.text == "[":
            return self.group()
        if token.text == "(":
            return self.paren()
        if token.kind == "shape":
            self.next()
            self.budget.leaf("expect", self.span(token))
            return {"kind": "expect", "shape": shape_of(token.text, self.span(token)),
                    "written": "=>", "source": SourceRef(self.loc(token))}
        if token.kind == "name":
            return self.plain_layer(token) or self.layer()
        if token.text in ("+", "/"):
            raise SpecError(
                f"unexpected character {token.text!r} in the network string",
                self.loc(token),
                "layers are names like Conv, Pool, FC joined by '-'",
            )
        raise SpecError(
            f"expected a layer name but found {token.text!r}",
            self.loc(token),
            "write a layer such as Conv(3x3, 64), Pool(2), FC(10) or a group [ ... ] x 3",
        )

    def group(self) -> dict[str, Any]:
        opening = self.next()
        assert opening is not None
        with self.budget.nested(self.span(opening)):
            return self._group(opening)

    def _group(self, opening: Token) -> dict[str, Any]:
        """The group opened by ``opening``, charged to the budget with its repeats."""
        before = self.budget.layers
        inner = self.peek()
        if inner is not None and inner.kind == "ellipsis":
            self.next()
            if self.last_group is None:
                raise SpecError(
                    "'[...]' repeats the previous group, but there is none before it",
                    self.loc(inner),
                    "write the group's layers out, e.g. [Conv-ReLU] x 3",
                )
            self.budget.add(self.last_group_size, self.span(inner))
            layers = copy.deepcopy(self.last_group)
            close = self.peek()
            if close is None or close.text != "]":
                raise SpecError(
                    "unbalanced brackets: this '[' is never closed",
                    self.loc(opening),
                    "write '[...]' with its closing ']'",
                )
            self.next()
        else:
            layers = self.sequence(closing=opening)
            self.next()  # the ']'
            self.last_group = layers
            self.last_group_size = self.budget.layers - before
        end = self.previous().end
        size = self.budget.layers - before
        if not size:  # an empty group is still a node
            size = 1
            self.budget.add(1, self.span(opening))
        repeat, repeat_ref = self.repeat_count()
        if repeat == 0:  # only arithmetic gives 0 (x (n-1) with n = 1): the group vanishes
            layers, repeat = [], 1
        else:
            self.budget.repeated(size, repeat, repeat_ref or self.span(opening))
        node: dict[str, Any] = {
            "kind": "sequence",
            "layers": layers,
            "repeat": repeat,
            "written": "Group",
            "source": SourceRef(
                self.where.loc(opening.start, end), {"repeat": repeat_ref} if repeat_ref else {}
            ),
        }
        return node

    def repeat_count(self):
        """Read ``x 3``, ``x3``, ``*3`` or ``× 3`` after a group; 1 when absent."""
        save = self.pos
        token = self.next()
        if token is None:
            self.pos = save
            return 1, None
        count_token: Token | None = None
        negative = False
        if token.kind == "name" and re.fullmatch(r"[xX]\d+", token.text):
            count_token = Token("number", token.text[1:], token.start + 1, token.end)
        elif token.text in ("x", "X", "*", "×"):
            nxt = self.next()
            counted = self.computed_count(token, nxt)
            if counted is not None:
                return counted
            if nxt is not None and nxt.text == "-":
                negative = True
                nxt = self.next(skip_ws=False)
            if nxt is None or nxt.kind != "number":
                raise SpecError(
                    "a group's repeat count must be a whole number",
                    self.loc(nxt if nxt is not None else token),
                    "write [ ... ] x 3",
                )
            count_token = nxt
        else:
            self.pos = save
            return 1, None
        where = self.where.loc(token.start, count_token.end)
        if count_token.text.isdigit():
            whole_number(count_token.text, where)
        if negative or not count_token.text.isdigit() or int(count_token.text) < 1:
            shown = ("-" if negative else "") + count_token.text
            raise SpecError(
                f"repeat count {shown} is not allowed: a group runs at least once",
                where,
                "use x 1 or more, or delete the group (a count of 0 is accepted only when a "
                "block's arithmetic computes it, e.g. x (n-1) with n = 1)",
            )
        count = whole_number(count_token.text, where)
        return count, where

    @property
    def env(self) -> Mapping[str, Any]:
        """The parameters bound where this string is read (empty outside a block)."""
        return self.scope.env if self.scope is not None else {}

    def arithmetic(self, first: Token, last: Token) -> Any:
        """The value of the arithmetic ``text[first.start:last.end]``."""
        context = self.scope.context if self.scope is not None else ""
        return evaluate(self.text[first.start:last.end], self.env,
                        self.where.loc(first.start, last.end), context)

    def computed_count(self, sign: Token, first: Token | None):
        """A repeat count written with block parameters: ``x n`` or ``x (n-1)``."""
        if first is None or not (first.text == "(" or (first.kind == "name" and self.env)):
            return None
        last = first
        if first.text == "(":
            depth = 1
            while depth:
                token = self.next()
                if token is None:
                    raise SpecError("unbalanced parentheses: this '(' is never closed",
                                    self.loc(first), "add ')' after the repeat count")
                depth += {"(": 1, ")": -1}.get(token.text, 0)
                last = token
        value = self.arithmetic(first, last)
        where = self.where.loc(sign.start, last.end)
        if not isinstance(value, int) or value < 0:
            raise SpecError(
                f"repeat count {self.text[first.start:last.end]} = {value} is not allowed: "
                "a group runs a whole number of times (0 when the arithmetic leaves none)",
                where, "change the block's arguments, or remove the group")
        return value, where

    def expression_after(self, first: Token) -> Token | None:
        """When an argument starting at ``first`` is arithmetic, consume it; its last token."""
        ahead = self.peek()
        starts = first.text == "(" or (
            first.text == "-" and bool(self.env) and ahead is not None
            and (ahead.kind == "name" or ahead.text == "("))
        continues = first.kind in ("number", "name") and ahead is not None and \
            ahead.text in ("*", "/", "+", "-")
        if not (starts or continues):
            return None
        depth = 1 if first.text == "(" else 0
        last = first
        while True:
            token = self.peek()
            if token is None:
                return last
            if depth == 0 and token.text in (",", ")"):
                return last
            depth += {"(": 1, ")": -1}.get(token.text, 0)
            last = self.next()
            assert last is not None

    def paren(self) -> dict[str, Any]:
        opening = self.next()
        assert opening is not None
        first = self.next()
        if first is None:
            raise SpecError("unbalanced parentheses: '(' is never closed", self.loc(opening),
                            "add ')'")
        if first.kind == "name":
            close = self.expect(")", "a parenthesised layer is written (SM)")
            return self.make_layer(first, None, [], self.where.loc(opening.start, close.end))
        if first.kind == "shape":
            dims = shape_of(first.text, self.span(first))
            second = self.next()
            if second is not None and second.kind == "name":
                close = self.expect(")", "write (1x1 conv)")
                args = [(None, dims[:2] if len(dims) >= 2 else dims, first, first)]
                node = self.make_layer(second, None, args, self.where.loc(opening.start, close.end))
                if len(dims) == 3 and node["kind"] == "conv":
                    node["in_channels"] = dims[2]
                return node
            if second is not None and second.text == ")":
                at = self.next()
                if at is None or at.text != "@":
                    raise SpecError(
                        "a bare filter shape in parentheses must be followed by '@ filters'",
                        self.loc(at if at is not None else second),
                        "write (1x1x500)@120 for 120 filters of 1x1x500",
                    )
                count = self.next()
                if count is None or count.kind != "number" or not count.text.isdigit():
                    raise SpecError("'@' must be followed by the number of filters",
                                    self.loc(count), "write (1x1x500)@120")
                if len(dims) not in (2, 3):
                    raise SpecError("a filter shape is FH x FW or FH x FW x C",
                                    self.loc(first), "write (1x1x500)@120")
                self.budget.leaf("conv", self.span(first))
                ref = SourceRef(self.where.loc(opening.start, count.end),
                                {"kernel": self.loc(first), "filters": self.loc(count)})
                node: dict[str, Any] = {"kind": "conv", "written": "Conv",
                                        "kernel": dims[:2],
                                        "filters": whole_number(count.text, self.span(count)),
                                        "source": ref}
                if len(dims) == 3:
                    node["in_channels"] = dims[2]
                return node
        raise SpecError(
            f"cannot read {first.text!r} in parentheses",
            self.loc(first),
            "parentheses hold a layer, e.g. (SM), (1x1 conv) or (1x1x500)@120",
        )

    def layer(self) -> dict[str, Any]:
        name = self.next()
        assert name is not None
        label_token: Token | None = None
        after = self.peek(skip_ws=False)
        if after is not None and after.text == ":":
            self.next(skip_ws=False)
            label_token = self.next(skip_ws=False)
            if label_token is None or label_token.kind not in ("name", "number"):
                raise SpecError("a label follows ':' directly", self.loc(label_token or after),
                                "write Conv:1")
            label_token = self.glued_label(label_token)
        end = self.previous().end
        args: list[tuple[str | None, Any, Token, Token]] = []
        after = self.peek(skip_ws=False)
        spaced = self.peek()
        if (after is not None and after.text == "(") or (
            spaced is not None and spaced.text == "(" and not self._standalone_paren()
        ):
            args, end = self.arguments()
        label = None
        if label_token is not None:
            label = f"{name.text}:{label_token.text}"
        return self.make_layer(name, label, args, Span(self.where, name.start, end))

    def plain_layer(self, name: Token) -> dict[str, Any] | None:
        """The layer starting at ``name`` when its text alone decides it, else ``None``.

        The first time a text is met it is parsed as usual and remembered; each later
        copy is the remembered node with its own places (see ``readings.py``). Inside
        a block, names may be parameters, so every layer is parsed there.
        """
        if self.env or vocab.lookup(name.text) is None:  # a block call, or a typo to report
            return None
        plain = PLAIN_LAYER.match(self.text, name.start)
        if plain is None:
            return None
        reading = self.readings.get(plain.group(), False)
        if reading is False or reading is _SEEN_ONCE:
            # remembered from its second copy on: a text written once costs nothing more
            before = self.pos
            node = self.layer()
            self.readings[plain.group()] = _SEEN_ONCE if reading is False else remember(
                node, name.start, plain.end(), self.pos - before, self.previous())
            return node
        if reading is None:  # read before, but its places are not all in this text
            return None
        node, last = copy_at(reading, name.start)
        self.budget.leaf(node["kind"], node["source"])
        self.pos += reading.tokens
        self.tokens.jump(self.pos, last)
        return node

    def glued_label(self, first: Token) -> Token:
        """A label of several tokens written without spaces, such as ``3a`` (``4`` + ``e``)."""
        last = first
        while True:
            token = self.peek(skip_ws=False)
            if token is None or token.start != last.end or token.kind not in ("name", "number"):
                break
            last = self.next(skip_ws=False)
            assert last is not None
        if last is first:
            return first
        return Token(first.kind, self.text[first.start:last.end], first.start, last.end)

    def _standalone_paren(self) -> bool:
        """Is the '(' ahead, after whitespace, a layer of its own like '(SM)'?"""
        i = self.pos
        while self.tokens.at(i).kind == "ws":  # type: ignore[union-attr]
            i += 1
        ahead = (self.tokens.at(j) for j in range(i + 1, i + 4))
        rest = [t for t in ahead if t is not None and t.kind != "ws"]
        if len(rest) >= 2 and rest[0].kind == "name" and rest[1].text == ")":
            return vocab.lookup(rest[0].text) is not None
        return bool(rest) and rest[0].kind == "shape"


def parse_string(text: str, where: TextMap | None = None,
                 scope: Scope | None = None) -> ParsedString:
    """Parse a network string into node dicts (not yet validated).

    ``scope`` gives the blocks a YAML spec defines and, inside a block, its
    parameters. Raises :class:`SpecError` with the column of the first problem.
    """
    where = where or TextMap(text)
    if not text.strip():
        raise SpecError("the network string is empty", where.loc(0),
                        "write layers such as Conv(5x5,6)-ReLU-Pool(2)-FC(10)")
    return _Parser(text, where, scope).network()

