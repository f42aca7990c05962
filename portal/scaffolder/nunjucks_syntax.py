"""Accept the bits of Nunjucks (JavaScript) syntax that Backstage templates use and Jinja2 spells otherwise."""

from __future__ import annotations

from jinja2 import Environment

BRACKETS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")", "]", "}"}


def translate_nunjucks_syntax(environment: Environment, source: str) -> str:
    """Rewrite `===`/`!==` to `==`/`!=` and quote bare keys of object literals (`{ defaultKind: "group" }`).

    Works on Jinja's own tokens, so text outside `${{ }}` and inside string literals is left as written.
    """
    if "=" not in source and ":" not in source:
        return source
    tokens = list(environment.lexer.tokeniter(source, None))
    significant = [index for index, token in enumerate(tokens) if token[1] != "whitespace"]
    position_of = {index: order for order, index in enumerate(significant)}
    rewritten: list[str] = []
    open_brackets: list[str] = []
    for index, (_, kind, raw) in enumerate(tokens):
        if kind == "operator":
            _track_brackets(open_brackets, raw)
        if _is_strict_equality_tail(tokens, index):
            continue  # `==` + `=` is `===`: drop the third `=`.
        if kind == "name" and open_brackets[-1:] == ["{"] and _is_bare_key(tokens, significant, position_of[index]):
            raw = repr(raw)
        rewritten.append(raw)
    return "".join(rewritten)


def _track_brackets(open_brackets: list[str], raw: str) -> None:
    if raw in BRACKETS:
        open_brackets.append(raw)
    elif raw in CLOSERS and open_brackets:
        open_brackets.pop()


def _is_strict_equality_tail(tokens: list[tuple[int, str, str]], index: int) -> bool:
    if index == 0 or tokens[index][1:] != ("operator", "="):
        return False
    previous = tokens[index - 1]
    return previous[1] == "operator" and previous[2] in ("==", "!=")


def _is_bare_key(tokens: list[tuple[int, str, str]], significant: list[int], order: int) -> bool:
    if order == 0 or order + 1 >= len(significant):
        return False
    before = tokens[significant[order - 1]]
    after = tokens[significant[order + 1]]
    return before[1] == "operator" and before[2] in ("{", ",") and after[1:] == ("operator", ":")
