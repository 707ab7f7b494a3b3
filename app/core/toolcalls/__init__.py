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

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from app.core.chat import CallSource, MalformedCall, ToolCall
from app.core.toolcalls.formats import _RECOGNISERS
from app.core.toolcalls.parsing import _Budget, _Found, _xml_value

__all__ = ["Recovery", "recover_tool_calls", "render_call"]


@dataclass(frozen=True, slots=True)
class Recovery:
    calls: tuple[ToolCall, ...]
    malformed: tuple[MalformedCall, ...]
    text: str  # the input without the call text, for display as prose


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
