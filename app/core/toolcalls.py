"""Tool-call recovery: turn calls that local models write as text into tool calls.

Recognised formats, in order of precedence (a span read by one is masked for the rest):
``<tool_call>`` blocks (JSON object or list, or the XML ``<function=…><parameter=…>`` form),
``<function=name>{…}</function>``, Mistral ``[TOOL_CALLS]``, Llama ``<|python_tag|>``,
fenced ``json``/``tool_call``/``tool_code`` blocks, pythonic ``[f(x=1)]`` lists and bare
``f(x=1)`` lines (only for offered tool names), and bare JSON objects with a name and
arguments. Text that clearly tries to be a call but cannot be read becomes a
``MalformedCall``; nothing here ever raises.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.core.chat import CallSource, MalformedCall, ToolCall

Parsed = list[tuple[str, dict[str, Any]]]


class _Unreadable(ValueError):
    """The text is meant as a call but cannot be turned into one."""


@dataclass(frozen=True, slots=True)
class Recovery:
    calls: tuple[ToolCall, ...]
    malformed: tuple[MalformedCall, ...]
    text: str  # the input without the call text, for display as prose


@dataclass(slots=True)
class _Found:
    start: int
    end: int
    source: CallSource
    calls: Parsed = field(default_factory=list)
    error: str | None = None


# ---- public API -------------------------------------------------------------------


def recover_tool_calls(text: str, tool_names: Collection[str] = ()) -> Recovery:
    """Find every tool call written in ``text``; never raises."""
    try:
        return _recover(text, frozenset(tool_names))
    except Exception:  # defensive: a parser bug must never break an attempt
        return Recovery((), (), text)


def render_call(name: str, arguments: dict[str, Any], source: CallSource) -> str:
    """Write one call in the given text format (the inverse of recovery)."""
    payload = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    if source is CallSource.TOOL_CALL_TAG:
        return f"<tool_call>\n{payload}\n</tool_call>"
    if source is CallSource.JSON_FENCE:
        return f"```json\n{payload}\n```"
    if source is CallSource.BARE_JSON:
        return payload
    if source is CallSource.PYTHON_TAG:
        body = json.dumps({"name": name, "parameters": arguments}, ensure_ascii=False)
        return f"<|python_tag|>{body}<|eom_id|>"
    if source is CallSource.PYTHONIC:
        kwargs = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
        return f"[{name}({kwargs})]"
    if source is CallSource.MISTRAL:
        return f"[TOOL_CALLS] [{payload}]"
    if source is CallSource.FUNCTION_TAG:
        return f"<function={name}>{json.dumps(arguments, ensure_ascii=False)}</function>"
    if source is CallSource.XML_FUNCTION:
        params = "".join(
            f"<parameter={k}>\n{_xml_value(v)}\n</parameter>\n" for k, v in arguments.items()
        )
        return f"<tool_call>\n<function={name}>\n{params}</function>\n</tool_call>"
    raise ValueError(f"{source} is not a text format")


# ---- driver -----------------------------------------------------------------------


def _recover(text: str, names: frozenset[str]) -> Recovery:
    found: list[_Found] = []
    masked = text
    budget = _Budget()
    for recogniser in _RECOGNISERS:
        new = list(recogniser(masked, names, budget))
        if new:
            found.extend(new)
            masked = _mask(masked, new)
    found.sort(key=lambda f: f.start)
    calls: list[ToolCall] = []
    malformed: list[MalformedCall] = []
    prose: list[str] = []
    cursor = 0
    for item in found:
        raw = text[item.start : item.end]
        prose.append(text[cursor : item.start])
        cursor = item.end
        if item.error is not None:
            malformed.append(MalformedCall(raw=raw, source=item.source, reason=item.error))
            continue
        for name, arguments in item.calls:
            calls.append(ToolCall(f"rc_{len(calls)}", name, arguments, item.source, raw))
    prose.append(text[cursor:])
    remaining = re.sub(r"[ \t]{2,}", " ", "".join(prose)).strip() if found else text
    return Recovery(tuple(calls), tuple(malformed), remaining)


def _mask(text: str, spans: list[_Found]) -> str:
    """Blank out the spans already read, keeping offsets, in one pass."""
    pieces: list[str] = []
    cursor = 0
    for item in sorted(spans, key=lambda f: f.start):
        start = max(item.start, cursor)
        pieces.append(text[cursor:start])
        pieces.append(" " * max(0, item.end - start))
        cursor = max(cursor, item.end)
    pieces.append(text[cursor:])
    return "".join(pieces)


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


# ---- recognisers ------------------------------------------------------------------

_TOOL_CALL_OPEN = re.compile(r"<tool_call>")


def _tool_call_tags(text: str, names: frozenset[str], budget: _Budget) -> Iterator[_Found]:
    for match, inner_end, end, _terminated in _blocks(text, _TOOL_CALL_OPEN, "</tool_call>"):
        inner = text[match.end() : inner_end]
        function = _FUNCTION_OPEN.search(inner)
        if function is not None:
            fn_end = inner.find("</function>", function.end())
            body = inner[function.end() : fn_end if fn_end >= 0 else len(inner)]
            yield _found(
                match.start(),
                end,
                CallSource.XML_FUNCTION,
                _parse_function_block,
                function.group(1),
                body,
                fn_end >= 0,
            )
            continue
        if not inner.strip():
            yield _Found(match.start(), end, CallSource.TOOL_CALL_TAG, error="empty <tool_call> block")
            continue
        yield _found(match.start(), end, CallSource.TOOL_CALL_TAG, _parse_json_calls, inner)


def _function_tags(text: str, names: frozenset[str], budget: _Budget) -> Iterator[_Found]:
    for match, inner_end, end, terminated in _blocks(text, _FUNCTION_OPEN, "</function>"):
        body = text[match.end() : inner_end]
        source = CallSource.XML_FUNCTION if "<parameter=" in body else CallSource.FUNCTION_TAG
        yield _found(
            match.start(),
            end,
            source,
            _parse_function_block,
            match.group(1),
            body,
            terminated,
        )


_MISTRAL = re.compile(r"\[TOOL_CALLS\]")
_MISTRAL_ARGS = re.compile(r"\s*([A-Za-z_][\w.\-]{0,200})\[ARGS\]")
_DECODER = json.JSONDecoder()


def _mistral(text: str, names: frozenset[str], budget: _Budget) -> Iterator[_Found]:
    pos = 0
    while (match := _MISTRAL.search(text, pos)) is not None:
        try:
            calls, end = _mistral_calls(text, match.end())
        except _Unreadable as error:
            end = _line_end(text, match.end())
            yield _Found(match.start(), end, CallSource.MISTRAL, error=str(error))
        else:
            yield _Found(match.start(), end, CallSource.MISTRAL, calls=calls)
        pos = max(end, match.end())


def _mistral_calls(text: str, pos: int) -> tuple[Parsed, int]:
    """Either ``[TOOL_CALLS] [{...}]`` or one or more ``name[ARGS]{...}``."""
    calls: Parsed = []
    while (named := _MISTRAL_ARGS.match(text, pos)) is not None:
        arguments, pos = _decode_at(text, named.end())
        if not isinstance(arguments, dict):
            raise _Unreadable("the arguments must be a JSON object")
        calls.append((named.group(1), arguments))
    if calls:
        return calls, pos
    data, pos = _decode_at(text, pos)
    return _calls_from_json(data), pos


def _decode_at(text: str, pos: int) -> tuple[Any, int]:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    try:
        return _DECODER.raw_decode(text, pos)
    except ValueError:
        raise _Unreadable("the call is not valid JSON") from None


_PYTHON_TAG = re.compile(r"<\|python_tag\|>")
_PYTHON_TAG_END = re.compile(r"<\|(?:eom_id|eot_id)\|>")


def _python_tags(text: str, names: frozenset[str], budget: _Budget) -> Iterator[_Found]:
    pos = 0
    while (match := _PYTHON_TAG.search(text, pos)) is not None:
        stop = _PYTHON_TAG_END.search(text, match.end())
        body_end = stop.start() if stop else len(text)
        end = stop.end() if stop else len(text)
        body = text[match.end() : body_end]
        yield _found(match.start(), end, CallSource.PYTHON_TAG, _python_tag_calls, body)
        pos = end


def _python_tag_calls(body: str) -> Parsed:
    body = body.strip()
    if not body:
        raise _Unreadable("nothing follows <|python_tag|>")
    if body.startswith(("{", "[")):
        calls: Parsed = []
        pos = 0
        while pos < len(body):
            data, pos = _decode_at(body, pos)
            calls.extend(_calls_from_json(data))
            while pos < len(body) and body[pos] in "; \n\t":
                pos += 1
        return calls
    return _pythonic_calls(body, require_list=False)


_FENCE = re.compile(r"```[ \t]*(json|tool_call|tool_code|tool_calls|javascript|)[ \t]*\n")


def _fences(text: str, names: frozenset[str], budget: _Budget) -> Iterator[_Found]:
    for match, inner_end, end, _terminated in _blocks(text, _FENCE, "```"):
        lang = match.group(1)
        inner = text[match.end() : inner_end]
        explicit = lang in ("tool_call", "tool_calls", "tool_code")
        try:
            data = _loads(inner)
        except _Unreadable:
            if lang == "tool_code" or (explicit and "(" in inner and "{" not in inner):
                yield _found(match.start(), end, CallSource.PYTHONIC, _pythonic_calls, inner, require_list=False)
            elif explicit or _mentions_call(inner):
                yield _Found(match.start(), end, CallSource.JSON_FENCE, error="the fenced call is not valid JSON")
            continue
        if explicit or _looks_like_call_json(data):
            yield _found(match.start(), end, CallSource.JSON_FENCE, _calls_from_json, data)


def _mentions_call(text: str) -> bool:
    head = text[:2000]
    return '"name"' in head and ('"arguments"' in head or '"parameters"' in head)


_PY_LIST = re.compile(r"\[\s*[A-Za-z_][\w.]{0,200}\(")
_MAX_PARSE_TRIES = 40
_MAX_CALL_CHARS = 20_000


def _pythonic_lists(text: str, names: frozenset[str], budget: _Budget) -> Iterator[_Found]:
    yield from _pythonic_spans(text, _PY_LIST, ")]", True, budget, group=0)


def _bare_pythonic(text: str, names: frozenset[str], budget: _Budget) -> Iterator[_Found]:
    if not names:
        return
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = re.compile(r"(?m)^[ \t>*`-]*(" + alternatives + r")\(")
    yield from _pythonic_spans(text, pattern, ")", False, budget, group=1)


def _pythonic_spans(
    text: str,
    opening: re.Pattern[str],
    closer: str,
    require_list: bool,
    budget: _Budget,
    *,
    group: int,
) -> Iterator[_Found]:
    pos = 0
    while (match := opening.search(text, pos)) is not None:
        start = match.start(group)
        next_close = text.find(closer, match.end())
        if next_close < 0:
            return
        if next_close - start > _MAX_CALL_CHARS:
            pos = max(match.end(), next_close - _MAX_CALL_CHARS)
            continue
        parsed = _first_parse(text, start, closer, require_list, budget)
        if parsed is None:
            pos = match.end()
            continue
        end, calls = parsed
        yield _Found(start, end, CallSource.PYTHONIC, calls=calls)
        pos = end


def _first_parse(
    text: str, start: int, closer: str, require_list: bool, budget: _Budget
) -> tuple[int, Parsed] | None:
    """Try each closing delimiter after ``start`` (bounded) until the span parses."""
    pos = start
    limit = start + _MAX_CALL_CHARS
    for _ in range(_MAX_PARSE_TRIES):
        close = text.find(closer, pos, limit)
        if close < 0 or not budget.take():
            return None
        end = close + len(closer)
        try:
            return end, _pythonic_calls(text[start:end], require_list=require_list)
        except (_Unreadable, SyntaxError, ValueError, RecursionError, MemoryError):
            pos = end
    return None


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


_BRACE = re.compile(r'\{\s*"(?:name|function|type)"')
_MAX_JSON_TRIES = 200


def _bare_json(text: str, names: frozenset[str], budget: _Budget) -> Iterator[_Found]:
    pos = 0
    for _ in range(_MAX_JSON_TRIES):
        match = _BRACE.search(text, pos)
        if match is None or not budget.take():
            return
        start = match.start()
        try:
            data, end = _DECODER.raw_decode(text[: start + _MAX_CALL_CHARS], start)
        except ValueError:
            end = _balanced_end(text, start)
            stop = end if end > 0 else _line_end(text, start)
            try:
                data = _loads(text[start:stop]) if end > 0 else None
            except _Unreadable:
                data = None
            if data is None or not _looks_like_call_json(data):
                if _mentions_call(text[start : start + 400]):
                    yield _Found(start, stop, CallSource.BARE_JSON, error="the call is not valid JSON")
                    pos = stop
                else:
                    pos = match.end()
                continue
        if _looks_like_call_json(data):
            yield _found(start, end, CallSource.BARE_JSON, _calls_from_json, data, need_arguments=True)
        pos = end


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


_RECOGNISERS: tuple[Callable[[str, frozenset[str], _Budget], Iterator[_Found]], ...] = (
    _tool_call_tags,
    _function_tags,
    _mistral,
    _python_tags,
    _fences,
    _pythonic_lists,
    _bare_pythonic,
    _bare_json,
)
