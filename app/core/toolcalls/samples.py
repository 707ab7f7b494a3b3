"""Code that a reply merely shows: fenced code blocks and lists of signatures.

A model that explains with ```` ```python ```` examples, or lists what its tools look
like, has not called anything. Recovery blanks such text out before reading calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_JSON_LANGUAGES = frozenset({"", "json", "json5", "jsonc", "javascript", "js"})
CALL_LANGUAGES = frozenset({"tool_call", "tool_calls", "function_call", "tool_code"})
_JSON_START = re.compile(r"\s*(?:\{|\[\s*\{)")
_DESCRIBED = re.compile(r"[ \t]*(?:-|–|—|:|=>|->)[ \t]*\w")


@dataclass(frozen=True, slots=True)
class Fence:
    """A ``` block: where it starts and ends, its inner text, and its language word."""

    start: int
    inner_start: int
    inner_end: int
    end: int
    language: str


def fenced_blocks(text: str) -> Iterator[Fence]:
    """Each ``` block with its language; the last may run to the end of the text."""
    pos = 0
    while (start := text.find("```", pos)) >= 0:
        line_end = text.find("\n", start + 3)
        if line_end < 0:
            return
        words = text[start + 3 : line_end].split()
        language = words[0].lower() if words else ""
        close = text.find("```", line_end)
        if close < 0:
            yield Fence(start, line_end + 1, len(text), len(text), language)
            return
        yield Fence(start, line_end + 1, close, close + 3, language)
        pos = close + 3


def is_code_sample(text: str, fence: Fence) -> bool:
    """A block in a programming language, or an unlabelled one that holds no JSON:
    text to read, not calls. ``json`` and ``tool_call``-style blocks are call formats."""
    if fence.language in CALL_LANGUAGES:
        return False
    if fence.language == "":
        return _JSON_START.match(text, fence.inner_start, fence.inner_end) is None
    return fence.language not in _JSON_LANGUAGES


def code_sample_spans(text: str) -> list[tuple[int, int]]:
    """Where the fenced code samples of ``text`` are, in order."""
    return [
        (f.start, f.end)
        for f in fenced_blocks(text)
        if _opens_line(text, f.start) and is_code_sample(text, f)
    ]


def _opens_line(text: str, pos: int) -> bool:
    """A fence opens a line; backticks inside a line (a string holding them) do not."""
    return not text[text.rfind("\n", 0, pos) + 1 : pos].strip()


def whole_reply_fence(text: str) -> Fence | None:
    """The fence when the reply is nothing but one fenced block, else None."""
    stripped = text.strip()
    if not stripped.startswith("```") or not stripped.endswith("```"):
        return None
    found = list(fenced_blocks(text))
    if len(found) != 1:
        return None
    fence = found[0]
    if text[: fence.start].strip() or text[fence.end :].strip() or fence.inner_end == fence.end:
        return None
    return fence


def describes_signature(text: str, end: int) -> bool:
    """Whether the rest of the line after a call at ``end`` describes it
    (``f(a, b) - does x``, ``f(a): does x``): a list of signatures, not a call."""
    line_end = text.find("\n", end)
    rest = text[end : len(text) if line_end < 0 else line_end]
    return _DESCRIBED.match(rest) is not None
