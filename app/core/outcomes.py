"""How an attempt ended: the outcome enum and the failure taxonomy."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    PASSED = "passed"
    PARTIAL = "partial"
    NO_TOOL_CALL = "no_tool_call"
    MALFORMED_CALL = "malformed_call"
    UNKNOWN_TOOL = "unknown_tool"
    BAD_ARGUMENTS = "bad_arguments"
    WRONG_TOOL = "wrong_tool"
    UNWANTED_CALL = "unwanted_call"
    TURN_BUDGET = "turn_budget"
    TOKEN_BUDGET = "token_budget"
    TIME_BUDGET = "time_budget"
    LOOP = "loop"
    WRONG_RESULT = "wrong_result"
    CONTEXT_LIMIT = "context_limit"
    HARNESS_KILLED = "harness_killed"
    INFRA_ERROR = "infra_error"
    HARNESS_ERROR = "harness_error"
    CANCELLED = "cancelled"

    @property
    def is_pass(self) -> bool:
        return self is Outcome.PASSED

    @property
    def counts_in_score(self) -> bool:
        """Server faults, our own faults and cancellations never count for or against a model."""
        return self not in (Outcome.INFRA_ERROR, Outcome.HARNESS_ERROR, Outcome.CANCELLED)

    @property
    def is_harness_fault(self) -> bool:
        """Our side broke (a check that cannot run, a crash in a tool or the loop): loud, never scored."""
        return self is Outcome.HARNESS_ERROR

    @property
    def is_budget(self) -> bool:
        return self in (Outcome.TURN_BUDGET, Outcome.TOKEN_BUDGET, Outcome.TIME_BUDGET)

    @property
    def describe(self) -> str:
        return OUTCOME_DESCRIPTIONS[self]


OUTCOME_DESCRIPTIONS: dict[Outcome, str] = {
    Outcome.PASSED: "all acceptance checks passed",
    Outcome.PARTIAL: "some acceptance checks passed",
    Outcome.NO_TOOL_CALL: "answered without calling a tool when one was needed",
    Outcome.MALFORMED_CALL: "wrote something that looks like a tool call but cannot be parsed",
    Outcome.UNKNOWN_TOOL: "called a tool that was not offered",
    Outcome.BAD_ARGUMENTS: "called the right tool with wrong or invalid arguments",
    Outcome.WRONG_TOOL: "called an offered tool, but the wrong one",
    Outcome.UNWANTED_CALL: "called a tool when it should have answered directly",
    Outcome.TURN_BUDGET: "ran out of turns before finishing",
    Outcome.TOKEN_BUDGET: "ran out of tokens before finishing",
    Outcome.TIME_BUDGET: "ran out of wall-clock time before finishing",
    Outcome.LOOP: "repeated the same call with the same result, or the same text over and over",
    Outcome.WRONG_RESULT: "finished, but the acceptance checks failed",
    Outcome.CONTEXT_LIMIT: "the server's context window filled before our token budget (raise num_ctx)",
    Outcome.HARNESS_KILLED: "its commands killed or hung the harness twice (not replayed again)",
    Outcome.INFRA_ERROR: "the server failed (not counted against the model)",
    Outcome.HARNESS_ERROR: "AgentGap could not judge this attempt (our fault, not counted)",
    Outcome.CANCELLED: "cancelled by the user (not counted)",
}


class ToolMode(StrEnum):
    """How tools reach the model and how its calls are read back."""

    NATIVE = "native"  # server tools API; only native calls count
    RECOVERY = "recovery"  # native, plus calls recovered from text when there are none
    PROMPTED = "prompted"  # schemas in the system prompt; calls parsed from text
