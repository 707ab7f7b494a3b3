"""What the loop observed during one attempt, in the shape the checks and scorer need."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.core.chat import ToolCall
from app.core.outcomes import Outcome


class StopReason(StrEnum):
    ANSWERED = "answered"  # the model replied without a call
    TURN_BUDGET = "turn_budget"
    TOKEN_BUDGET = "token_budget"
    TIME_BUDGET = "time_budget"
    LOOP = "loop"
    CONTEXT_LIMIT = "context_limit"  # the server's context window filled before our budgets
    CANCELLED = "cancelled"
    INFRA_ERROR = "infra_error"
    HARNESS_ERROR = "harness_error"  # our side broke: a crash in a tool, the loop or a provider adapter


@dataclass(frozen=True, slots=True)
class RejectedCall:
    failure: Outcome  # MALFORMED_CALL, UNKNOWN_TOOL or BAD_ARGUMENTS
    name: str | None
    raw: str
    reason: str
    call: ToolCall | None = None  # the parsed call, when it parsed but failed validation


@dataclass(frozen=True, slots=True)
class Segment:
    """What the model did in reply to one user message: its calls, rejected calls and answer."""

    calls: tuple[int, int]  # [start, end) into AttemptTrace.calls
    rejected: tuple[int, int]  # [start, end) into AttemptTrace.rejected
    answer: str
    turns: int


@dataclass(slots=True)
class AttemptTrace:
    """Mutable during the attempt, read by checks and scoring at the end."""

    calls: list[ToolCall] = field(default_factory=list)  # validated and executed
    call_turns: list[int] = field(default_factory=list)  # the model turn of each call
    results: list[str] = field(default_factory=list)  # what each call returned
    rejected: list[RejectedCall] = field(default_factory=list)
    final_answer: str = ""
    stop: StopReason = StopReason.ANSWERED
    stop_detail: str = ""
    turns: int = 0
    segments: list[Segment] = field(default_factory=list)  # one per user message answered

    @property
    def attempted_any_call(self) -> bool:
        return bool(self.calls or self.rejected)

    def close_segment(self, turns_before: int, calls_before: int, rejected_before: int) -> None:
        """Record what happened since the last user message."""
        self.segments.append(
            Segment(
                calls=(calls_before, len(self.calls)),
                rejected=(rejected_before, len(self.rejected)),
                answer=self.final_answer,
                turns=self.turns - turns_before,
            )
        )

    def segment_trace(self, index: int) -> AttemptTrace:
        """The part of the attempt that answered user message ``index``, as a trace of its own."""
        part = self.segments[index]
        first, end = part.calls
        last = index == len(self.segments) - 1
        return AttemptTrace(
            calls=self.calls[first:end],
            call_turns=self.call_turns[first:end],
            results=self.results[first:end],
            rejected=self.rejected[part.rejected[0] : part.rejected[1]],
            final_answer=part.answer,
            stop=self.stop if last else StopReason.ANSWERED,
            stop_detail=self.stop_detail if last else "",
            turns=part.turns,
        )
