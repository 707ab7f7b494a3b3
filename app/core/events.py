"""Typed events of a run: the one ordered stream the store, the CLI and the GUI consume.

Run-level events describe the plan and its progress; attempt-level events form the
transcript of one attempt. ``TextDelta`` is transient (for live views); the same text
arrives complete in ``AssistantTurn``, which is what the store keeps, so a stored
transcript replays exactly without one row per token.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from app.core.chat import CallSource, Message, ToolCall, Usage
from app.core.outcomes import Outcome


def _now() -> float:
    return time.time()


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every event. ``kind`` names the type in storage and JSON."""

    kind: ClassVar[str] = "event"
    run_id: str
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptEvent(Event):
    """An event that belongs to one attempt's transcript."""

    kind: ClassVar[str] = "attempt_event"
    attempt_id: str


# ---- run level ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStarted(Event):
    kind: ClassVar[str] = "run_started"
    total_attempts: int
    pending_attempts: int
    resumed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFinished(Event):
    kind: ClassVar[str] = "run_finished"
    cancelled: bool
    completed_attempts: int


# ---- attempt level ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptStarted(AttemptEvent):
    """An attempt (or a retry of it after an infra error) began; earlier events of it are void."""

    kind: ClassVar[str] = "attempt_started"
    model: str
    task_id: str
    repeat: int
    try_number: int
    tool_mode: str
    messages: tuple[Message, ...]
    tools: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnStarted(AttemptEvent):
    """A model turn began; the first one after a new user message carries that message."""

    kind: ClassVar[str] = "turn_started"
    turn: int
    user_message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TextDelta(AttemptEvent):
    """Streaming text of the current turn (transient: not stored)."""

    kind: ClassVar[str] = "text_delta"
    turn: int
    text: str
    thinking: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantTurn(AttemptEvent):
    """The complete assistant message of a turn, as the model produced it."""

    kind: ClassVar[str] = "assistant_turn"
    turn: int
    content: str
    thinking: str | None
    native_calls: int
    usage: Usage


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallParsed(AttemptEvent):
    """A call that passed validation and will be executed."""

    kind: ClassVar[str] = "tool_call_parsed"
    turn: int
    call: ToolCall

    @property
    def source(self) -> CallSource:
        return self.call.source


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallRejected(AttemptEvent):
    """A call that was not executed: malformed text, unknown tool, or invalid arguments."""

    kind: ClassVar[str] = "tool_call_rejected"
    turn: int
    failure: Outcome  # MALFORMED_CALL, UNKNOWN_TOOL or BAD_ARGUMENTS
    reason: str
    name: str | None
    raw: str
    source: CallSource


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResult(AttemptEvent):
    kind: ClassVar[str] = "tool_result"
    turn: int
    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class InfraError(AttemptEvent):
    """The server or runtime failed; the attempt is retried or ends as ``infra_error``."""

    kind: ClassVar[str] = "infra_error"
    message: str
    will_retry: bool


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """Result of one acceptance check on the final state of an attempt."""

    name: str
    passed: bool
    detail: str = ""
    weight: float = 1.0
    broken: bool = False  # the check itself could not run (our fault): the attempt is not judged


@dataclass(frozen=True, slots=True)
class AttemptStats:
    """The per-attempt measurements SPEC §5 asks for."""

    turns: int = 0
    calls_valid: int = 0
    calls_recovered: int = 0
    calls_malformed: int = 0
    calls_rejected: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    time_to_first_token_s: float | None = None
    tokens_per_s: float | None = None
    load_s: float | None = None
    wall_s: float = 0.0
    harness_s: float = 0.0  # our own time, excluding waiting on the model and tools
    context_window: int | None = None  # the server's context in force (num_ctx, n_ctx), when known
    context_needed: int | None = None  # for a context_limit: the context that would have held it


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptFinished(AttemptEvent):
    kind: ClassVar[str] = "attempt_finished"
    outcome: Outcome
    score: float  # 1.0 pass, fraction for partial, 0.0 otherwise
    detail: str
    checks: tuple[CheckOutcome, ...]
    stats: AttemptStats
    infra_retries: int = 0
    final_answer: str = ""


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        RunStarted,
        RunFinished,
        AttemptStarted,
        TurnStarted,
        TextDelta,
        AssistantTurn,
        ToolCallParsed,
        ToolCallRejected,
        ToolResult,
        InfraError,
        AttemptFinished,
    )
}

TRANSIENT_KINDS: frozenset[str] = frozenset({TextDelta.kind})


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready dict of an event, with its ``kind``."""
    data = asdict(event)
    data["kind"] = event.kind
    return data


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from ``event_to_dict`` output (store replay, JSON import)."""
    from app.core.serialization import build_dataclass

    payload = dict(data)
    cls = EVENT_TYPES[payload.pop("kind")]
    return build_dataclass(cls, payload)

