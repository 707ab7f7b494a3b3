"""A task's conversation: the opening messages, each user message in turn, and the
checks on what the model did in reply to each."""

from __future__ import annotations

from collections.abc import Sequence

from app.core.agent.loop import AgentLoop
from app.core.agent.prompts import system_prompt
from app.core.agent.trace import AttemptTrace, StopReason
from app.core.chat import Message, ToolSpec
from app.core.events import CheckOutcome
from app.core.tasks.checks import run_checks
from app.core.tasks.environment import TaskEnvironment
from app.core.tasks.schema import Check, TaskSpec

CheckedBy = list[tuple[Check, AttemptTrace]]


def opening_messages(
    task: TaskSpec, tools: Sequence[ToolSpec], *, prompted: bool, directive: str | None
) -> list[Message]:
    """The system message (unless the task says ``system: none``) and the first user message.

    Without a system message, prompted-mode tool instructions and a directive lead the
    user message instead, since the model must still see them.
    """
    first = task.conversation()[0].prompt
    if task.sends_system_prompt:
        system = system_prompt(task.system, tools, prompted=prompted, directive=directive)
        return [Message(role="system", content=system), Message(role="user", content=first)]
    lead = ""
    if prompted and tools:
        lead = system_prompt(" ", tools, prompted=True, directive=directive).strip()
    elif directive:
        lead = directive.strip()
    return [Message(role="user", content=f"{lead}\n\n{first}" if lead else first)]


def converse(loop: AgentLoop, messages: list[Message], task: TaskSpec, deadline: float) -> AttemptTrace:
    """Send each user message in turn, letting the model work until it answers; stop at
    the first reply that does not end in an answer (a budget, a loop, a cancel)."""
    trace = loop.trace
    for index, turn in enumerate(task.conversation()):
        if index:
            if trace.stop is not StopReason.ANSWERED:
                break
            messages.append(Message(role="assistant", content=trace.final_answer))
            messages.append(Message(role="user", content=turn.prompt))
        marks = (trace.turns, len(trace.calls), len(trace.rejected))
        trace.final_answer = ""
        try:
            loop.run(messages, deadline=deadline, user_message=turn.prompt if index else None)
        finally:
            trace.close_segment(*marks)
    return trace


def check_conversation(
    task: TaskSpec, trace: AttemptTrace, env: TaskEnvironment
) -> tuple[list[CheckOutcome], CheckedBy]:
    """Run the whole-attempt checks on the whole trace and each turn's checks on what the
    model did in reply to that turn; a turn never reached fails its checks."""
    results = run_checks(task.checks, trace, env)
    checked: CheckedBy = [(check, trace) for check in task.checks]
    if task.turns is None:
        return results, checked
    for index, turn in enumerate(task.turns):
        label = f"turn {index + 1}"
        if index >= len(trace.segments):
            for check in turn.checks:
                results.append(
                    CheckOutcome(
                        name=f"{label}: {check.label or check.type}",
                        passed=False,
                        detail="the conversation ended before this message was sent",
                        weight=check.weight,
                    )
                )
                checked.append((check, AttemptTrace()))
            continue
        part = trace.segment_trace(index)
        for check, outcome in zip(turn.checks, run_checks(turn.checks, part, env), strict=True):
            results.append(
                CheckOutcome(
                    name=f"{label}: {outcome.name}",
                    passed=outcome.passed,
                    detail=outcome.detail,
                    weight=outcome.weight,
                )
            )
            checked.append((check, part))
    return results, checked
