"""Turn what happened in an attempt into one outcome, a score and a reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.agent.trace import AttemptTrace, StopReason
from app.core.events import CheckOutcome
from app.core.outcomes import Outcome
from app.core.tasks.checks import failing_call_mode
from app.core.tasks.schema import Check, TaskSpec

_STOP_OUTCOMES = {
    StopReason.TURN_BUDGET: Outcome.TURN_BUDGET,
    StopReason.TOKEN_BUDGET: Outcome.TOKEN_BUDGET,
    StopReason.TIME_BUDGET: Outcome.TIME_BUDGET,
    StopReason.LOOP: Outcome.LOOP,
    StopReason.CONTEXT_LIMIT: Outcome.CONTEXT_LIMIT,
    StopReason.CANCELLED: Outcome.CANCELLED,
    StopReason.INFRA_ERROR: Outcome.INFRA_ERROR,
    StopReason.HARNESS_ERROR: Outcome.HARNESS_ERROR,
}
_UNJUDGED = (StopReason.INFRA_ERROR, StopReason.HARNESS_ERROR, StopReason.CANCELLED)


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    score: float
    detail: str


def score_attempt(
    task: TaskSpec,
    trace: AttemptTrace,
    results: Sequence[CheckOutcome],
    checks: Sequence[Check] | Sequence[tuple[Check, AttemptTrace]],
) -> Verdict:
    """Outcome order: infra/harness/cancel; a check that could not run; a budget or loop
    stop; all checks pass; partial credit; the first call-level failure; ``wrong_result``."""
    if trace.stop in _UNJUDGED:
        return Verdict(_STOP_OUTCOMES[trace.stop], 0.0, trace.stop_detail)
    broken = [r for r in results if r.broken]
    if broken:
        detail = "; ".join(f"{r.name}: {r.detail}" for r in broken)
        return Verdict(Outcome.HARNESS_ERROR, 0.0, detail)
    total = sum(r.weight for r in results) or 1.0
    score = sum(r.weight for r in results if r.passed) / total
    failed = [r for r in results if not r.passed]
    reason = "; ".join(f"{r.name}: {r.detail}" for r in failed)
    if trace.stop in _STOP_OUTCOMES:
        # It never finished its turn: a budget or a loop ended it. Work already done
        # still shows in the score (e.g. 4 of 5 files), never as a pass.
        detail = trace.stop_detail + (f"; {reason}" if reason else "; the checks passed")
        return Verdict(_STOP_OUTCOMES[trace.stop], score if task.partial_credit else 0.0, detail)
    if not failed:
        return Verdict(Outcome.PASSED, 1.0, "all checks passed")
    if task.partial_credit and score > 0:
        return Verdict(Outcome.PARTIAL, score, reason)
    checked = [c if isinstance(c, tuple) else (c, trace) for c in checks]
    return Verdict(_call_failure(task, trace, checked, results), 0.0, reason)


def _call_failure(
    task: TaskSpec,
    trace: AttemptTrace,
    checks: Sequence[tuple[Check, AttemptTrace]],
    results: Sequence[CheckOutcome],
) -> Outcome:
    """The failure a failed check shows; each check judged on the part of the attempt it
    looked at (a turn's checks on that turn)."""
    if task.expect == "silence":
        return Outcome.UNWANTED_CALL if trace.attempted_any_call else Outcome.WRONG_RESULT
    if task.expect == "tool_use" and not trace.calls:
        rejected = {r.failure for r in trace.rejected}
        for rejection in (Outcome.MALFORMED_CALL, Outcome.UNKNOWN_TOOL, Outcome.BAD_ARGUMENTS):
            if rejection in rejected:
                return rejection
        return Outcome.NO_TOOL_CALL
    for (check, part), result in zip(checks, results, strict=True):
        if not result.passed:
            found = failing_call_mode(check, part)
            if found is not None:
                return found
    if any(r.failure is Outcome.BAD_ARGUMENTS for r in trace.rejected):
        return Outcome.BAD_ARGUMENTS
    return Outcome.WRONG_RESULT
