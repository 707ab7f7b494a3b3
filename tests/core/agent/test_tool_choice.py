"""A required tool choice: forced until the first call, and asked for in words where the
server cannot force it (Ollama, prompted mode)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.core.agent.attempt import run_attempt
from app.core.agent.prompts import REQUIRED_CALL_NOTE
from app.core.cancel import CancelToken
from app.core.events import AttemptFinished, Event
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome, ToolMode
from app.core.plan import AttemptSettings
from app.core.providers.base import Provider, ProviderKind
from app.core.providers.ollama import OllamaProvider
from app.core.runner import plan_run
from app.core.tasks.loader import Task, load_catalog
from tests.fakes.fake_ollama import FakeModel, FakeOllama, FakeReply
from tests.fakes.scripted_provider import ScriptedProvider, Turn

REPO = Path(__file__).resolve().parents[3]
REQUIRED = "readiness.required-choice.convert"
CONVERT = ("convert_currency", {"amount": 250, "from_currency": "EUR", "to_currency": "USD"})


@pytest.fixture(scope="module")
def task() -> Task:
    return load_catalog([REPO / "tasks" / "readiness"]).task(REQUIRED)


def _attempt(task: Task, provider: Provider, mode: ToolMode = ToolMode.NATIVE) -> tuple[AttemptFinished, list[Event]]:
    model = ModelRef(ProviderKind.SIMULATED, "scripted", "m")
    plan = plan_run([model], [task], repeats=1, settings=[AttemptSettings(tool_mode=mode)])
    events: list[Event] = []
    finished = run_attempt(plan.attempts[0], task, provider, events.append, CancelToken(), sleep=lambda s: False)
    return finished, events


def test_required_is_sent_until_the_first_call_then_dropped(task: Task) -> None:
    provider = ScriptedProvider(turns=[Turn(calls=[CONVERT]), Turn(text="250 EUR is 271.5 USD.")])
    finished, _ = _attempt(task, provider)
    assert finished.outcome is Outcome.PASSED
    assert [r.tool_choice for r in provider.requests] == ["required", "auto"]
    # a server that forces the call needs no words about it
    assert REQUIRED_CALL_NOTE not in provider.requests[0].messages[0].content


def test_a_refused_call_does_not_lift_the_requirement(task: Task) -> None:
    provider = ScriptedProvider(
        turns=[Turn(calls=[("convert_currency", {"amount": 250})]), Turn(calls=[CONVERT]), Turn(text="271.5 USD")]
    )
    _attempt(task, provider)
    assert [r.tool_choice for r in provider.requests] == ["required", "required", "auto"]


def test_prompted_mode_asks_for_the_call_in_the_system_prompt(task: Task) -> None:
    call = '<tool_call>{"name": "convert_currency", "arguments": {"amount": 250, "from_currency": "EUR", "to_currency": "USD"}}</tool_call>'
    provider = ScriptedProvider(turns=[Turn(text=call), Turn(text="271.5 USD")])
    finished, _ = _attempt(task, provider, ToolMode.PROMPTED)
    assert finished.outcome is Outcome.PASSED
    system = provider.requests[0].messages[0]
    assert system.role == "system" and system.content.count(REQUIRED_CALL_NOTE) == 1


def _converter(body: dict[str, Any]) -> FakeReply:
    if any(m["role"] == "tool" for m in body["messages"]):
        return FakeReply(content="250 euros is 271.5 US dollars.")
    return FakeReply(tool_calls=[CONVERT])


def test_ollama_cannot_force_a_call_so_the_system_prompt_asks_for_it(task: Task) -> None:
    with FakeOllama([FakeModel("m")]) as server:
        server.responder = _converter
        provider = OllamaProvider(server.url)
        try:
            finished, _ = _attempt(task, provider)
        finally:
            provider.close()
        bodies = list(server.requests)
    assert finished.outcome is Outcome.PASSED
    assert len(bodies) == 2 and all("tool_choice" not in body for body in bodies)
    for body in bodies:
        system = body["messages"][0]
        assert system["role"] == "system" and system["content"].count(REQUIRED_CALL_NOTE) == 1
    assert OllamaProvider.forces_tool_choice is False
