"""One attempt from start to verdict: fresh environment, loop, checks, score, retries."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from app.core.agent.conversation import CheckedBy, check_conversation, converse, opening_messages
from app.core.agent.loop import AgentLoop, Emit, can_force_a_call
from app.core.agent.meters import LoopLimits, LoopMeters
from app.core.agent.prompts import with_required_call_note
from app.core.agent.scoring import Verdict, score_attempt
from app.core.agent.trace import AttemptTrace, StopReason
from app.core.cancel import CancelToken
from app.core.chat import Message, ScriptStep
from app.core.events import AttemptFinished, AttemptStarted, AttemptStats, CheckOutcome, InfraError
from app.core.faults import HarnessFault
from app.core.outcomes import Outcome, ToolMode
from app.core.plan import AttemptSettings, AttemptSpec
from app.core.providers.base import Provider, ProviderError, ProviderKind
from app.core.providers.scripts import SCRIPTS
from app.core.tasks.environment import TaskEnvironment
from app.core.tasks.loader import Task
from app.core.tasks.schema import Budgets
from app.core.tasks.shown_paths import shown_paths

log = logging.getLogger(__name__)

DEFAULT_INFRA_RETRIES = 2
RETRY_BACKOFF_S = (0.5, 2.0, 5.0)


def reference_script(task: Task) -> tuple[ScriptStep, ...]:
    """The task's reference solution in the provider-neutral form simulated models read."""
    return tuple(
        ScriptStep(calls=tuple((c.name, dict(c.arguments)) for c in step.calls), answer=step.answer)
        for step in task.spec.all_reference_steps()
    )


def _script_for_simulated(provider: Provider, attempt_id: str, task: Task) -> contextlib.AbstractContextManager[None]:
    """Lend the reference script to a simulated model, through its own channel only."""
    if provider.kind is not ProviderKind.SIMULATED:
        return contextlib.nullcontext()
    return SCRIPTS.lend(attempt_id, reference_script(task))


def run_attempt(
    spec: AttemptSpec,
    task: Task,
    provider: Provider,
    emit: Emit,
    cancel: CancelToken,
    *,
    infra_retries: int = DEFAULT_INFRA_RETRIES,
    scratch_root: Path | None = None,
    sleep: Callable[[float], bool] | None = None,
) -> AttemptFinished:
    """Run ``spec`` to a verdict, retrying infra failures; emits every event on the way."""
    wait = sleep or cancel.wait
    try_number = 0
    while True:
        try_number += 1
        try:
            finished, retryable = _one_try(spec, task, provider, emit, cancel, try_number, scratch_root)
        except Exception as error:  # e.g. the workspace could not be copied: never the model's fault
            log.exception("attempt %s could not be set up", spec.attempt_id)
            finished, retryable = _unjudged(spec, task, try_number, error, emit), False
        if finished.outcome is not Outcome.INFRA_ERROR or not retryable:
            break
        if try_number > infra_retries or cancel.cancelled:
            break
        emit(
            InfraError(
                run_id=spec.run_id,
                attempt_id=spec.attempt_id,
                message=finished.detail,
                will_retry=True,
            )
        )
        if wait(RETRY_BACKOFF_S[min(try_number - 1, len(RETRY_BACKOFF_S) - 1)]):
            break
    finished = _with_retries(finished, try_number - 1)
    emit(finished)
    return finished


def scaled_limits(settings: AttemptSettings, budgets: Budgets) -> LoopLimits:
    """The attempt's budgets: overrides or the task's own, times the sweep's scales.

    Wall time grows with the larger scale, so a longer turn or token budget is never cut
    short by the clock instead.
    """
    turns = settings.max_turns or budgets.max_turns
    tokens = settings.max_tokens or budgets.max_tokens
    seconds = settings.max_seconds or budgets.max_seconds
    return LoopLimits(
        max_turns=max(1, round(turns * settings.turn_scale)),
        max_tokens=max(16, round(tokens * settings.token_scale)),
        max_seconds=seconds * max(1.0, settings.turn_scale, settings.token_scale),
    )


def _with_retries(event: AttemptFinished, retries: int) -> AttemptFinished:
    from dataclasses import replace

    return replace(event, infra_retries=retries)


def _one_try(
    spec: AttemptSpec,
    task: Task,
    provider: Provider,
    emit: Emit,
    cancel: CancelToken,
    try_number: int,
    scratch_root: Path | None,
) -> tuple[AttemptFinished, bool]:
    started = time.perf_counter()
    settings = spec.settings
    budgets = task.spec.budgets
    with TaskEnvironment(task, scratch_root=scratch_root) as env:
        prompted = settings.tool_mode is ToolMode.PROMPTED
        messages = opening_messages(
            task.spec, env.tools, prompted=prompted, directive=settings.directive
        )
        if task.spec.tool_choice == "required" and not can_force_a_call(settings.tool_mode, provider):
            messages = with_required_call_note(messages)  # in the transcript as the model saw it
        emit(_started(spec, task, try_number, tuple(messages), tuple(t.name for t in env.tools)))
        loop = AgentLoop(
            provider,
            env,
            emit,
            cancel,
            run_id=spec.run_id,
            attempt_id=spec.attempt_id,
            model=spec.model.name,
            tool_mode=settings.tool_mode,
            tool_choice=task.spec.tool_choice,
            generation=settings.generation,
            limits=scaled_limits(settings, budgets),
            reference_key=f"{task.id}:{spec.repeat}:{try_number}",  # same task and repeat, same behaviour
        )
        retryable = False
        deadline = time.monotonic() + loop.limits.max_seconds
        try:
            with _script_for_simulated(provider, spec.attempt_id, task):
                trace = converse(loop, messages, task.spec, deadline)
        except ProviderError as error:
            trace = loop.trace
            trace.stop = StopReason.INFRA_ERROR
            trace.stop_detail = error.message
            retryable = error.retryable
        except HarnessFault as error:  # a tool or the task broke: our fault, never the model's
            log.warning("attempt %s could not be judged: %s", spec.attempt_id, error)
            trace = loop.trace
            trace.stop = StopReason.HARNESS_ERROR
            trace.stop_detail = str(error)
        except Exception as error:  # a bug of ours must cost one attempt, never the run
            log.exception("attempt %s failed unexpectedly", spec.attempt_id)
            trace = loop.trace
            trace.stop = StopReason.HARNESS_ERROR
            trace.stop_detail = (
                f"unexpected error in AgentGap (the {provider.kind.value} provider or the agent loop): "
                f"{type(error).__name__}: {error}"
            )
        checks_started = time.perf_counter()
        if trace.stop in (StopReason.INFRA_ERROR, StopReason.HARNESS_ERROR, StopReason.CANCELLED):
            results: list[CheckOutcome] = []
            checked: CheckedBy = []
        else:
            results, checked = check_conversation(task.spec, trace, env)
        checks_s = time.perf_counter() - checks_started
        verdict = score_attempt(task.spec, trace, results, checked)
        if trace.stop not in (StopReason.INFRA_ERROR, StopReason.HARNESS_ERROR, StopReason.CANCELLED):
            loop.context_window()  # a dead server is not asked again
        detail = shown_paths(_with_diagnosis(verdict, loop.meters), env.workspace)
    wall = time.perf_counter() - started
    stats = _stats(trace, loop.meters, wall, checks_s)
    finished = AttemptFinished(
        run_id=spec.run_id,
        attempt_id=spec.attempt_id,
        outcome=verdict.outcome,
        score=verdict.score,
        detail=detail,
        checks=tuple(results),
        stats=stats,
        final_answer=trace.final_answer,
    )
    return finished, retryable


def _started(
    spec: AttemptSpec, task: Task, try_number: int, messages: tuple[Message, ...], tools: tuple[str, ...]
) -> AttemptStarted:
    return AttemptStarted(
        run_id=spec.run_id,
        attempt_id=spec.attempt_id,
        model=spec.model.label,
        task_id=task.id,
        repeat=spec.repeat,
        try_number=try_number,
        tool_mode=spec.settings.tool_mode.value,
        messages=messages,
        tools=tools,
    )


def _unjudged(
    spec: AttemptSpec, task: Task, try_number: int, error: Exception, emit: Emit
) -> AttemptFinished:
    """A ``harness_error`` for an attempt that broke before or outside its loop."""
    emit(_started(spec, task, try_number, (), ()))
    detail = str(error) if isinstance(error, HarnessFault) else f"{type(error).__name__}: {error}"
    return AttemptFinished(
        run_id=spec.run_id,
        attempt_id=spec.attempt_id,
        outcome=Outcome.HARNESS_ERROR,
        score=0.0,
        detail=shown_paths(f"AgentGap could not set up the attempt: {detail}"),
        checks=(),
        stats=AttemptStats(),
    )


def _with_diagnosis(verdict: Verdict, meters: LoopMeters) -> str:
    if meters.text_calls_ignored and not verdict.outcome.is_pass:
        return (
            f"{verdict.detail} (it wrote {meters.text_calls_ignored} tool call(s) as text, "
            "which native mode does not read; tool-call recovery would)"
        )
    return verdict.detail


def _stats(trace: AttemptTrace, meters: LoopMeters, wall: float, checks_s: float) -> AttemptStats:
    malformed = sum(1 for r in trace.rejected if r.failure is Outcome.MALFORMED_CALL)
    return AttemptStats(
        turns=trace.turns,
        calls_valid=len(trace.calls),
        calls_recovered=sum(1 for c in trace.calls if c.source.recovered),
        calls_malformed=malformed,
        calls_rejected=len(trace.rejected),
        prompt_tokens=meters.prompt_tokens,
        completion_tokens=meters.completion_tokens,
        time_to_first_token_s=meters.first_token_s,
        tokens_per_s=meters.tokens_per_s,
        load_s=meters.load_s,
        wall_s=wall,
        harness_s=max(0.0, wall - meters.model_wait_s - meters.tool_s - checks_s),
        context_window=meters.context_window,
        context_needed=meters.context_needed,
    )
