"""The agent loop against scripted providers: outcomes, budgets, loops, cancel, retries."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from app.core.agent.attempt import run_attempt
from app.core.cancel import CancelToken
from app.core.events import (
    AttemptFinished,
    AttemptStarted,
    Event,
    InfraError,
    TextDelta,
    ToolCallParsed,
    ToolCallRejected,
    ToolResult,
)
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome, ToolMode
from app.core.plan import AttemptSettings
from app.core.providers.base import ProviderError, ProviderKind
from app.core.runner import plan_run
from app.core.tasks.loader import Catalog, Task, load_catalog
from tests.fakes.scripted_provider import ScriptedProvider, Turn

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog([REPO / "tasks"])


def _task(catalog: Catalog, task_id: str) -> Task:
    return catalog.task(task_id)


def _attempt(
    task: Task,
    provider: ScriptedProvider,
    *,
    settings: AttemptSettings | None = None,
    cancel: CancelToken | None = None,
) -> tuple[AttemptFinished, list[Event]]:
    plan = plan_run([ModelRef(ProviderKind.SIMULATED, "scripted", "m")], [task], repeats=1, settings=[settings or AttemptSettings()])
    events: list[Event] = []
    finished = run_attempt(
        plan.attempts[0], task, provider, events.append, cancel or CancelToken(), sleep=lambda s: False
    )
    return finished, events


WEATHER = "readiness.single-tool.weather"
CHAIN = "readiness.chain.order-status"


def test_native_call_then_answer_passes(catalog: Catalog) -> None:
    provider = ScriptedProvider(
        turns=[Turn(calls=[("get_weather", {"city": "Paris"})]), Turn(text="Light rain, 14 °C.", pieces=5)]
    )
    finished, events = _attempt(_task(catalog, WEATHER), provider)
    assert finished.outcome is Outcome.PASSED
    assert finished.stats.turns == 2 and finished.stats.calls_valid == 1
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1 and "".join(deltas) == "Light rain, 14 °C."
    # the tool result went back to the model as a tool message
    assert provider.requests[1].messages[-1].role == "tool"
    assert "light rain" in provider.requests[1].messages[-1].content


TEXT_CALL = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'


def test_recovery_on_and_off_changes_the_outcome(catalog: Catalog) -> None:
    task = _task(catalog, WEATHER)
    turns = [Turn(text=TEXT_CALL), Turn(text="It is 14 °C with light rain.")]
    raw, _ = _attempt(task, ScriptedProvider(turns=list(turns)), settings=AttemptSettings(tool_mode=ToolMode.NATIVE))
    assert raw.outcome is Outcome.NO_TOOL_CALL
    assert "as text" in raw.detail
    fixed, events = _attempt(task, ScriptedProvider(turns=list(turns)), settings=AttemptSettings(tool_mode=ToolMode.RECOVERY))
    assert fixed.outcome is Outcome.PASSED
    parsed = [e for e in events if isinstance(e, ToolCallParsed)]
    assert parsed and parsed[0].call.source.value == "tool_call_tag"
    assert fixed.stats.calls_recovered == 1


def test_prompted_mode_sends_no_tools_and_puts_schemas_in_prompt(catalog: Catalog) -> None:
    provider = ScriptedProvider(turns=[Turn(text=TEXT_CALL), Turn(text="14 °C and rain.")])
    finished, _ = _attempt(_task(catalog, WEATHER), provider, settings=AttemptSettings(tool_mode=ToolMode.PROMPTED))
    assert finished.outcome is Outcome.PASSED
    first = provider.requests[0]
    assert first.tools == ()
    assert "get_weather" in first.messages[0].content
    assert provider.requests[1].messages[-1].role == "user"
    assert "<tool_response" in provider.requests[1].messages[-1].content


def test_malformed_text_call_is_malformed_not_refusal(catalog: Catalog) -> None:
    provider = ScriptedProvider(turns=[Turn(text='<tool_call>{"name": "get_weather", "arguments": {city: Paris</tool_call>'), Turn(text="Sorry.")])
    finished, events = _attempt(_task(catalog, WEATHER), provider)
    assert finished.outcome is Outcome.MALFORMED_CALL
    assert any(isinstance(e, ToolCallRejected) and e.failure is Outcome.MALFORMED_CALL for e in events)


@pytest.mark.parametrize("mode", list(ToolMode))
def test_unreadable_native_call_is_malformed_and_the_model_may_retry(catalog: Catalog, mode: ToolMode) -> None:
    broken = Turn(unreadable=[("get_weather", '{"city": "Par')])
    provider = ScriptedProvider(
        turns=[broken, Turn(calls=[("get_weather", {"city": "Paris"})]), Turn(text="Light rain, 14 °C.")]
    )
    finished, events = _attempt(_task(catalog, WEATHER), provider, settings=AttemptSettings(tool_mode=mode))
    rejected = [e for e in events if isinstance(e, ToolCallRejected)]
    assert [(e.failure, e.source.value, e.name) for e in rejected] == [(Outcome.MALFORMED_CALL, "native", "get_weather")]
    assert '{"city": "Par' in rejected[0].raw
    assert finished.stats.calls_malformed == 1
    # the model was told, and its second try counts
    assert "could not be read" in provider.requests[1].messages[-1].content
    if mode is not ToolMode.PROMPTED:  # prompted mode reads calls from text only
        assert finished.outcome is Outcome.PASSED


def test_unreadable_native_call_alone_fails_as_malformed(catalog: Catalog) -> None:
    provider = ScriptedProvider(turns=[Turn(unreadable=[("get_weather", "city=Paris")]), Turn(text="Done.")])
    finished, _ = _attempt(_task(catalog, WEATHER), provider, settings=AttemptSettings(tool_mode=ToolMode.NATIVE))
    assert finished.outcome is Outcome.MALFORMED_CALL


def test_unknown_tool_and_bad_arguments(catalog: Catalog) -> None:
    task = _task(catalog, WEATHER)
    unknown, _ = _attempt(task, ScriptedProvider(turns=[Turn(calls=[("weather_lookup", {"city": "Paris"})]), Turn(text="done")]))
    assert unknown.outcome is Outcome.UNKNOWN_TOOL
    bad, events = _attempt(task, ScriptedProvider(turns=[Turn(calls=[("get_weather", {"town": "Paris"})]), Turn(text="done")]))
    assert bad.outcome is Outcome.BAD_ARGUMENTS
    rejected = [e for e in events if isinstance(e, ToolCallRejected)]
    assert "city" in rejected[0].reason


def test_prose_answer_is_no_tool_call(catalog: Catalog) -> None:
    finished, _ = _attempt(_task(catalog, WEATHER), ScriptedProvider(turns=[Turn(text="The weather in Paris is mostly sunny.")]))
    assert finished.outcome is Outcome.NO_TOOL_CALL


def test_unwanted_call_on_silence_task(catalog: Catalog) -> None:
    provider = ScriptedProvider(turns=[Turn(calls=[("get_stock_price", {"ticker": "LEAF"})]), Turn(text="Leaves fall.")])
    finished, _ = _attempt(_task(catalog, "readiness.silence.no-fit"), provider)
    assert finished.outcome is Outcome.UNWANTED_CALL


def test_identical_call_and_result_is_a_loop(catalog: Catalog) -> None:
    provider = ScriptedProvider(turns=[Turn(calls=[("find_customer", {"email": "dana@example.com"})])])
    finished, _ = _attempt(_task(catalog, CHAIN), provider)
    assert finished.outcome is Outcome.LOOP
    assert finished.stats.turns == 3


def test_turn_budget(catalog: Catalog) -> None:
    emails = iter(f"user{i}@example.com" for i in range(100))
    provider = ScriptedProvider(responder=lambda request: Turn(calls=[("find_customer", {"email": next(emails)})]))
    finished, _ = _attempt(_task(catalog, CHAIN), provider, settings=AttemptSettings(max_turns=4))
    assert finished.outcome is Outcome.TURN_BUDGET
    assert finished.stats.turns == 4


def test_token_budget_stops_an_endless_answer(catalog: Catalog) -> None:
    provider = ScriptedProvider(turns=[Turn(text="la la ", endless=True, varied=True, delay_s=0.0005)])
    started = time.monotonic()
    finished, _ = _attempt(_task(catalog, WEATHER), provider, settings=AttemptSettings(max_tokens=200))
    assert finished.outcome is Outcome.TOKEN_BUDGET
    assert time.monotonic() - started < 10
    assert finished.stats.completion_tokens > 200  # the tokens streamed before the cut are kept


def test_endless_repeated_text_is_a_loop_cut_early(catalog: Catalog) -> None:
    provider = ScriptedProvider(turns=[Turn(text="I will now check the weather in Paris for you. ", endless=True)])
    finished, events = _attempt(_task(catalog, WEATHER), provider, settings=AttemptSettings(max_tokens=16000))
    assert finished.outcome is Outcome.LOOP
    assert "repeated text" in finished.detail
    assert finished.stats.completion_tokens < 400  # seconds of a small model, not its whole budget
    streamed = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert streamed.count("check the weather") >= 8


def test_length_stop_at_budget_is_token_budget(catalog: Catalog) -> None:
    provider = ScriptedProvider(turns=[Turn(text="blah " * 20, completion_tokens=64, done_reason="length")])
    finished, _ = _attempt(_task(catalog, WEATHER), provider, settings=AttemptSettings(max_tokens=64))
    assert finished.outcome is Outcome.TOKEN_BUDGET


def test_time_budget(catalog: Catalog) -> None:
    provider = ScriptedProvider(turns=[Turn(text="thinking... ", endless=True, delay_s=0.05)])
    finished, _ = _attempt(_task(catalog, WEATHER), provider, settings=AttemptSettings(max_seconds=0.5, max_tokens=10**6))
    assert finished.outcome is Outcome.TIME_BUDGET


def test_cancel_mid_stream_takes_effect_within_a_second(catalog: Catalog) -> None:
    provider = ScriptedProvider(turns=[Turn(text="slow ", endless=True, delay_s=5.0)])
    cancel = CancelToken()
    timer = threading.Timer(0.3, cancel.cancel)
    timer.start()
    started = time.monotonic()
    finished, _ = _attempt(_task(catalog, WEATHER), provider, cancel=cancel)
    elapsed = time.monotonic() - started
    assert finished.outcome is Outcome.CANCELLED
    assert elapsed < 1.3  # cancel at 0.3 s + under 1 s to stop
    assert not finished.outcome.counts_in_score


def test_infra_errors_are_retried_then_excluded(catalog: Catalog) -> None:
    flaky = ScriptedProvider(
        turns=[
            Turn(fail=ProviderError("connection reset", retryable=True)),
            Turn(calls=[("get_weather", {"city": "Paris"})]),
            Turn(text="14 °C, light rain"),
        ]
    )
    finished, events = _attempt(_task(catalog, WEATHER), flaky)
    assert finished.outcome is Outcome.PASSED and finished.infra_retries == 1
    assert [e.try_number for e in events if isinstance(e, AttemptStarted)] == [1, 2]
    assert sum(isinstance(e, InfraError) for e in events) == 1

    dead = ScriptedProvider(turns=[Turn(fail=ProviderError("server down", retryable=True))])
    finished, _ = _attempt(_task(catalog, WEATHER), dead)
    assert finished.outcome is Outcome.INFRA_ERROR and finished.infra_retries == 2
    assert not finished.outcome.counts_in_score

    unknown = ScriptedProvider(turns=[Turn(fail=ProviderError("model not found", retryable=False))])
    finished, _ = _attempt(_task(catalog, WEATHER), unknown)
    assert finished.outcome is Outcome.INFRA_ERROR and finished.infra_retries == 0
    assert "not found" in finished.detail


def test_a_provider_bug_costs_one_attempt_not_the_run(catalog: Catalog) -> None:
    def broken(request: object) -> Turn:
        raise TypeError("create() got an unexpected keyword argument 'temperature'")

    finished, _ = _attempt(_task(catalog, WEATHER), ScriptedProvider(responder=broken))
    assert finished.outcome is Outcome.HARNESS_ERROR  # our bug: never counted against the model
    assert finished.infra_retries == 0  # and never retried silently
    assert "the sim provider or the agent loop): TypeError" in finished.detail


def test_a_key_a_command_printed_is_masked_in_the_tool_result(catalog: Catalog) -> None:
    """The server's own key, found by a tool (a file, an environment dump), never goes back
    to the model, into the transcript or the store in its literal form."""
    key = "sk-test-0123456789abcdef0123"
    pieces = f"print('token=' + {key[:3]!r} + {key[3:-5]!r} + {key[-5:-2]!r} + {key[-2:]!r})"  # the key appears only in the output
    provider = ScriptedProvider(turns=[
        Turn(calls=[("run_command", {"command": f'python -c "{pieces}"'})]),
        Turn(text="done"),
    ])
    provider.secret = key
    _, events = _attempt(_task(catalog, "coding.read-fix-write"), provider)
    results = [e.content for e in events if isinstance(e, ToolResult)]
    assert any("token=[key]" in r for r in results)
    assert all(key not in r for r in results)
    assert all(key not in repr(request.messages) for request in provider.requests[1:])
