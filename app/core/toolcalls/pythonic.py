"""Pythonic calls: ``[get_weather(city="Paris")]`` lists and bare ``get_weather(city="Paris")`` lines.

Read with ``ast`` (never evaluated); argument values must be plain literals.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from app.core.chat import CallSource
from app.core.toolcalls.base import (
    MAX_CALL_CHARS,
    PARSE_ERRORS,
    Context,
    Found,
    NextMatch,
    Parsed,
    Unreadable,
)
from app.core.toolcalls.samples import describes_signature
from app.core.toolcalls.values import literal

_MAX_CLOSINGS_TRIED = 40


def call_nodes(source: str) -> list[ast.Call] | None:
    """The calls a Python expression (one call or a list of calls) is made of, else None."""
    try:
        tree = ast.parse(source.strip(), mode="eval").body
    except PARSE_ERRORS:
        return None
    nodes = tree.elts if isinstance(tree, ast.List) else [tree]
    calls = [node for node in nodes if isinstance(node, ast.Call)]
    return calls if calls and len(calls) == len(nodes) else None


def read_calls(nodes: list[ast.Call]) -> Parsed:
    """Name and keyword arguments of each call; raises Unreadable with the reason."""
    return [_read_call(node) for node in nodes]


def _read_call(node: ast.Call) -> tuple[str, dict[str, Any]]:
    name = called_name(node)
    if name is None:
        raise Unreadable("the called function is not a plain name")
    if node.args:
        raise Unreadable(f"{name}() was given positional arguments; tools take named arguments")
    arguments: dict[str, Any] = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise Unreadable(f"{name}() was given **keyword unpacking, which cannot be read")
        try:
            arguments[keyword.arg] = literal(keyword.value)
        except Unreadable:
            raise Unreadable(
                f"the argument {keyword.arg!r} of {name}() is not a plain value"
            ) from None
    return name, arguments


def called_name(node: ast.Call) -> str | None:
    """``f`` or ``module.f`` for a call, else None."""
    parts: list[str] = []
    func = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    return ".".join([func.id, *reversed(parts)])


# ---- recognisers ------------------------------------------------------------------

_LIST_OPEN = re.compile(r"\[[ \t\r\n]*[A-Za-z_][\w.]{0,200}[ \t]*\(")
_LIST_CLOSE = re.compile(r"\)[ \t\r\n]*\]")
_CALL_CLOSE = re.compile(r"\)")


def pythonic_lists(text: str, context: Context) -> Iterator[Found]:
    """``[f(x=1), g(y="a")]`` for any names; unreadable ones are malformed only for offered names."""
    yield from _scan(text, _LIST_OPEN, 0, NextMatch(_LIST_CLOSE, text), context)


def bare_pythonic(text: str, context: Context) -> Iterator[Found]:
    """A line that starts with ``f(x=1)`` where ``f`` is an offered tool."""
    names = sorted((n for n in context.names if n), key=len, reverse=True)
    if not names:
        return
    alternatives = "|".join(re.escape(name) for name in names)
    opening = re.compile(rf"(?m)^[ \t]*(?:[-*>][ \t]*)?`?({alternatives})[ \t]*\(")
    yield from _scan(text, opening, 1, NextMatch(_CALL_CLOSE, text), context)


def _scan(
    text: str, opening: re.Pattern[str], group: int, closings: NextMatch, context: Context
) -> Iterator[Found]:
    pos = 0
    while (match := opening.search(text, pos)) is not None:
        start = match.start(group)
        parsed = _parse_span(text, start, closings, context)
        if parsed is None:
            pos = match.end()
            continue
        end, nodes = parsed
        if start > 0 and end < len(text) and text[start - 1] == text[end] == "`":
            start, end = start - 1, end + 1  # `f(x=1)` written as inline code
        pos = end
        if _is_signature(nodes) or describes_signature(text, end):
            continue  # ``f(a, b)`` or ``f(x=1) - does y``: a tool described, not called
        found = _found(start, end, nodes, context)
        if found is not None:
            yield found


def _parse_span(
    text: str, start: int, closings: NextMatch, context: Context
) -> tuple[int, list[ast.Call]] | None:
    """The first closing bracket after ``start`` where the text parses as calls, and the calls."""
    pos = start
    for _ in range(_MAX_CLOSINGS_TRIED):
        close = closings.at_or_after(pos)
        if close is None or close.end() - start > MAX_CALL_CHARS or not context.may_parse():
            return None
        nodes = call_nodes(text[start : close.end()])
        if nodes is not None:
            return close.end(), nodes
        pos = close.end()
    return None


def _is_signature(nodes: list[ast.Call]) -> bool:
    """``f(title, time)``: parameters named as bare words, the way signatures are listed."""
    return any(isinstance(arg, ast.Name) for node in nodes for arg in node.args)


def _found(start: int, end: int, nodes: list[ast.Call], context: Context) -> Found | None:
    """The calls, or a malformed span when they are unreadable and name offered tools."""
    try:
        return Found(start, end, CallSource.PYTHONIC, calls=tuple(read_calls(nodes)))
    except Unreadable as error:
        if all(called_name(node) in context.names for node in nodes):
            return Found(start, end, CallSource.PYTHONIC, error=str(error))
        return None
