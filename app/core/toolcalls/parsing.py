"""Shared pieces of tool-call recovery: spans, budgets, lenient JSON, XML and pythonic parsing."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.core.chat import CallSource

_MAX_CALL_CHARS = 20_000


Parsed = list[tuple[str, dict[str, Any]]]


class _Unreadable(ValueError):
    """The text is meant as a call but cannot be turned into one."""


@dataclass(slots=True)
class _Found:
    start: int
    end: int
    source: CallSource
    calls: Parsed = field(default_factory=list)
    error: str | None = None


@dataclass(slots=True)
class _Budget:
    """Caps the expensive parse attempts of one recovery, so hostile text stays cheap."""

    parses: int = 400

    def take(self) -> bool:
        self.parses -= 1
        return self.parses >= 0


def _blocks(
    text: str, opening: re.Pattern[str], closing: str
) -> Iterator[tuple[re.Match[str], int, int, bool]]:
    """(opening match, inner end, block end, terminated) for each block, in linear time."""
    pos = 0
    while True:
        match = opening.search(text, pos)
        if match is None:
            return
        close = text.find(closing, match.end())
        if close < 0:
            yield match, len(text), len(text), False
            return
        yield match, close, close + len(closing), True
        pos = close + len(closing)


# ---- JSON helpers -----------------------------------------------------------------

_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_JSON_WORDS = re.compile(r"\b(true|false|null)\b")


def _loads(text: str) -> Any:
    """JSON, forgiving trailing commas, single quotes and Python literals."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    cleaned = _TRAILING_COMMA.sub(r"\1", text)
    try:
        return json.loads(cleaned)
    except ValueError:
        pass
    words = {"true": "True", "false": "False", "null": "None"}
    for candidate in (cleaned, _JSON_WORDS.sub(lambda m: words[m.group(1)], cleaned)):
        try:
            return ast.literal_eval(candidate)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    raise _Unreadable("the call is not valid JSON")


def _calls_from_json(data: Any, *, need_arguments: bool = False) -> Parsed:
    """Calls described by decoded JSON: an object, a list of them, or a function wrapper."""
    items = data if isinstance(data, list) else [data]
    if not items:
        raise _Unreadable("an empty list of calls")
    calls: Parsed = []
    for item in items:
        if not isinstance(item, dict):
            raise _Unreadable("each call must be a JSON object with a name")
        if isinstance(item.get("function"), dict):
            item = item["function"]
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _Unreadable("the call has no tool name")
        keys = [k for k in ("arguments", "parameters", "args", "input") if k in item]
        if not keys and need_arguments:
            raise _Unreadable("the call has no arguments object")
        arguments = item[keys[0]] if keys else {}
        if isinstance(arguments, str):
            arguments = _loads(arguments) if arguments.strip() else {}
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise _Unreadable("the arguments must be a JSON object")
        calls.append((name.strip(), arguments))
    return calls


def _looks_like_call_json(data: Any) -> bool:
    items = data if isinstance(data, list) else [data]
    return bool(items) and all(
        isinstance(i, dict)
        and (
            isinstance(i.get("function"), dict)
            or ("name" in i and any(k in i for k in ("arguments", "parameters")))
        )
        for i in items
    )


def _parse_json_calls(raw: str) -> Parsed:
    return _calls_from_json(_loads(raw))


def _found(
    start: int, end: int, source: CallSource, parse: Callable[..., Parsed], *args: Any, **kwargs: Any
) -> _Found:
    """Run ``parse(*args, **kwargs)``; a failure becomes a malformed span with its reason."""
    try:
        return _Found(start, end, source, calls=parse(*args, **kwargs))
    except _Unreadable as error:
        return _Found(start, end, source, error=str(error))
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError) as error:
        return _Found(start, end, source, error=f"unreadable call: {type(error).__name__}")


# ---- XML forms --------------------------------------------------------------------

_FUNCTION_OPEN = re.compile(r"<function=([^>\s]{1,200})>")
_PARAM = re.compile(r"<parameter=([^>\s]{1,200})>(.*?)</parameter>", re.DOTALL)


def _xml_value(value: Any) -> str:
    if isinstance(value, str) and "<" not in value and value == value.strip() and value:
        try:
            json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, ensure_ascii=False)


def _parse_xml_params(body: str) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    for match in _PARAM.finditer(body):
        value = match.group(2)
        value = value[1:] if value.startswith("\n") else value
        value = value[:-1] if value.endswith("\n") else value
        try:
            arguments[match.group(1)] = json.loads(value)
        except ValueError:
            arguments[match.group(1)] = value
    return arguments


def _parse_function_block(name: str, body: str, terminated: bool) -> Parsed:
    if "<parameter=" in body:
        if body.count("<parameter=") != body.count("</parameter>"):
            raise _Unreadable("a <parameter=…> block is not closed")
        return [(name, _parse_xml_params(body))]
    if not terminated and not body.strip():
        raise _Unreadable("the <function=…> block is cut off")
    if not body.strip():
        return [(name, {})]
    arguments = _loads(body)
    if not isinstance(arguments, dict):
        raise _Unreadable("the arguments must be a JSON object")
    return [(name, arguments)]


_DECODER = json.JSONDecoder()

def _decode_at(text: str, pos: int) -> tuple[Any, int]:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    try:
        return _DECODER.raw_decode(text, pos)
    except ValueError:
        raise _Unreadable("the call is not valid JSON") from None

def _mentions_call(text: str) -> bool:
    head = text[:2000]
    return '"name"' in head and ('"arguments"' in head or '"parameters"' in head)

_JSON_NAMES = {"true": True, "false": False, "null": None}


def _pythonic_calls(source: str, *, require_list: bool) -> Parsed:
    tree = ast.parse(source.strip(), mode="eval").body
    if isinstance(tree, ast.List):
        nodes = list(tree.elts)
    elif require_list:
        raise _Unreadable("not a list of calls")
    else:
        nodes = [tree]
    if not nodes or not all(isinstance(n, ast.Call) for n in nodes):
        raise _Unreadable("not a list of calls")
    calls: Parsed = []
    for node in nodes:
        assert isinstance(node, ast.Call)
        name = _dotted(node.func)
        if name is None:
            raise _Unreadable("the called name is not a plain name")
        if node.args:
            raise _Unreadable(f"{name}() was given positional arguments; tools take named ones")
        arguments = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise _Unreadable("**kwargs cannot be read as arguments")
            arguments[keyword.arg] = _literal(keyword.value)
        calls.append((name, arguments))
    return calls


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Name) and node.id in _JSON_NAMES:
        return _JSON_NAMES[node.id]
    if isinstance(node, ast.List):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k) if k is not None else None: _literal(v) for k, v in zip(node.keys, node.values, strict=True)}
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise _Unreadable("an argument value is not a literal") from None

def _balanced_end(text: str, start: int) -> int:
    """End of the brace-balanced object starting at ``start`` (string-aware), or -1."""
    depth = 0
    quote: str | None = None
    escaped = False
    for index in range(start, min(len(text), start + _MAX_CALL_CHARS)):
        char = text[index]
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return index + 1
    return -1


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end
