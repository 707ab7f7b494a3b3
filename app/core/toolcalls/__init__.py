"""Tool-call recovery: turn calls that local models write as text into tool calls.

Formats, in order of precedence (text read by one is hidden from the rest):
``<tool_call>`` blocks (JSON, or ``<function=…>`` inside), ``<function=name>`` blocks
with JSON or XML parameters, Llama ``<|python_tag|>``, Mistral ``[TOOL_CALLS]``, fenced
``json``/``tool_call``/``tool_code`` blocks, bare JSON call objects, pythonic
``[f(x=1)]`` lists and bare ``f(x=1)`` lines (offered tool names only). Text that
plainly tries to be a call but cannot be read becomes a ``MalformedCall`` with the
reason; recovery never raises.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Collection
from dataclasses import dataclass

from app.core.chat import MalformedCall, ToolCall
from app.core.toolcalls.base import Context, Found, Recogniser
from app.core.toolcalls.prose import bare_json, fences
from app.core.toolcalls.pythonic import bare_pythonic, pythonic_lists
from app.core.toolcalls.render import render_call
from app.core.toolcalls.tags import function_tags, tool_call_tags
from app.core.toolcalls.tokens import mistral, python_tags

__all__ = ["Recovery", "recover_tool_calls", "render_call"]

_log = logging.getLogger(__name__)

_RECOGNISERS: tuple[Recogniser, ...] = (
    tool_call_tags,
    function_tags,
    python_tags,
    mistral,
    fences,
    bare_json,
    pythonic_lists,
    bare_pythonic,
)


@dataclass(frozen=True, slots=True)
class Recovery:
    """The calls found in a reply, the call-like text that could not be read, and the prose left."""

    calls: tuple[ToolCall, ...]
    malformed: tuple[MalformedCall, ...]
    text: str  # the input without the call text, for display as prose


def recover_tool_calls(text: str, tool_names: Collection[str] = ()) -> Recovery:
    """Find every tool call written in ``text``; bare ``f(x=1)`` lines count for ``tool_names``."""
    try:
        return _recover(text, Context(frozenset(tool_names)))
    except Exception:  # a parser bug must never end an attempt
        _log.exception("tool-call recovery failed on a %d-character reply", len(text))
        return Recovery((), (), text.strip())


def _recover(text: str, context: Context) -> Recovery:
    spans: list[Found] = []
    masked = text
    for recognise in _RECOGNISERS:
        new = [found for found in recognise(masked, context) if not _overlaps(spans, found)]
        for found in new:
            bisect.insort(spans, found, key=_start)
        if new:
            masked = _mask(masked, new)
    calls: list[ToolCall] = []
    malformed: list[MalformedCall] = []
    for found in spans:
        raw = text[found.start : found.end]
        if found.error is not None:
            malformed.append(MalformedCall(raw=raw, source=found.source, reason=found.error))
        for name, arguments in found.calls:
            calls.append(ToolCall(f"rc_{len(calls)}", name, arguments, found.source, raw))
    return Recovery(tuple(calls), tuple(malformed), _prose(text, spans))


def _start(found: Found) -> int:
    return found.start


def _overlaps(spans: list[Found], found: Found) -> bool:
    """Whether ``found`` touches a span already read (``spans`` is sorted and disjoint)."""
    index = bisect.bisect_left(spans, found.start, key=_start)
    before = spans[index - 1] if index > 0 else None
    after = spans[index] if index < len(spans) else None
    return (before is not None and before.end > found.start) or (
        after is not None and after.start < found.end
    )


def _mask(text: str, spans: list[Found]) -> str:
    """Blank out the spans just read, keeping every offset."""
    pieces: list[str] = []
    cursor = 0
    for found in sorted(spans, key=_start):
        pieces.append(text[cursor : found.start])
        pieces.append(" " * (found.end - found.start))
        cursor = found.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _prose(text: str, spans: list[Found]) -> str:
    """The text with the spans taken out, each seam closed with the whitespace it needs."""
    bounds = [0, *(edge for found in spans for edge in (found.start, found.end)), len(text)]
    parts: list[str] = []
    newlines = 0  # the most line breaks on one side of the current seam
    for start, end in zip(bounds[::2], bounds[1::2], strict=True):
        piece = text[start:end]
        core = piece.strip()
        if not core:
            newlines = max(newlines, piece.count("\n"))
            continue
        if parts:
            newlines = max(newlines, piece[: len(piece) - len(piece.lstrip())].count("\n"))
            parts.append("\n\n" if newlines > 1 else "\n" if newlines else " ")
        parts.append(core)
        newlines = piece[len(piece.rstrip()) :].count("\n")
    return "".join(parts)
