"""Reference-pass / null-fail over an imported BFCL suite: BFCL's ground truth, replayed
as a scripted model through the real loop, must pass; a model that does nothing (or, on
restraint categories, one that always calls) must fail."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from app.core.agent.attempt import run_attempt
from app.core.cancel import CancelToken
from app.core.chat import ChatRequest
from app.core.importers.bfcl_data import SILENCE
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome, ToolMode
from app.core.plan import AttemptSettings
from app.core.providers.base import Provider, ProviderKind
from app.core.providers.simulated import SimulatedProvider
from app.core.runner import plan_run
from app.core.tasks.loader import Task
from tests.fakes.scripted_provider import ScriptedProvider, Turn


@dataclass
class ProofCounts:
    tasks: Counter[str] = field(default_factory=Counter)
    reference_passed: Counter[str] = field(default_factory=Counter)
    null_failed: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def outcome(task: Task, model: str, mode: ToolMode = ToolMode.NATIVE,
            provider: Provider | None = None) -> tuple[Outcome, str]:
    plan = plan_run([ModelRef(ProviderKind.SIMULATED, "sim", model)], [task], repeats=1,
                    settings=[AttemptSettings(tool_mode=mode)])
    finished = run_attempt(plan.attempts[0], task, provider or SimulatedProvider(), lambda _e: None,
                           CancelToken())
    return finished.outcome, finished.detail


def _always_calls(request: ChatRequest) -> Turn:
    """Calls the first offered tool, or writes an invented call when none is offered."""
    if request.tools:
        return Turn(calls=[(request.tools[0].name, {})])
    return Turn(text='<tool_call>{"name": "lookup", "arguments": {}}</tool_call>')


def null_outcome(task: Task) -> tuple[Outcome, str]:
    """Doing nothing passes a restraint case, so there the null model always calls."""
    if task.tier in SILENCE:
        return outcome(task, "scripted", ToolMode.RECOVERY, ScriptedProvider(responder=_always_calls))
    return outcome(task, "idle")


def prove(tasks: list[Task]) -> ProofCounts:
    counts = ProofCounts()
    for task in tasks:
        counts.tasks[task.tier] += 1
        got, detail = outcome(task, "reference")
        if got is Outcome.PASSED:
            counts.reference_passed[task.tier] += 1
        else:
            counts.failures.append(f"{task.id}: reference {got.value}: {detail}")
        got, detail = null_outcome(task)
        if got is not Outcome.PASSED and got.counts_in_score:
            counts.null_failed[task.tier] += 1
        else:
            counts.failures.append(f"{task.id}: null model {got.value}: {detail}")
    return counts
