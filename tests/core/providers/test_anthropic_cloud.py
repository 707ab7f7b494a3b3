"""The Anthropic provider: the real ``anthropic`` SDK against the fake Messages API on loopback,
with keys in an in-memory keyring."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail

from app.core.cancel import Cancelled, CancelToken
from app.core.chat import (
    ChatRequest,
    GenerationSettings,
    Message,
    NativeCallsChunk,
    TextChunk,
    ToolCall,
    ToolSpec,
    TurnDone,
)
from app.core.config import AppSettings, HostConfig
from app.core.discovery import discover_all
from app.core.engine import Engine
from app.core.events import event_to_dict
from app.core.modelref import parse_model_ref
from app.core.outcomes import Outcome
from app.core.providers.anthropic_cloud import AnthropicCloudProvider, request_params, wire_messages
from app.core.providers.base import ProviderError, ProviderKind
from app.core.providers.registry import ProviderPool
from app.core.runner import RunnerOptions
from app.core.secrets import SERVICE
from tests.core.providers.cloud_keyring import MemoryKeyring, memory_keyring
from tests.fakes.fake_anthropic import FakeAnthropic, FakeTurn, key_sent

KEY = "sk-ant-api03-test-Zq8xW2vKp4LmN7rT1yB6cD9fH3jS5uE0"
MODEL = "claude-haiku-4-5-20251001"
WEATHER = ToolSpec("get_weather", "Weather for a city", {"type": "object", "properties": {"city": {"type": "string"}}})


@pytest.fixture
def keys() -> Iterator[MemoryKeyring]:
    with memory_keyring() as backend:
        backend.set_password(SERVICE, "anthropic", KEY)
        yield backend


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=KEY) as server:
        monkeypatch.setenv("AGENTGAP_ANTHROPIC_BASE_URL", server.url)
        yield server


@pytest.fixture
def provider(fake: FakeAnthropic, keys: MemoryKeyring) -> Iterator[AnthropicCloudProvider]:
    client = AnthropicCloudProvider(fake.url)
    yield client
    client.close()


def _request(*messages: Message, **settings: Any) -> ChatRequest:
    return ChatRequest(
        model=MODEL,
        messages=messages or (Message("system", "Be brief."), Message("user", "Weather in Paris?")),
        tools=(WEATHER,),
        settings=GenerationSettings(**settings),
    )


def _weather_model(body: dict[str, Any]) -> FakeTurn:
    """Calls get_weather, then reports the temperature it finds in the tool result."""
    last = body["messages"][-1]
    results = [b for b in last["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
    if not results:
        return FakeTurn(text="Let me look that up.", tool_calls=[("get_weather", {"city": "Paris"})])
    found = re.search(r'"temp_c":\s*(-?\d+)', str(results[0]["content"]))
    return FakeTurn(text=f"It is {found.group(1)} °C in Paris." if found else "I could not tell.")


# ---- a whole attempt ----------------------------------------------------------------


def test_attempt_through_the_engine_calls_the_tool_and_passes(
    fake: FakeAnthropic, keys: MemoryKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # the default Ollama host: nothing listens
    fake.responder = _weather_model
    db = tmp_path / "runs.db"
    with Engine(db_path=db, settings=AppSettings(hosts=[HostConfig(url="http://127.0.0.1:9")])) as engine:
        ref = engine.parse_model(f"anthropic:{MODEL}")
        assert (ref.provider, ref.host, ref.label) == (ProviderKind.ANTHROPIC, fake.url, f"anthropic:{MODEL}")
        plan = engine.plan([ref], [engine.catalog.task("readiness.single-tool.weather")], repeats=1)
        engine.execute(plan, CancelToken(), options=RunnerOptions(infra_retries=0))
        [attempt] = engine.repository.attempts(plan.run_id)
        transcript = json.dumps([event_to_dict(e) for e in engine.repository.transcript(attempt.id)], default=str, ensure_ascii=False)
    assert attempt.outcome is Outcome.PASSED, attempt.detail

    first, second = (r.body for r in fake.messages_requests)
    assert first["system"] and first["max_tokens"] > 0 and first["stream"] is True
    assert first["tools"][0]["name"] == "get_weather" and first["tools"][0]["input_schema"]["required"] == ["city"]
    assert first["messages"] == [{"role": "user", "content": [{"type": "text", "text": first["messages"][0]["content"][0]["text"]}]}]
    # the call goes back as the assistant's tool_use, answered by a tool_result in the next user turn
    assistant, answer = second["messages"][1:]
    tool_use = next(b for b in assistant["content"] if b["type"] == "tool_use")
    assert assistant["role"] == "assistant" and tool_use["name"] == "get_weather" and tool_use["input"] == {"city": "Paris"}
    assert answer["role"] == "user" and answer["content"][0]["type"] == "tool_result"
    assert answer["content"][0]["tool_use_id"] == tool_use["id"] and "light rain" in answer["content"][0]["content"]
    assert "14 °C" in transcript

    # the key went only into the auth header: never the body, the transcript or the database
    for request in fake.received:
        assert key_sent(request.headers) == KEY and request.headers.get("anthropic-version")
        assert KEY not in json.dumps(request.body)
    assert KEY not in transcript
    assert all(KEY.encode() not in path.read_bytes() for path in tmp_path.glob("runs.db*"))


# ---- keys ---------------------------------------------------------------------------


def test_missing_key_is_a_clear_final_error_and_sends_nothing(fake: FakeAnthropic) -> None:
    with memory_keyring():
        provider = AnthropicCloudProvider(fake.url)
        with pytest.raises(ProviderError) as raised:
            list(provider.stream_turn(_request(), CancelToken()))
    assert not raised.value.retryable
    assert "No Anthropic API key" in raised.value.message and "keyring" in raised.value.message
    assert fake.received == []


def test_no_keyring_backend_says_so(fake: FakeAnthropic) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(ProviderError) as raised:
            list(AnthropicCloudProvider(fake.url).stream_turn(_request(), CancelToken()))
    finally:
        keyring.set_keyring(previous)
    assert not raised.value.retryable and "No system keyring is available" in raised.value.message
    assert fake.received == []


def test_wrong_key_is_final_and_names_the_keyring(fake: FakeAnthropic, keys: MemoryKeyring) -> None:
    keys.set_password(SERVICE, "anthropic", "sk-ant-api03-wrong-key-000000000000")
    with pytest.raises(ProviderError) as raised:
        list(AnthropicCloudProvider(fake.url).stream_turn(_request(), CancelToken()))
    error = raised.value
    assert (error.retryable, error.status) == (False, 401)
    assert "rejected the API key" in error.message and "keyring" in error.message
    assert "wrong-key" not in error.message


def test_a_replaced_key_applies_to_the_next_turn(fake: FakeAnthropic, keys: MemoryKeyring) -> None:
    keys.set_password(SERVICE, "anthropic", "sk-ant-api03-old-key-111111111111")
    provider = AnthropicCloudProvider(fake.url)
    with pytest.raises(ProviderError):
        list(provider.stream_turn(_request(), CancelToken()))
    keys.set_password(SERVICE, "anthropic", KEY)
    assert isinstance(list(provider.stream_turn(_request(), CancelToken()))[-1], TurnDone)


# ---- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "words"),
    [
        ("rate_limit", 429, "rate_limit_error"),
        ("overloaded", 529, "overloaded_error"),
        ("server_error", 500, "api_error"),
        ("overloaded_mid_stream", None, "mid-answer"),
        ("drop", None, "before finishing"),
    ],
)
def test_transient_failures_are_retryable(
    fake: FakeAnthropic, provider: AnthropicCloudProvider, fault: str, status: int | None, words: str
) -> None:
    fake.fail_next(fault)
    with pytest.raises(ProviderError) as raised:
        list(provider.stream_turn(_request(), CancelToken()))
    assert raised.value.retryable and raised.value.status == status and words in raised.value.message
    assert len(fake.messages_requests) == 1  # the SDK's own retries are off: the runner decides


def test_unknown_model_is_final(fake: FakeAnthropic, provider: AnthropicCloudProvider) -> None:
    request = ChatRequest(model="claude-nope", messages=(Message("user", "hi"),))
    with pytest.raises(ProviderError) as raised:
        list(provider.stream_turn(request, CancelToken()))
    assert not raised.value.retryable and "no model 'claude-nope'" in raised.value.message


def test_cancel_mid_stream_stops_at_once_and_closes_the_stream(
    fake: FakeAnthropic, provider: AnthropicCloudProvider
) -> None:
    fake.fail_next("endless")
    cancel = CancelToken()
    seen: list[object] = []
    stream = provider.stream_turn(_request(), cancel)
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        for chunk in stream:
            seen.append(chunk)
    assert time.monotonic() - started < 1.5
    assert any(isinstance(c, TextChunk) for c in seen)
    deadline = time.monotonic() + 3
    while fake.open_streams and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake.open_streams == 0


# ---- streaming and request shape ------------------------------------------------------


def test_text_tool_calls_and_usage(fake: FakeAnthropic, provider: AnthropicCloudProvider) -> None:
    fake.script(FakeTurn(text="Checking both.", tool_calls=[("get_weather", {"city": "Paris"}),
                                                              ("get_weather", {"city": "Lyon, France", "days": [1, 2]})]))
    chunks = list(provider.stream_turn(_request(), CancelToken()))
    assert "".join(c.text for c in chunks if isinstance(c, TextChunk)) == "Checking both."
    [calls] = [c.calls for c in chunks if isinstance(c, NativeCallsChunk)]
    assert [(c.name, c.arguments) for c in calls] == [
        ("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Lyon, France", "days": [1, 2]})]
    assert all(c.id.startswith("toolu_") for c in calls)
    done = chunks[-1]
    assert isinstance(done, TurnDone) and done.usage.prompt_tokens > 0 and done.usage.completion_tokens > 0
    assert done.usage.done_reason == "tool_use" and done.usage.time_to_first_token_s is not None


def test_max_tokens_stop_is_reported_as_length(fake: FakeAnthropic, provider: AnthropicCloudProvider) -> None:
    fake.script(FakeTurn(text="It is", stop_reason="max_tokens"))
    done = list(provider.stream_turn(_request(max_tokens=3), CancelToken()))[-1]
    assert isinstance(done, TurnDone) and done.usage.done_reason == "length"
    assert fake.messages_requests[-1].body["max_tokens"] == 3


def test_settings_map_to_anthropic_params() -> None:
    params = request_params(
        ChatRequest(model=MODEL, messages=(Message("user", "hi"),), tools=(WEATHER,), tool_choice="required",
                    settings=GenerationSettings(temperature=1.4, seed=7, num_ctx=4096, think=True))
    )
    assert params["tool_choice"] == {"type": "any"} and params["extra_body"] == {"temperature": 1.0}
    assert params["max_tokens"] == 4096 and "system" not in params
    assert not {"seed", "num_ctx", "thinking"} & set(params)


def test_messages_alternate_with_tool_results_first() -> None:
    call = ToolCall("call 1/a", "get_weather", {"city": "Paris"})
    turns = wire_messages((
        Message("system", "Be brief."),
        Message("user", "Weather?"),
        Message("assistant", "", tool_calls=(call,)),
        Message("tool", '{"temp_c": 14}', tool_call_id="call 1/a", tool_name="get_weather"),
        Message("user", "Your tool call could not be read: bad JSON."),
        Message("assistant", ""),
        Message("user", "Please answer."),
    ))
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"] == [{"type": "tool_use", "id": "call_1_a", "name": "get_weather", "input": {"city": "Paris"}}]
    assert [b["type"] for b in turns[2]["content"]] == ["tool_result", "text", "text"]
    assert turns[2]["content"][0]["tool_use_id"] == "call_1_a"


# ---- discovery ----------------------------------------------------------------------


def test_discovery_lists_cloud_models_when_a_key_is_stored(fake: FakeAnthropic, keys: MemoryKeyring) -> None:
    pool = ProviderPool()
    try:
        statuses = discover_all(AppSettings(hosts=[HostConfig(url="http://127.0.0.1:9")]), pool, include_simulated=False)
    finally:
        pool.close()
    [cloud] = [s for s in statuses if s.provider is ProviderKind.ANTHROPIC]
    assert cloud.reachable and cloud.host == fake.url
    assert [m.name for m in cloud.models] == ["claude-sonnet-4-5-20250929", MODEL]
    model = cloud.models[0]
    assert "Cloud model" in model.description and "Claude Sonnet 4.5" in model.description
    assert model.ref == "anthropic:claude-sonnet-4-5-20250929" and model.context_length == 200000
    assert parse_model_ref(model.ref).host == fake.url


def test_discovery_without_a_key_lists_nothing_and_sends_nothing(fake: FakeAnthropic) -> None:
    pool = ProviderPool()
    with memory_keyring():
        statuses = discover_all(AppSettings(hosts=[HostConfig(url="http://127.0.0.1:9")]), pool, include_simulated=False)
    pool.close()
    assert all(s.provider is not ProviderKind.ANTHROPIC for s in statuses)
    assert fake.received == []


def test_base_url_defaults_to_the_real_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTGAP_ANTHROPIC_BASE_URL", raising=False)
    assert parse_model_ref(f"anthropic:{MODEL}").host == "https://api.anthropic.com"
    with pytest.raises(ValueError, match="no model"):
        parse_model_ref("anthropic:")
