"""Acceptance checks: decide pass/fail on the final state of an attempt, never on its words
alone. Workspace checks (files, hidden commands, code answers) execute for real."""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.core.agent.trace import AttemptTrace
from app.core.events import CheckOutcome
from app.core.faults import HarnessFault
from app.core.tasks.call_checks import call_shortfall, failing_call_mode
from app.core.tasks.environment import TaskEnvironment
from app.core.tasks.schema import (
    AnswerCheck,
    Check,
    CodeAnswerCheck,
    CommandCheck,
    FileCheck,
    NoToolCallsCheck,
    ProbeCheck,
    ToolCallsCheck,
)
from app.core.tasks.shown_paths import shown_paths


def run_checks(
    checks: Sequence[Check], trace: AttemptTrace, env: TaskEnvironment
) -> list[CheckOutcome]:
    return [run_check(check, trace, env) for check in checks]


def run_check(check: Check, trace: AttemptTrace, env: TaskEnvironment) -> CheckOutcome:
    label = check.label or check.type
    try:
        passed, detail = _dispatch(check, trace, env)
    except HarnessFault as error:  # our side broke: the attempt cannot be judged
        detail = shown_paths(f"check could not run: {error}", env.workspace)
        return CheckOutcome(label, False, detail, check.weight, broken=True)
    except Exception as error:  # a crashed check is reported, never fatal, never the model's fault
        detail = shown_paths(f"check could not run: {type(error).__name__}: {error}", env.workspace)
        return CheckOutcome(label, False, detail, check.weight, broken=True)
    return CheckOutcome(label, passed, shown_paths(detail, env.workspace), check.weight)


def _dispatch(check: Check, trace: AttemptTrace, env: TaskEnvironment) -> tuple[bool, str]:
    if isinstance(check, ToolCallsCheck):
        shortfall = call_shortfall(check, trace)
        if shortfall is not None:
            return False, shortfall.detail
        return True, f"made the {len(check.calls)} expected call(s)"
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
    if isinstance(check, ProbeCheck):
        return workspace_checks.probe_check(check, trace.final_answer, env)
    raise TypeError(f"unknown check {check!r}")


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


__all__ = ["call_shortfall", "failing_call_mode", "run_check", "run_checks"]
