"""The argument list of a layer in the string notation, and the node dict it makes.

Room: spec. ``Conv(3x3, 64, s=2, p=1)``: positional and named arguments (numbers,
sizes like 3x3, words, arithmetic on a block's parameters), matched to the layer's
fields by :mod:`cnnspec.spec.vocabulary`, or a call of a block defined in YAML.
A mixin of the string parser (:mod:`cnnspec.spec.notation`), whose token reading
(``next``, ``peek``, ``loc``, ``span``), scope, budget and arithmetic it uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cnnspec.errors import SpecError
from cnnspec.spec import vocabulary as vocab
from cnnspec.spec.budget import whole_number
from cnnspec.spec.source import SourceRef, resolve
from cnnspec.spec.tokens import Token, shape_of

if TYPE_CHECKING:
    from cnnspec.spec.budget import Budget
    from cnnspec.spec.templates import Scope


class LayerArguments:
    """``arguments()`` reads ``( ... )`` after a layer name; ``make_layer()`` builds its node."""

    text: str
    scope: Scope | None
    budget: Budget
    env: Mapping[str, Any]

    def arguments(self) -> tuple[list[tuple[str | None, Any, Token, Token]], int]:
        opening = self.next()
        assert opening is not None
        args: list[tuple[str | None, Any, Token, Token]] = []
        while True:
            token = self.next()
            if token is None:
                raise SpecError("unbalanced parentheses: this '(' is never closed",
                                self.loc(opening), "add ')' after the arguments")
            if token.text == ")" and not args:
                return args, token.end
            key: str | None = None
            key_token = token
            if token.kind == "name" and (self.peek() is not None and self.peek().text == "="):
                key = token.text
                self.next()
                token = self.next()
                if token is None:
                    raise SpecError(f"argument {key!r} has no value", self.loc(opening),
                                    f"write {key}=VALUE")
            last = self.expression_after(token)
            if last is not None:
                value = self.arithmetic(token, last)
                token = Token("arith", self.text[token.start:last.end], token.start, last.end)
                args.append((key, value, token, key_token))
                sep = self.next()
                if sep is None or sep.text not in (",", ")"):
                    raise SpecError("unbalanced parentheses: this '(' is never closed",
                                    self.loc(opening), "add ')' after the arguments")
                if sep.text == ")":
                    return args, sep.end
                continue
            negative = False
            if token.text == "-":
                negative = True
                token = self.next(skip_ws=False)
                if token is None or token.kind != "number":
                    raise SpecError("expected a number after '-'", self.loc(token),
                                    "arguments are numbers, sizes like 3x3, or words")
            value: Any
            if token.kind == "shape":
                value = shape_of(token.text, self.span(token))
            elif token.kind == "number":
                value = float(token.text) if re.search(r"[.eE]", token.text) else \
                    whole_number(token.text, self.span(token))
                value = -value if negative else value
            elif token.kind == "name" and token.text in self.env:
                value = self.env[token.text]
            elif token.kind == "name":
                if self.scope is not None:
                    self.scope.check_word(token.text, self.loc(token))
                lowered = token.text.lower()
                value = {"true": True, "false": False}.get(lowered, lowered)
            else:
                raise SpecError(f"cannot read argument {token.text!r}", self.loc(token),
                                "arguments are numbers, sizes like 3x3, or words like same")
            args.append((key, value, token, key_token))
            sep = self.next()
            if sep is None:
                raise SpecError("unbalanced parentheses: this '(' is never closed",
                                self.loc(opening), "add ')' after the arguments")
            if sep.text == ")":
                return args, sep.end
            if sep.text != ",":
                raise SpecError(f"expected ',' or ')' but found {sep.text!r}", self.loc(sep),
                                "separate arguments with commas: Conv(3x3, 64, s=1, p=1)")

    def make_layer(self, name: Token, label: str | None,
                   args: list[tuple[str | None, Any, Token, Token]], where) -> dict[str, Any]:
        word = vocab.lookup(name.text)
        template = self.scope.find(name.text) if word is None and self.scope else None
        if template is not None:
            assert self.scope is not None
            call = [(key, value, self.loc(token)) for key, value, token, _ in args]
            node = self.scope.call(template, call, resolve(where))
            if label is not None:
                node["label"] = label
            return node
        if word is None:
            guess = vocab.suggest(name.text)
            if self.scope is not None:
                guess = self.scope.suggest(name.text, guess)
            hint = (f"did you mean {guess!r}? (`cnnspec layers` lists the names)" if guess else
                    "`cnnspec layers` lists the layer names")
            raise SpecError(f"unknown layer {name.text!r}", self.loc(name), hint)
        self.budget.leaf(word.kind, where)
        node: dict[str, Any] = {"kind": word.kind, "written": word.display, **word.fixed}
        if word.kind == "concat" and word.display == "Incept":
            node["written"] = "Incept"
        if label is not None:
            node["label"] = label
        arg_locs = {}
        positional = list(vocab.POSITIONAL.get(word.kind, ()))
        for key, value, token, key_token in args:
            if key is None:
                if not positional:
                    raise SpecError(
                        f"{word.display} takes no more positional arguments (got {token.text!r})",
                        self.loc(token),
                        f"name it, e.g. {word.display}(name=value); known: "
                        + ", ".join(vocab.known_args(word.kind)),
                    )
                field_name = positional.pop(0)
            else:
                found = vocab.arg_field(word.kind, key)
                if found is None:
                    guess = vocab.suggest(key, vocab.known_args(word.kind))
                    hint = (f"did you mean {guess!r}?" if guess else
                            f"{word.display} takes: " + ", ".join(vocab.known_args(word.kind)))
                    raise SpecError(f"{word.display} has no argument {key!r}",
                                    self.loc(key_token), hint)
                field_name = found
                if field_name in positional:
                    positional.remove(field_name)
            if field_name in arg_locs:
                also = (" (also as the kernel's depth)" if field_name == "in_channels"
                        and isinstance(node.get("kernel"), tuple) and "in_channels" in node
                        else "")
                raise SpecError(f"argument {field_name!r} is given twice{also}",
                                self.loc(key_token), "give each argument once")
            if field_name == "kernel" and isinstance(value, tuple) and len(value) == 3:
                if "in_channels" in arg_locs:  # Conv(in=3, k=5x5x3): the depth given twice
                    raise SpecError("argument 'in_channels' is given twice (also as the kernel's "
                                    "depth)", self.loc(token),
                                    "write the kernel as FH x FW, or drop the in_channels "
                                    "argument")
                node["in_channels"] = value[2]
                arg_locs["in_channels"] = self.span(token)
                value = value[:2]
            node[field_name] = value
            arg_locs[field_name] = self.span(token)
        node["source"] = SourceRef(where, arg_locs)
        return node
