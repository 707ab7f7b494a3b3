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


@dataclass(frozen=True, slots=True)
class RejectedCall:
    failure: Outcome  # MALFORMED_CALL, UNKNOWN_TOOL or BAD_ARGUMENTS
    name: str | None
    raw: str
    reason: str
    call: ToolCall | None = None  # the parsed call, when it parsed but failed validation


@dataclass(slots=True)
class AttemptTrace:
    """Mutable during the attempt, read by checks and scoring at the end."""

    calls: list[ToolCall] = field(default_factory=list)  # validated and executed
    rejected: list[RejectedCall] = field(default_factory=list)
    final_answer: str = ""
    stop: StopReason = StopReason.ANSWERED
    stop_detail: str = ""
    turns: int = 0

    @property
    def attempted_any_call(self) -> bool:
        return bool(self.calls or self.rejected)
