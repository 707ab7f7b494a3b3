"""Shared pieces of tool-call recovery: found spans, the reading context and block scanning."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from app.core.chat import CallSource

MAX_CALL_CHARS = 100_000  # the longest text read as one call in free prose
PARSE_ERRORS = (ValueError, TypeError, SyntaxError, RecursionError, MemoryError)
BLANK_LINE = re.compile(r"\n[ \t]*\n")

Parsed = list[tuple[str, dict[str, Any]]]


class Unreadable(ValueError):
    """Text meant as a call that cannot be turned into one; the message says why."""


@dataclass(frozen=True, slots=True)
class Found:
    """A span of text read as calls, or as one malformed call with the reason."""

    start: int
    end: int
    source: CallSource
    calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    error: str | None = None


@dataclass(slots=True)
class Context:
    """What recognisers share in one recovery: the offered tool names and the work budgets."""

    names: frozenset[str]
    parses_left: int = 400  # expensive parse attempts on candidates in prose
    scan_left: int = 400_000  # characters the bracket matcher may walk

    def may_parse(self) -> bool:
        """Spend one parse attempt; False once the budget is used up."""
        self.parses_left -= 1
        return self.parses_left >= 0


Recogniser = Callable[[str, Context], Iterator[Found]]


def read(
    start: int, stop: int, source: CallSource, parse: Callable[[], tuple[Parsed, int]]
) -> Found:
    """Run ``parse`` for (calls, end); a failure becomes a malformed span up to ``stop``."""
    try:
        calls, end = parse()
    except Unreadable as error:
        return Found(start, stop, source, error=str(error))
    except PARSE_ERRORS as error:
        return Found(
            start, stop, source, error=f"the call could not be read ({type(error).__name__})"
        )
    return Found(start, end, source, calls=tuple(calls))


class NextMatch:
    """The next match of a pattern at or after a position, remembered so rescans stay linear."""

    def __init__(self, pattern: re.Pattern[str], text: str) -> None:
        self._pattern = pattern
        self._text = text
        self._searched_from = len(text) + 1
        self._match: re.Match[str] | None = None

    def at_or_after(self, pos: int) -> re.Match[str] | None:
        """The first match starting at ``pos`` or later, or None."""
        cached = self._match
        if self._searched_from <= pos and (cached is None or cached.start() >= pos):
            return cached
        self._searched_from = pos
        self._match = self._pattern.search(self._text, pos)
        return self._match

    def start_or_end(self, pos: int) -> int:
        """Where the next match at or after ``pos`` starts, or the end of the text."""
        match = self.at_or_after(pos)
        return len(self._text) if match is None else match.start()


@dataclass(frozen=True, slots=True)
class Block:
    """An opening tag, where its inner text stops and where the block ends."""

    opening: re.Match[str]
    inner_end: int
    end: int
    terminated: bool

    @property
    def start(self) -> int:
        return self.opening.start()

    @property
    def inner_start(self) -> int:
        return self.opening.end()


def blocks(text: str, opening: re.Pattern[str], closing: re.Pattern[str]) -> Iterator[Block]:
    """Each opening..closing block in order; one left open stops at the next opening or the end."""
    opens, closes = NextMatch(opening, text), NextMatch(closing, text)
    pos = 0
    while (match := opens.at_or_after(pos)) is not None:
        following = opens.at_or_after(match.end())
        close = closes.at_or_after(match.end())
        if close is not None and (following is None or close.start() < following.start()):
            yield Block(match, close.start(), close.end(), True)
            pos = close.end()
        else:
            stop = len(text) if following is None else following.start()
            yield Block(match, stop, stop, False)
            pos = stop
