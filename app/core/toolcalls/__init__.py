"""Tool-call recovery: turn calls that local models write as text into tool calls.

Formats, in order of precedence (text read by one is hidden from the rest):
``<tool_call>`` blocks (JSON, or ``<function=…>`` inside), ``<function=name>`` blocks
with JSON or XML parameters, Llama ``<|python_tag|>``, Mistral ``[TOOL_CALLS]``, fenced
``json``/``tool_call``/``tool_code`` blocks, bare JSON call objects, pythonic
``[f(x=1)]`` lists and bare ``f(x=1)`` lines (offered tool names only). Text that
plainly tries to be a call but cannot be read becomes a ``MalformedCall`` with the
reason; recovery never raises.

Code a reply merely shows is not a call: fenced blocks in a programming language (or
unlabelled ones holding no JSON) and lists of signatures (``f(a, b) - does x``) are
skipped. In prompted mode a reply that is nothing but one fenced block holding calls
in the prompted form is read as those calls.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Collection
from dataclasses import dataclass

from app.core.chat import CallSource, MalformedCall, ToolCall
from app.core.toolcalls.base import Context, Found, Recogniser
from app.core.toolcalls.prose import bare_json, fences
from app.core.toolcalls.pythonic import bare_pythonic, pythonic_lists
from app.core.toolcalls.render import render_call
from app.core.toolcalls.samples import code_sample_spans, is_code_sample, whole_reply_fence
from app.core.toolcalls.tags import function_tags, tool_call_tags
from app.core.toolcalls.tokens import mistral, python_tags

__all__ = ["Recovery", "recover_tool_calls", "render_call"]

_log = logging.getLogger(__name__)

_TAG_RECOGNISERS: tuple[Recogniser, ...] = (tool_call_tags, function_tags, python_tags, mistral)
_PROSE_RECOGNISERS: tuple[Recogniser, ...] = (fences, bare_json, pythonic_lists, bare_pythonic)


@dataclass(frozen=True, slots=True)
class Recovery:
    """The calls found in a reply, the call-like text that could not be read, and the prose left."""

    calls: tuple[ToolCall, ...]
    malformed: tuple[MalformedCall, ...]
    text: str  # the input without the call text, for display as prose


def recover_tool_calls(
    text: str, tool_names: Collection[str] = (), *, prompted: bool = False
) -> Recovery:
    """Find every tool call written in ``text``; bare ``f(x=1)`` lines count for ``tool_names``.

    ``prompted``: the reply answers the prompted-mode instructions, so a reply that is one
    fenced block of calls in that form counts as those calls.
    """
    try:
        context = Context(frozenset(tool_names))
        if prompted:
            whole = _whole_reply_fence(text, context)
            if whole is not None:
                return whole
        return _recover(text, context)
    except Exception:  # a parser bug must never end an attempt
        _log.exception("tool-call recovery failed on a %d-character reply", len(text))
        return Recovery((), (), text.strip())


def _whole_reply_fence(text: str, context: Context) -> Recovery | None:
    """The calls of a reply that is one fenced block holding only ``<tool_call>`` blocks
    or JSON call objects (the prompted form), else None."""
    fence = whole_reply_fence(text)
    if fence is None or not is_code_sample(text, fence):
        return None  # call fences (``json``, ``tool_call``) are read the ordinary way
    inner = text[fence.inner_start : fence.inner_end]
    found: list[Found] = []
    _read_with((tool_call_tags, bare_json), inner, inner, found, context)
    if not found or any(f.error is not None for f in found):
        return None
    if _prose(inner, found):
        return None
    raw = text.strip()
    calls: list[ToolCall] = []
    for span in found:
        for name, arguments in span.calls:
            calls.append(ToolCall(f"rc_{len(calls)}", name, arguments, span.source, raw))
    return Recovery(tuple(calls), (), "")


def _recover(text: str, context: Context) -> Recovery:
    spans: list[Found] = []
    masked = _read_with(_TAG_RECOGNISERS, text, text, spans, context)
    # Code shown in fenced samples (outside call tags) is not called, tags included.
    samples = [Found(a, b, CallSource.JSON_FENCE) for a, b in code_sample_spans(masked)]
    spans = [found for found in spans if not _overlaps(samples, found)]
    masked = _mask(text, sorted([*spans, *samples], key=_start))
    _read_with(_PROSE_RECOGNISERS, text, masked, spans, context)
    calls: list[ToolCall] = []
    malformed: list[MalformedCall] = []
    for found in spans:
        raw = text[found.start : found.end]
        if found.error is not None:
            malformed.append(MalformedCall(raw=raw, source=found.source, reason=found.error))
        for name, arguments in found.calls:
            calls.append(ToolCall(f"rc_{len(calls)}", name, arguments, found.source, raw))
    return Recovery(tuple(calls), tuple(malformed), _prose(text, spans))


def _read_with(
    recognisers: tuple[Recogniser, ...],
    text: str,
    masked: str,
    spans: list[Found],
    context: Context,
) -> str:
    """Run each recogniser on the text not yet read; add what it finds to ``spans``
    (kept sorted) and return the text with every span blanked out."""
    for recognise in recognisers:
        new = [found for found in recognise(masked, context) if not _overlaps(spans, found)]
        for found in new:
            bisect.insort(spans, found, key=_start)
        if new:
            masked = _mask(masked, new)
    return masked


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
