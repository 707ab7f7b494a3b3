"""What an attempt may spend and what it spent: the loop's limits, its running totals,
and the clock of one streamed turn (the wait on the server, the pieces that arrived, and
a token estimate for when the server gives no count)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.core.chat import Message


@dataclass(frozen=True, slots=True)
class LoopLimits:
    max_turns: int
    max_tokens: int
    max_seconds: float
    loop_repeats: int = 3  # identical call + identical result this many turns in a row


@dataclass(slots=True)
class LoopMeters:
    """Running totals of one attempt, for its stats."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float | None = None
    load_s: float | None = None
    rate_sum: float = 0.0
    rate_n: int = 0
    model_wait_s: float = 0.0
    tool_s: float = 0.0
    calls_recovered: int = 0
    text_calls_ignored: int = 0  # call-like text that native mode did not read
    context_window: int | None = None  # the server's context in force, when known
    context_needed: int | None = None  # the context that would have held a context-limited reply

    @property
    def tokens_per_s(self) -> float | None:
        return self.rate_sum / self.rate_n if self.rate_n else None


class TurnMeter:
    """The clock and token count of one streamed turn: time spent waiting on the server
    (excluding our own handling of each piece), pieces and characters received."""

    __slots__ = ("_since", "chars", "chunks", "first_at", "last_at", "started", "waited")

    def __init__(self, started: float) -> None:
        self.started = started
        self.waited = 0.0
        self.chunks = 0
        self.chars = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._since: float | None = started  # waiting since; None while handling a piece

    def arrived(self) -> float:
        now = time.perf_counter()
        if self._since is not None:
            self.waited += now - self._since
            self._since = None
        return now

    def waiting(self) -> None:
        self._since = time.perf_counter()

    def stop_waiting(self) -> float:
        """The whole wait, including the piece that never came when the turn was cut."""
        if self._since is not None:
            self.arrived()
        return self.waited

    def text(self, text: str, now: float) -> None:
        self.chunks += 1
        self.chars += len(text)
        self.first_at = self.first_at if self.first_at is not None else now
        self.last_at = now

    @property
    def tokens(self) -> int:
        """An estimate when the server gives no count: a piece each, or four characters each."""
        return max(self.chunks, self.chars // 4)

    def rate(self) -> float | None:
        """Tokens per second between the first and the last piece (the first is the TTFT's)."""
        if self.first_at is None or self.last_at is None or self.last_at <= self.first_at or self.tokens <= 1:
            return None
        return (self.tokens - 1) / (self.last_at - self.first_at)


def prompt_estimate(messages: list[Message]) -> int:
    """Four characters a token: what the conversation would take, for when the server cut it."""
    return sum(len(m.content) + len(m.thinking or "") + 40 * len(m.tool_calls) for m in messages) // 4
