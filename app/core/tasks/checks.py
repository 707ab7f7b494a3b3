"""Acceptance checks: decide pass/fail on the final state of an attempt, never on its words
alone. Workspace checks (files, hidden commands, code answers) execute for real."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.agent.trace import AttemptTrace
from app.core.chat import ToolCall
from app.core.events import CheckOutcome
from app.core.outcomes import Outcome
from app.core.tasks.environment import TaskEnvironment
from app.core.tasks.matching import args_mismatch
from app.core.tasks.schema import (
    AnswerCheck,
    Check,
    CodeAnswerCheck,
    CommandCheck,
    ExpectedCall,
    FileCheck,
    NoToolCallsCheck,
    ToolCallsCheck,
)


def run_checks(
    checks: Sequence[Check], trace: AttemptTrace, env: TaskEnvironment
) -> list[CheckOutcome]:
    return [run_check(check, trace, env) for check in checks]


def run_check(check: Check, trace: AttemptTrace, env: TaskEnvironment) -> CheckOutcome:
    label = check.label or check.type
    try:
        passed, detail = _dispatch(check, trace, env)
    except Exception as error:  # a broken check is reported, never fatal
        passed, detail = False, f"check could not run: {type(error).__name__}: {error}"
    return CheckOutcome(name=label, passed=passed, detail=detail, weight=check.weight)


def _dispatch(check: Check, trace: AttemptTrace, env: TaskEnvironment) -> tuple[bool, str]:
    if isinstance(check, ToolCallsCheck):
        return _tool_calls(check, trace.calls)
    if isinstance(check, NoToolCallsCheck):
        if trace.attempted_any_call:
            names = [c.name for c in trace.calls] + [r.name or "?" for r in trace.rejected]
            return False, f"made call(s) {names} where none was wanted"
        return True, "no call made"
    if isinstance(check, AnswerCheck):
        return _answer(check, trace.final_answer)
    from app.core.tasks import workspace_checks

    if isinstance(check, FileCheck):
        return workspace_checks.file_check(check, env)
    if isinstance(check, CommandCheck):
        return workspace_checks.command_check(check, env)
    if isinstance(check, CodeAnswerCheck):
        return workspace_checks.code_answer_check(check, trace.final_answer, env)
    raise TypeError(f"unknown check {check!r}")


@dataclass(frozen=True, slots=True)
class CallShortfall:
    """Why the calls made fall short of a ``tool_calls`` check, and which failure that is."""

    outcome: Outcome
    detail: str


def _tool_calls(check: ToolCallsCheck, calls: list[ToolCall]) -> tuple[bool, str]:
    shortfall = call_shortfall(check, calls)
    if shortfall is not None:
        return False, shortfall.detail
    return True, f"made the {len(check.calls)} expected call(s)"


def call_shortfall(check: ToolCallsCheck, calls: Sequence[ToolCall]) -> CallShortfall | None:
    """Match expected calls to the calls made, by position (equal calls stay distinct).

    In ``sequence`` order each expected call must come after the one matched before it.
    """
    if check.order != "sequence":
        matched, missing = _match_any_order(check.calls, calls)
        if missing is not None:
            return _why_missing(check.calls[missing], calls, range(len(calls)), set(matched))
        return _count_shortfall(check, calls)
    used: set[int] = set()
    after = 0
    for expected in check.calls:
        window = range(after, len(calls))
        index = _find(expected, calls, window, used)
        if index is None:
            return _why_missing(expected, calls, window, used)
        used.add(index)
        after = index + 1  # in a sequence the earliest match leaves the most room after it
    return _count_shortfall(check, calls)


def _count_shortfall(check: ToolCallsCheck, calls: Sequence[ToolCall]) -> CallShortfall | None:
    if not check.allow_extra and len(calls) != len(check.calls):
        return CallShortfall(
            Outcome.UNWANTED_CALL, f"expected {len(check.calls)} call(s), made {len(calls)}"
        )
    return None


def _match_any_order(
    expected: Sequence[ExpectedCall], calls: Sequence[ToolCall]
) -> tuple[dict[int, int], int | None]:
    """A matching of expected calls to distinct calls (augmenting paths, so a loose
    expectation never takes the only call a strict one could use); returns call index →
    expected index, and the first expected call left unmatched, if any."""
    owner: dict[int, int] = {}

    def place(wanted: int, seen: set[int]) -> bool:
        for index, call in enumerate(calls):
            if index in seen or not _matches(expected[wanted], call):
                continue
            seen.add(index)
            if index not in owner or place(owner[index], seen):
                owner[index] = wanted
                return True
        return False

    for wanted in range(len(expected)):
        if not place(wanted, set()):
            return owner, wanted
    return owner, None


def _find(
    expected: ExpectedCall, calls: Sequence[ToolCall], window: range, used: set[int]
) -> int | None:
    for index in window:
        call = calls[index]
        if index not in used and _matches(expected, call):
            return index
    return None


def _matches(expected: ExpectedCall, call: ToolCall) -> bool:
    return call.name == expected.name and (
        args_mismatch(expected.args, call.arguments, exact=expected.exact_args) is None
    )


def _why_missing(
    expected: ExpectedCall, calls: Sequence[ToolCall], window: range, used: set[int]
) -> CallShortfall:
    """Name the failure by what the calls left over show, never by the tool name alone
    (every call of an api-chain task goes to the same ``http_request`` tool)."""
    free = [i for i in range(len(calls)) if i not in used]
    same_name = [i for i in free if calls[i].name == expected.name]
    in_window = [i for i in same_name if i in window]
    if not in_window and any(_matches(expected, calls[i]) for i in same_name):
        return CallShortfall(
            Outcome.WRONG_RESULT, f"{expected.name} was called before the call it should follow"
        )
    if same_name:
        last = calls[(in_window or same_name)[-1]]
        reason = args_mismatch(expected.args, last.arguments, exact=expected.exact_args)
        return CallShortfall(Outcome.BAD_ARGUMENTS, f"{expected.name}: {reason}")
    if free:
        made = [calls[i].name for i in free]
        return CallShortfall(
            Outcome.WRONG_TOOL, f"expected a call to {expected.name}, got {made}"
        )
    if calls:
        return CallShortfall(
            Outcome.NO_TOOL_CALL,
            f"expected a call to {expected.name}, but it answered without making it",
        )
    return CallShortfall(Outcome.NO_TOOL_CALL, f"expected a call to {expected.name}, got none")


def _quoted(values: Sequence[str]) -> str:
    """Values as people write them in a sentence: “a”, “b” or “c”."""
    return ", ".join(f"“{v}”" for v in values)


def _answer(check: AnswerCheck, answer: str) -> tuple[bool, str]:
    text = answer.casefold()
    missing = [c for c in check.contains if c.casefold() not in text]
    if missing:
        return False, f"answer lacks {_quoted(missing)}"
    if check.contains_any and not any(c.casefold() in text for c in check.contains_any):
        return False, f"answer mentions none of {_quoted(check.contains_any)}"
    present = [c for c in check.not_contains if c.casefold() in text]
    if present:
        return False, f"answer should not say {_quoted(present)}"
    if check.regex and re.search(check.regex, answer, flags=re.IGNORECASE | re.DOTALL) is None:
        return False, f"answer does not match /{check.regex}/"
    return True, "answer as expected"


def failing_call_mode(check: Check, trace: AttemptTrace) -> Outcome | None:
    """For a failed ``tool_calls`` check: a missing call, the wrong tool, the right tool
    misused, or a call too many.

    A needed call that is missing because the model's attempt at it was refused is named
    by the refusal (malformed, unknown tool, bad arguments); so is a wrong tool that was
    in fact an invented one.
    """
    if not isinstance(check, ToolCallsCheck):
        return None
    try:
        shortfall = call_shortfall(check, trace.calls)
    except Exception:  # the check itself reported why it could not run
        return None
    if shortfall is None:
        return None
    refused = {r.failure for r in trace.rejected}
    if shortfall.outcome is Outcome.WRONG_TOOL and Outcome.UNKNOWN_TOOL in refused:
        return Outcome.UNKNOWN_TOOL
    if shortfall.outcome is Outcome.NO_TOOL_CALL:
        for failure in (Outcome.MALFORMED_CALL, Outcome.UNKNOWN_TOOL, Outcome.BAD_ARGUMENTS):
            if failure in refused:
                return failure
    return shortfall.outcome
