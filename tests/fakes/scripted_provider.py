"""A provider that plays back scripted turns: the simplest possible model for loop tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from app.core.chat import (
    ChatRequest,
    NativeCallsChunk,
    StreamChunk,
    TextChunk,
    ToolCall,
    TurnDone,
    UnreadableCall,
    Usage,
)
from app.core.providers.base import HostStatus, Provider, ProviderError, ProviderKind


@dataclass
class Turn:
    """One scripted reply: text (streamed in pieces), native calls, or a failure."""

    text: str = ""
    calls: Sequence[tuple[str, dict[str, object]]] = ()
    unreadable: Sequence[tuple[str, str]] = ()  # native calls whose arguments are not an object
    fail: ProviderError | None = None
    delay_s: float = 0.0  # per streamed piece
    pieces: int = 1
    endless: bool = False
    varied: bool = False  # an endless text that never repeats itself (a counter follows each piece)
    completion_tokens: int | None = None
    done_reason: str = "stop"


@dataclass
class ScriptedProvider(Provider):
    """Plays ``turns`` in order (the last repeats); records every request."""

    turns: list[Turn] = field(default_factory=list)
    responder: Callable[[ChatRequest], Turn] | None = None
    requests: list[ChatRequest] = field(default_factory=list)
    kind: ProviderKind = ProviderKind.SIMULATED
    host: str = "scripted"
    blocking_io: bool = True

    def discover(self) -> HostStatus:
        return HostStatus(self.kind, self.host, True)

    def _stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        self.requests.append(request)
        if self.responder is not None:
            turn = self.responder(request)
        else:
            index = min(len(self.requests) - 1, len(self.turns) - 1)
            turn = self.turns[index]
        if turn.fail is not None:
            raise turn.fail
        if turn.endless:
            count = 0
            while True:
                time.sleep(turn.delay_s)
                count += 1
                yield TextChunk((turn.text or "again ") + (f"{count} " if turn.varied else ""))
        size = max(1, len(turn.text) // max(1, turn.pieces))
        for i in range(0, len(turn.text), size):
            if turn.delay_s:
                time.sleep(turn.delay_s)
            yield TextChunk(turn.text[i : i + size])
        if turn.calls or turn.unreadable:
            n = len(self.requests)
            yield NativeCallsChunk(
                tuple(ToolCall(f"c{n}_{i}", name, dict(args)) for i, (name, args) in enumerate(turn.calls)),
                tuple(UnreadableCall(name, raw) for name, raw in turn.unreadable),
            )
        yield TurnDone(
            Usage(
                prompt_tokens=10,
                completion_tokens=turn.completion_tokens
                if turn.completion_tokens is not None
                else max(1, len(turn.text) // 4),
                done_reason=turn.done_reason,
            )
        )
