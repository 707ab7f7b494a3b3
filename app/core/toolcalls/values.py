"""Lenient reading of call JSON and the shapes of call objects.

Strict JSON first; then the slips models make that a Python literal reader forgives:
single quotes, trailing commas, ``True``/``None`` and raw newlines inside strings.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from app.core.toolcalls.base import MAX_CALL_CHARS, PARSE_ERRORS, Context, Parsed, Unreadable

_DECODER = json.JSONDecoder(strict=False)
_NOT_JSON = "the call is not valid JSON"
_JSON_WORDS: dict[str, Any] = {"true": True, "false": False, "null": None}
_ARGUMENT_KEYS = ("arguments", "parameters", "args", "input")
_SEPARATORS = " \t\r\n,;"
_STRAY = " \t\r\n}]"

# ---- decoding ---------------------------------------------------------------------


def loads(text: str) -> Any:
    """One value: strict JSON, else a Python-style literal; raises Unreadable."""
    try:
        return _DECODER.decode(text.strip())
    except PARSE_ERRORS:
        pass
    try:
        return literal(ast.parse(text.strip(), mode="eval").body)
    except PARSE_ERRORS:
        raise Unreadable(_NOT_JSON) from None


def literal(node: ast.expr) -> Any:
    """The plain value an expression spells (no names but JSON's words); raises Unreadable."""
    if isinstance(node, ast.Constant) and _plain(node.value):
        return node.value
    if isinstance(node, ast.Name) and node.id in _JSON_WORDS:
        return _JSON_WORDS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = literal(node.operand)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.List | ast.Tuple):
        return [literal(item) for item in node.elts]
    if isinstance(node, ast.Dict):
        return _literal_dict(node)
    raise Unreadable("a value is not a plain literal")


def _plain(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _literal_dict(node: ast.Dict) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in zip(node.keys, node.values, strict=True):
        name = None if key is None else literal(key)
        if not isinstance(name, str):
            raise Unreadable("an object key is not a string")
        result[name] = literal(value)
    return result


def decode_values(segment: str, context: Context, *, whole: bool) -> tuple[list[Any], int]:
    """Consecutive JSON values and their end; with ``whole`` only stray closers may follow."""
    values, end = _strict_values(segment)
    if values and (not whole or _only_stray(segment, end)):
        return values, end
    start = _skip(segment, 0, _SEPARATORS)
    if start < len(segment) and segment[start] in "{[":
        value, end = decode_at(segment, start, context, len(segment))
        if whole and not _only_stray(segment, end):
            raise Unreadable("there is more than the call JSON")
        return [value], end
    if whole:
        return [loads(segment)], len(segment)
    raise Unreadable(_NOT_JSON)


def _strict_values(segment: str) -> tuple[list[Any], int]:
    values: list[Any] = []
    end = pos = 0
    while (pos := _skip(segment, pos, _SEPARATORS)) < len(segment) and segment[pos] in "{[":
        try:
            value, pos = _DECODER.raw_decode(segment, pos)
        except PARSE_ERRORS:
            break
        values.append(value)
        end = pos
    return values, end


def _only_stray(segment: str, pos: int) -> bool:
    return _skip(segment, pos, _STRAY) == len(segment)


def decode_at(text: str, pos: int, context: Context, stop: int | None = None) -> tuple[Any, int]:
    """The value at ``pos`` (read no further than ``stop``) and its end: strict JSON, then lenient."""
    window = text[pos : pos + MAX_CALL_CHARS if stop is None else stop]
    try:
        value, end = _DECODER.raw_decode(window)
    except PARSE_ERRORS:
        end = balanced_end(window, 0, context)
        if end < 0:
            raise Unreadable(_NOT_JSON) from None
        value = loads(window[:end])
    return value, pos + end


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


_STRUCTURE = re.compile(r"""[{}\[\]"']""")
_STRING_REST = {
    '"': re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL),
    "'": re.compile(r"[^'\\]*(?:\\.[^'\\]*)*'", re.DOTALL),
}


def balanced_end(text: str, start: int, context: Context) -> int:
    """End of the bracketed value opening at ``start`` (quote-aware), or -1."""
    stop = min(len(text), start + MAX_CALL_CHARS, start + max(context.scan_left, 0))
    depth = 0
    pos = start
    while (match := _STRUCTURE.search(text, pos, stop)) is not None:
        char = match.group()
        pos = match.end()
        if char in "\"'":
            rest = _STRING_REST[char].match(text, pos, stop)
            if rest is None:
                break
            pos = rest.end()
            continue
        depth += 1 if char in "{[" else -1
        if depth <= 0:
            context.scan_left -= pos - start
            return pos if depth == 0 else -1
    context.scan_left -= stop - start
    return -1


# ---- call shapes ------------------------------------------------------------------


def calls_from_json(values: list[Any]) -> Parsed:
    """The calls decoded values describe: call objects, or lists of them."""
    items = [item for value in values for item in (value if isinstance(value, list) else [value])]
    if not items:
        raise Unreadable("the list of calls is empty")
    return [call_from_object(item) for item in items]


def call_from_object(item: Any) -> tuple[str, dict[str, Any]]:
    """Name and arguments of one call object, also inside a ``{"function": {...}}`` wrapper."""
    if not isinstance(item, dict):
        raise Unreadable(f"a call must be a JSON object with a name, not {_kind(item)}")
    if isinstance(item.get("function"), dict):
        item = item["function"]
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Unreadable("the call has no tool name")
    key = next((k for k in _ARGUMENT_KEYS if k in item), None)
    return name.strip(), as_arguments(None if key is None else item[key])


def as_arguments(value: Any) -> dict[str, Any]:
    """Arguments as an object; a JSON string holding the object (even twice encoded) is decoded."""
    for _ in range(2):
        if isinstance(value, str):
            try:
                value = loads(value) if value.strip() else None
            except Unreadable:
                raise Unreadable("the arguments are a string that is not JSON") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Unreadable(f"the arguments must be a JSON object, not {_kind(value)}")
    return value


def looks_like_calls(values: list[Any]) -> bool:
    """Whether decoded values are plainly call objects (name plus arguments or parameters)."""
    items = [item for value in values for item in (value if isinstance(value, list) else [value])]
    return bool(items) and all(_is_call_object(item) for item in items)


def _is_call_object(item: Any) -> bool:
    if isinstance(item, dict) and isinstance(item.get("function"), dict):
        item = item["function"]
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        return False
    if "arguments" in item:
        return True
    schema = item.get("parameters")
    is_definition = (
        isinstance(schema, dict) and schema.get("type") == "object" and "properties" in schema
    )
    return "parameters" in item and not is_definition


def _kind(value: Any) -> str:
    kinds = {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    if type(value) in kinds:
        return kinds[type(value)]
    return "a number" if isinstance(value, int | float) else f"a {type(value).__name__}"
