"""One recogniser per text format; each yields the spans it read, calls or reasons."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from app.core.chat import CallSource
from app.core.toolcalls.parsing import (
    _DECODER,
    _FUNCTION_OPEN,
    _MAX_CALL_CHARS,
    Parsed,
    _balanced_end,
    _blocks,
    _Budget,
    _calls_from_json,
    _decode_at,
    _Found,
    _found,
    _line_end,
    _loads,
    _looks_like_call_json,
    _mentions_call,
    _parse_function_block,
    _parse_json_calls,
    _pythonic_calls,
    _Unreadable,
)

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


_PY_LIST = re.compile(r"\[\s*[A-Za-z_][\w.]{0,200}\(")
_MAX_PARSE_TRIES = 40


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
