"""Builders for the store tests: plans and event sequences made of the real dataclasses."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.core.chat import CallSource, GenerationSettings, Message, ToolCall, Usage
from app.core.events import (
    AssistantTurn,
    AttemptFinished,
    AttemptStarted,
    AttemptStats,
    CheckOutcome,
    Event,
    TextDelta,
    ToolCallParsed,
    ToolCallRejected,
    ToolResult,
    TurnStarted,
)
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome, ToolMode
from app.core.plan import AttemptSettings, AttemptSpec, RunPlan, new_attempt_id
from app.core.providers.base import ProviderKind

SIM = ModelRef(ProviderKind.SIMULATED, "sim", "competent")
QWEN = ModelRef(ProviderKind.OLLAMA, "http://localhost:11434", "qwen2.5:7b")
LLAMACPP = ModelRef(ProviderKind.OPENAI, "http://127.0.0.1:8080/v1", "smollm2")

# task id, suite, tier, content hash
WEATHER = ("readiness.single-tool.weather", "readiness", "single-tool", "a1b2c3d4e5f60718")
ORDERS = ("api-chain.orders", "api-chain", "chain", "0f1e2d3c4b5a6978")

SWEEP = AttemptSettings(
    tool_mode=ToolMode.PROMPTED,
    generation=GenerationSettings(temperature=0.2, num_ctx=8192, seed=7, think=False, max_tokens=512),
    max_turns=6,
    max_seconds=90.5,
    directive="Check every file before you finish.",
    label="temperature=0.2",
)


def make_plan(
    run_id: str,
    models: Sequence[tuple[ModelRef, str | None]] = ((SIM, None),),
    tasks: Sequence[tuple[str, str, str, str]] = (WEATHER,),
    *,
    repeats: int = 1,
    settings: Sequence[AttemptSettings] = (AttemptSettings(),),
    name: str = "",
    created_at: float = 1_700_000_000.0,
) -> RunPlan:
    """Every (model, digest) × setting × repeat × task, numbered like ``plan_run`` does."""
    attempts: list[AttemptSpec] = []
    for model, digest in models:
        for setting in settings:
            for repeat in range(repeats):
                for task_id, suite, tier, content_hash in tasks:
                    seq = len(attempts)
                    attempts.append(
                        AttemptSpec(
                            attempt_id=new_attempt_id(run_id, seq),
                            run_id=run_id,
                            seq=seq,
                            model=model,
                            task_id=task_id,
                            suite=suite,
                            tier=tier,
                            task_hash=content_hash,
                            repeat=repeat,
                            settings=setting,
                            model_digest=digest,
                        )
                    )
    return RunPlan(run_id, name or f"run {run_id}", created_at, tuple(attempts), {"note": "fixture"})


def finished(spec: AttemptSpec, outcome: Outcome, *, at: float = 1_700_000_100.0) -> AttemptFinished:
    return AttemptFinished(
        run_id=spec.run_id,
        attempt_id=spec.attempt_id,
        at=at,
        outcome=outcome,
        score=1.0 if outcome is Outcome.PASSED else 0.0,
        detail=outcome.describe,
        checks=(),
        stats=AttemptStats(turns=1, wall_s=0.5),
    )


def attempt_events(spec: AttemptSpec, *, t0: float = 1_700_000_000.0) -> list[Event]:
    """A realistic transcript: a malformed call, a recovered call, its result, an answer.

    Includes ``TextDelta`` events, which the store must not keep.
    """
    a: dict[str, Any] = {"run_id": spec.run_id, "attempt_id": spec.attempt_id}
    call = ToolCall("call-1", "get_weather", {"city": "Paris", "days": [1, 2], "units": None},
                    CallSource.TOOL_CALL_TAG, '<tool_call>{"name": "get_weather"}</tool_call>')
    return [
        AttemptStarted(**a, at=t0, model=spec.model.label, task_id=spec.task_id, repeat=spec.repeat,
                       try_number=1, tool_mode="recovery", tools=("get_weather", "get_time"),
                       messages=(Message("system", "You are a careful agent."),
                                 Message("user", "What is the weather in Paris?"))),
        TurnStarted(**a, at=t0 + 0.01, turn=1),
        TextDelta(**a, at=t0 + 0.02, turn=1, text="<tool_call>"),
        TextDelta(**a, at=t0 + 0.03, turn=1, text="thinking…", thinking=True),
        AssistantTurn(**a, at=t0 + 0.5, turn=1, content='<tool_call>{"name": "get_weather"', thinking="the user wants weather",
                      native_calls=0, usage=Usage(prompt_tokens=120, completion_tokens=30, time_to_first_token_s=0.25,
                                                  tokens_per_s=42.5, load_s=1.5, done_reason="stop")),
        ToolCallRejected(**a, at=t0 + 0.51, turn=1, failure=Outcome.MALFORMED_CALL, reason="unterminated JSON",
                         name=None, raw='<tool_call>{"name": "get_weather"', source=CallSource.TOOL_CALL_TAG),
        TurnStarted(**a, at=t0 + 0.6, turn=2),
        AssistantTurn(**a, at=t0 + 1.0, turn=2, content=call.raw or "", thinking=None, native_calls=0,
                      usage=Usage(prompt_tokens=180, completion_tokens=20)),
        ToolCallParsed(**a, at=t0 + 1.01, turn=2, call=call),
        ToolResult(**a, at=t0 + 1.02, turn=2, call_id="call-1", name="get_weather", content='{"temp_c": 21.5}'),
        TurnStarted(**a, at=t0 + 1.1, turn=3),
        TextDelta(**a, at=t0 + 1.2, turn=3, text="It is 21.5 °C"),
        AssistantTurn(**a, at=t0 + 1.4, turn=3, content="It is 21.5 °C in Paris.", thinking=None, native_calls=0,
                      usage=Usage(prompt_tokens=220, completion_tokens=12)),
        AttemptFinished(**a, at=t0 + 1.5, outcome=Outcome.PASSED, score=1.0, detail="2/2 checks passed",
                        checks=(CheckOutcome("called get_weather", True),
                                CheckOutcome("answer mentions 21.5", True, "found '21.5'", 2.0)),
                        stats=AttemptStats(turns=3, calls_valid=1, calls_recovered=1, calls_malformed=1,
                                           calls_rejected=1, prompt_tokens=520, completion_tokens=62,
                                           time_to_first_token_s=0.25, tokens_per_s=42.5, load_s=1.5,
                                           wall_s=1.5, harness_s=0.012),
                        infra_retries=1, final_answer="It is 21.5 °C in Paris."),
    ]


def stored(events: Sequence[Event]) -> list[Event]:
    return [e for e in events if not isinstance(e, TextDelta)]


def raw(path: Path) -> sqlite3.Connection:
    """A connection of its own, outside SQLAlchemy: sees only what was committed."""
    return sqlite3.connect(path)
