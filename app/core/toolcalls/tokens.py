"""Special-token formats: Mistral ``[TOOL_CALLS]`` and Llama 3.x ``<|python_tag|>``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial

from app.core.chat import CallSource
from app.core.toolcalls.base import (
    BLANK_LINE,
    Block,
    Context,
    Found,
    NextMatch,
    Parsed,
    Unreadable,
    blocks,
    read,
)
from app.core.toolcalls.pythonic import call_nodes, read_calls
from app.core.toolcalls.values import as_arguments, calls_from_json, decode_at, decode_values

_MISTRAL = re.compile(r"\[TOOL_CALLS\]")
_MISTRAL_NAMED = re.compile(r"\s*([A-Za-z_][\w.\-]{0,200})(?:\[CALL_ID\][^\[\]]{0,200})?\[ARGS\]")
_PYTHON_TAG = re.compile(r"<\|python_tag\|>")
_MESSAGE_END = re.compile(r"<\|eo[mt]_id\|>")
_PYTHONIC_START = re.compile(r"\s*\[?\s*[A-Za-z_][\w.]*\s*\(")


def mistral(text: str, context: Context) -> Iterator[Found]:
    """``[TOOL_CALLS] [{…}, …]`` or ``[TOOL_CALLS]name[ARGS]{…}`` (optionally with ``[CALL_ID]``)."""
    tags, paragraphs = NextMatch(_MISTRAL, text), NextMatch(BLANK_LINE, text)
    pos = 0
    while (match := tags.at_or_after(pos)) is not None:
        following = tags.start_or_end(match.end())
        parse = partial(_mistral_calls, text, match.end(), following, context)
        stop = min(following, paragraphs.start_or_end(match.end()))
        found = read(match.start(), stop, CallSource.MISTRAL, parse)
        yield found
        pos = max(found.end, match.end())


def _mistral_calls(text: str, pos: int, stop: int, context: Context) -> tuple[Parsed, int]:
    calls: Parsed = []
    while (named := _MISTRAL_NAMED.match(text, pos, stop)) is not None:
        value, pos = decode_at(text, _skip_space(text, named.end()), context, stop)
        calls.append((named.group(1), as_arguments(value)))
    if calls:
        return calls, pos
    pos = _skip_space(text, pos)
    if pos >= stop or text[pos] not in "[{":
        raise Unreadable("[TOOL_CALLS] is not followed by a JSON list of calls")
    value, end = decode_at(text, pos, context, stop)
    return calls_from_json([value]), end


def python_tags(text: str, context: Context) -> Iterator[Found]:
    """``<|python_tag|>`` then JSON calls split by ``;``, or a Python call, up to ``<|eom_id|>``."""
    for block in blocks(text, _PYTHON_TAG, _MESSAGE_END):
        parse = partial(_python_tag_calls, text, block, context)
        yield read(block.start, block.end, CallSource.PYTHON_TAG, parse)


def _python_tag_calls(text: str, block: Block, context: Context) -> tuple[Parsed, int]:
    body = text[block.inner_start : block.inner_end]
    if not body.strip():
        raise Unreadable("nothing follows <|python_tag|>")
    if _PYTHONIC_START.match(body) is None:
        values, used = decode_values(body, context, whole=block.terminated)
        end = block.end if block.terminated else block.inner_start + used
        return calls_from_json(values), end
    nodes = call_nodes(body)
    if nodes is None:
        raise Unreadable("the text after <|python_tag|> is neither JSON nor a Python call")
    # Llama's built-in tools are called as ``brave_search.call(query=…)``.
    return [(name.removesuffix(".call"), args) for name, args in read_calls(nodes)], block.end


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos
