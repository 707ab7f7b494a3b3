"""Calls written as JSON in prose: fenced ``json``/``tool_call`` blocks and bare call objects."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import partial
from typing import Any

from app.core.chat import CallSource
from app.core.toolcalls.base import BLANK_LINE, Context, Found, NextMatch, Parsed, Unreadable, read
from app.core.toolcalls.pythonic import call_nodes, read_calls
from app.core.toolcalls.samples import CALL_LANGUAGES, Fence, fenced_blocks
from app.core.toolcalls.values import (
    balanced_end,
    calls_from_json,
    decode_at,
    decode_values,
    looks_like_calls,
)

_JSON_LANGUAGES = frozenset({"", "json", "json5", "jsonc", "javascript", "js"})
_NAME_KEY = re.compile(r"""["']name["']\s*:""")
_ARGUMENTS_KEY = re.compile(r"""["'](?:arguments|parameters)["']\s*:""")


def fences(text: str, context: Context) -> Iterator[Found]:
    """A fenced block holding call JSON, or Python calls in a ``tool_code`` block."""
    for fence in fenced_blocks(text):
        found = _read_fence(text, fence, context)
        if found is not None:
            yield found


def _read_fence(text: str, fence: Fence, context: Context) -> Found | None:
    explicit = fence.language in CALL_LANGUAGES
    if not explicit and fence.language not in _JSON_LANGUAGES:
        return None
    inner = text[fence.inner_start : fence.inner_end]
    if not inner.strip():
        return _malformed_fence(fence, "the block is empty") if explicit else None
    if explicit and inner.lstrip()[:1] not in ("{", "["):
        nodes = call_nodes(inner)
        if nodes is None:
            return _malformed_fence(fence, "the block holds neither JSON nor Python calls")
        return read(fence.start, fence.end, CallSource.PYTHONIC, partial(_python, nodes, fence.end))
    try:
        values, _ = decode_values(inner, context, whole=True)
    except Unreadable:
        if explicit or _mentions_call(inner, 0):
            return _malformed_fence(fence, "the fenced call is not valid JSON")
        return None
    if not explicit and not looks_like_calls(values):
        return None
    return read(fence.start, fence.end, CallSource.JSON_FENCE, partial(_known, values, fence.end))


def _malformed_fence(fence: Fence, reason: str) -> Found:
    return Found(fence.start, fence.end, CallSource.JSON_FENCE, error=reason)


def _python(nodes: list[ast.Call], end: int) -> tuple[Parsed, int]:
    return read_calls(nodes), end


def _known(values: list[Any], end: int) -> tuple[Parsed, int]:
    return calls_from_json(values), end


_OBJECT_OPEN = re.compile(r"""\{\s*["'](?:name|function|type|id|arguments|parameters)["']\s*:""")


def bare_json(text: str, context: Context) -> Iterator[Found]:
    """A call object (or a list of them) in prose, with a name and arguments or parameters."""
    paragraphs = NextMatch(BLANK_LINE, text)
    pos = 0
    while (match := _OBJECT_OPEN.search(text, pos)) is not None and context.may_parse():
        start = match.start()
        in_list = _list_start(text, start)
        found = _read_list(text, in_list, context) if in_list < start else None
        if found is None:
            found = _read_object(text, start, context, paragraphs)
        pos = match.end() if found is None else found.end
        if found is not None:
            yield found


def _read_object(text: str, start: int, context: Context, paragraphs: NextMatch) -> Found | None:
    try:
        value, end = decode_at(text, start, context)
    except Unreadable:
        if not _mentions_call(text, start):
            return None
        stop = balanced_end(text, start, context)
        stop = stop if stop > 0 else paragraphs.start_or_end(start)
        return Found(start, stop, CallSource.BARE_JSON, error="the call is not valid JSON")
    if not looks_like_calls([value]):
        return None
    return read(start, end, CallSource.BARE_JSON, partial(_known, [value], end))


def _read_list(text: str, start: int, context: Context) -> Found | None:
    """A list of call objects opening at ``start``, when it reads as one."""
    try:
        value, end = decode_at(text, start, context)
    except Unreadable:
        return None
    if not looks_like_calls([value]):
        return None
    return read(start, end, CallSource.BARE_JSON, partial(_known, [value], end))


def _list_start(text: str, pos: int) -> int:
    """The ``[`` that opens a list right before the object at ``pos``, else ``pos``."""
    before = pos - 1
    while before >= 0 and text[before] in " \t\r\n":
        before -= 1
    return before if before >= 0 and text[before] == "[" else pos


def _mentions_call(text: str, start: int) -> bool:
    head = text[start : start + 300]
    return _NAME_KEY.search(head) is not None and _ARGUMENTS_KEY.search(head) is not None
