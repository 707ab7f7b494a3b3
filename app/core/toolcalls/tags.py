"""Tag formats: Hermes/Qwen ``<tool_call>`` blocks and ``<function=name>`` blocks.

A ``<function=name>`` body is JSON (Llama 3.1 custom tools) or XML parameters
``<parameter=key>value</parameter>`` (Qwen3-coder), alone or inside ``<tool_call>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import partial
from typing import Any

from app.core.chat import CallSource
from app.core.toolcalls.base import (
    PARSE_ERRORS,
    Block,
    Context,
    Found,
    Parsed,
    Unreadable,
    blocks,
    read,
)
from app.core.toolcalls.values import (
    as_arguments,
    calls_from_json,
    decode_at,
    decode_values,
    loads,
)

_TOOL_CALL_OPEN = re.compile(r"<tool_call>")
_TOOL_CALL_CLOSE = re.compile(r"</tool_call>")
_FUNCTION_OPEN = re.compile(r"<function=([^>\s]{1,200})>")
_FUNCTION_CLOSE = re.compile(r"</function>")
_PARAMETER = re.compile(r"<parameter=([^>\s]{1,200})>(.*?)</parameter>", re.DOTALL)
_INNER_FENCE = re.compile(r"\A\s*```[\w-]*[ \t]*\n(.*?)\n?```\s*\Z", re.DOTALL)


def tool_call_tags(text: str, context: Context) -> Iterator[Found]:
    """``<tool_call>`` holding a call object or list, or ``<function=…>`` blocks."""
    for block in blocks(text, _TOOL_CALL_OPEN, _TOOL_CALL_CLOSE):
        inner = text[block.inner_start : block.inner_end].lstrip()
        function = _FUNCTION_OPEN.match(inner)
        if function is not None:
            json_body = inner[function.end() :].lstrip().startswith("{")
            source = CallSource.FUNCTION_TAG if json_body else CallSource.XML_FUNCTION
            parse = partial(_functions_in_block, text, block)
        else:
            source, parse = CallSource.TOOL_CALL_TAG, partial(_json_in_block, text, block, context)
        yield read(block.start, block.end, source, parse)


def function_tags(text: str, context: Context) -> Iterator[Found]:
    """``<function=name>{…}</function>`` or ``<function=name><parameter=…>…</function>``."""
    for block in blocks(text, _FUNCTION_OPEN, _FUNCTION_CLOSE):
        inner = text[block.inner_start : block.inner_end]
        source = CallSource.XML_FUNCTION if "<parameter=" in inner else CallSource.FUNCTION_TAG
        yield read(block.start, block.end, source, partial(_function, text, block, context))


def _json_in_block(text: str, block: Block, context: Context) -> tuple[Parsed, int]:
    inner = text[block.inner_start : block.inner_end]
    if not inner.strip():
        raise Unreadable("the <tool_call> block is empty")
    fenced = _INNER_FENCE.match(inner)
    if fenced is not None and block.terminated:
        inner = fenced.group(1)
    values, used = decode_values(inner, context, whole=block.terminated)
    end = block.end if block.terminated else block.inner_start + used
    return calls_from_json(values), end


def _functions_in_block(text: str, block: Block) -> tuple[Parsed, int]:
    inner = text[block.inner_start : block.inner_end]
    calls: Parsed = []
    for function in blocks(inner, _FUNCTION_OPEN, _FUNCTION_CLOSE):
        body = inner[function.inner_start : function.inner_end]
        arguments, _ = _arguments(body, function.terminated)
        calls.append((function.opening.group(1), arguments))
    return calls, block.end


def _function(text: str, block: Block, context: Context) -> tuple[Parsed, int]:
    body = text[block.inner_start : block.inner_end]
    if block.terminated or "<parameter=" in body:
        arguments, used = _arguments(body, block.terminated)
        end = block.end if block.terminated else block.inner_start + used
        return [(block.opening.group(1), arguments)], end
    start = block.inner_start + len(body) - len(body.lstrip())
    if start == block.inner_end:
        raise Unreadable("the <function=…> block is cut off")
    if text[start] != "{":
        raise Unreadable("the <function=…> body is not a JSON object")
    value, end = decode_at(text, start, context, block.inner_end)
    return [(block.opening.group(1), as_arguments(value))], end


def _arguments(body: str, terminated: bool) -> tuple[dict[str, Any], int]:
    """Arguments of a ``<function=…>`` body and how much of it they used."""
    if "<parameter=" in body:
        return _xml_parameters(body)
    if not body.strip():
        if not terminated:
            raise Unreadable("the <function=…> block is cut off")
        return {}, len(body)
    return as_arguments(loads(body)), len(body)


def _xml_parameters(body: str) -> tuple[dict[str, Any], int]:
    if body.count("<parameter=") != body.count("</parameter>"):
        raise Unreadable("a <parameter=…> block is not closed")
    arguments: dict[str, Any] = {}
    end = 0
    for match in _PARAMETER.finditer(body):
        arguments[match.group(1)] = xml_value(match.group(2))
        end = match.end()
    return arguments, end


def xml_value(text: str) -> Any:
    """A parameter's value: one newline trimmed each side, then JSON if it reads as JSON."""
    text = text.removeprefix("\n").removesuffix("\n")
    try:
        return json.loads(text)
    except PARSE_ERRORS:
        return text
