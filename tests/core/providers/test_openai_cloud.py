"""The OpenAI provider: the real ``openai`` SDK against the fake server in its OpenAI flavour
on loopback, with keys in an in-memory keyring. Also: an OpenAI-compatible host's own key."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.cancel import Cancelled, CancelToken
from app.core.chat import (
    ChatRequest,
    GenerationSettings,
    Message,
    NativeCallsChunk,
    TextChunk,
    ToolSpec,
    TurnDone,
)
from app.core.config import AppSettings, HostConfig
from app.core.discovery import discover_all
from app.core.engine import Engine
from app.core.events import event_to_dict
from app.core.modelref import ModelRef, parse_model_ref
from app.core.outcomes import Outcome
from app.core.providers.base import ProviderError, ProviderKind
from app.core.providers.openai_cloud import OpenAICloudProvider, is_chat_model, request_params
from app.core.providers.registry import ProviderPool
from app.core.runner import RunnerOptions
from app.core.secrets import COMPAT_SERVICE, SERVICE
from tests.core.providers.cloud_keyring import MemoryKeyring, memory_keyring
from tests.fakes.fake_openai import FakeOpenAI, FakeReply

KEY = "sk-proj-test-Qm3vX8pL2nR5tY7wK9bD4fG6hJ1sA0zC"
MODEL = "gpt-4.1-mini"
LISTED = ("gpt-4.1-mini", "gpt-4o", "o4-mini", "text-embedding-3-small", "gpt-4o-audio-preview", "dall-e-3",
          "gpt-3.5-turbo-instruct", "whisper-1")
WEATHER = ToolSpec("get_weather", "Weather for a city", {"type": "object", "properties": {"city": {"type": "string"}}})


@pytest.fixture
def keys() -> Iterator[MemoryKeyring]:
    with memory_keyring() as backend:
        backend.set_password(SERVICE, "openai-cloud", KEY)
        yield backend


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(LISTED, api_key=KEY, flavour="openai") as server:
        monkeypatch.setenv("AGENTGAP_OPENAI_BASE_URL", server.url)
        yield server


@pytest.fixture
def provider(fake: FakeOpenAI, keys: MemoryKeyring) -> Iterator[OpenAICloudProvider]:
    client = OpenAICloudProvider(fake.url)
    yield client
    client.close()


def _request(**settings: Any) -> ChatRequest:
    return ChatRequest(
        model=MODEL,
        messages=(Message("system", "Be brief."), Message("user", "Weather in Paris?")),
        tools=(WEATHER,),
        settings=GenerationSettings(**settings),
    )


def _weather_model(body: dict[str, Any]) -> FakeReply:
    """Calls get_weather, then reports the temperature it finds in the tool message."""
    results = [m for m in body["messages"] if m["role"] == "tool"]
    if not results:
        return FakeReply(tool_calls=[("get_weather", {"city": "Paris"})])
    found = re.search(r'"temp_c":\s*(-?\d+)', results[-1]["content"])
    return FakeReply(content=f"It is {found.group(1)} °C in Paris." if found else "I could not tell.")


def _engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")
    return Engine(db_path=tmp_path / "runs.db", settings=AppSettings(hosts=[HostConfig(url="http://127.0.0.1:9")]))


# ---- a whole attempt ----------------------------------------------------------------


def test_attempt_through_the_engine_calls_the_tool_and_passes(
    fake: FakeOpenAI, keys: MemoryKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.respond(MODEL, _weather_model)
    with _engine(tmp_path, monkeypatch) as engine:
        ref = engine.parse_model(f"openai-cloud:{MODEL}")
        assert (ref.provider, ref.host, ref.label) == (ProviderKind.OPENAI_CLOUD, fake.url, f"openai-cloud:{MODEL}")
        plan = engine.plan([ref], [engine.catalog.task("readiness.single-tool.weather")], repeats=1)
        engine.execute(plan, CancelToken(), options=RunnerOptions(infra_retries=0))
        [attempt] = engine.repository.attempts(plan.run_id)
        events = engine.repository.transcript(attempt.id)
        transcript = json.dumps([event_to_dict(e) for e in events], default=str, ensure_ascii=False)
    assert attempt.outcome is Outcome.PASSED, attempt.detail
    assert "14 °C" in transcript

    first, second = fake.requests
    assert first["stream"] is True and first["stream_options"] == {"include_usage": True}
    assert first["tools"][0]["function"]["name"] == "get_weather" and first["parallel_tool_calls"] is True
    assistant, tool = second["messages"][-2:]
    assert assistant["role"] == "assistant" and assistant["tool_calls"][0]["function"]["name"] == "get_weather"
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
    assert tool["role"] == "tool" and tool["tool_call_id"] == assistant["tool_calls"][0]["id"]
    assert "light rain" in tool["content"]

    assert all(h.get("authorization") == f"Bearer {KEY}" for h in fake.headers_seen)
    assert all(KEY not in json.dumps(body) for body in fake.requests)
    assert KEY not in transcript
    assert all(KEY.encode() not in path.read_bytes() for path in tmp_path.glob("runs.db*"))


def test_a_wrong_key_fails_the_attempt_without_leaking_the_key(
    fake: FakeOpenAI, keys: MemoryKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "sk-proj-wrong-Hx5Tq2Lw8Nv3Bc6Mz9Kd1Rf4"
    keys.set_password(SERVICE, "openai-cloud", wrong)
    with _engine(tmp_path, monkeypatch) as engine:
        plan = engine.plan([engine.parse_model(f"openai-cloud:{MODEL}")],
                           [engine.catalog.task("readiness.single-tool.weather")], repeats=1)
        engine.execute(plan, CancelToken(), options=RunnerOptions(infra_retries=2))
        [attempt] = engine.repository.attempts(plan.run_id)
    assert attempt.outcome is Outcome.INFRA_ERROR and attempt.infra_retries == 0  # final: not retried
    assert "rejected the API key" in attempt.detail and "keyring" in attempt.detail
    # OpenAI echoes the key's first and last characters; neither reaches the database
    assert wrong[:6] not in attempt.detail and wrong[-4:] not in attempt.detail
    for path in tmp_path.glob("runs.db*"):
        data = path.read_bytes()
        assert wrong[:6].encode() not in data and wrong[-4:].encode() not in data


# ---- keys and errors ------------------------------------------------------------------


def test_missing_key_is_a_clear_final_error_and_sends_nothing(fake: FakeOpenAI) -> None:
    with memory_keyring():
        with pytest.raises(ProviderError) as raised:
            list(OpenAICloudProvider(fake.url).stream_turn(_request(), CancelToken()))
        status = OpenAICloudProvider(fake.url).discover()
    assert not raised.value.retryable and "No OpenAI API key" in raised.value.message
    assert not status.reachable and "keyring" in (status.error or "")
    assert fake.headers_seen == []


@pytest.mark.parametrize(
    ("fault", "retryable", "status", "words"),
    [
        ("rate_limit", True, 429, "Rate limit reached"),
        ("insufficient_quota", False, 429, "no credit left"),
        ("http_500", True, 500, "failed (HTTP 500)"),
        ("error_mid_stream", True, None, "mid-answer"),
        ("drop", True, None, "before finishing"),
    ],
)
def test_failures_are_mapped(
    fake: FakeOpenAI, provider: OpenAICloudProvider, fault: str, retryable: bool, status: int | None, words: str
) -> None:
    fake.fail_next(fault)
    with pytest.raises(ProviderError) as raised:
        list(provider.stream_turn(_request(), CancelToken()))
    assert (raised.value.retryable, raised.value.status) == (retryable, status)
    assert words in raised.value.message
    assert len(fake.requests) == 1  # the SDK's own retries are off: the runner decides


def test_cancel_mid_stream_stops_at_once_and_closes_the_stream(fake: FakeOpenAI, provider: OpenAICloudProvider) -> None:
    fake.fail_next("endless")
    cancel = CancelToken()
    seen: list[object] = []
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        for chunk in provider.stream_turn(_request(), cancel):
            seen.append(chunk)
    assert time.monotonic() - started < 5 and any(isinstance(c, TextChunk) for c in seen)
    deadline = time.monotonic() + 10
    while fake.open_streams and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake.open_streams == 0


# ---- streaming and request shape ------------------------------------------------------


def test_interleaved_call_fragments_and_usage(fake: FakeOpenAI, provider: OpenAICloudProvider) -> None:
    fake.script(MODEL, FakeReply(content="Both:", interleave_calls=True, tool_calls=[
        ("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Lyon, France", "days": [1, 2]})]))
    chunks = list(provider.stream_turn(_request(), CancelToken()))
    [calls] = [c.calls for c in chunks if isinstance(c, NativeCallsChunk)]
    assert [c.arguments for c in calls] == [{"city": "Paris"}, {"city": "Lyon, France", "days": [1, 2]}]
    done = chunks[-1]
    assert isinstance(done, TurnDone) and done.usage.prompt_tokens > 0 and done.usage.done_reason == "tool_calls"


def test_settings_map_to_openai_params() -> None:
    params = request_params(ChatRequest(model=MODEL, messages=(Message("user", "hi"),),
                                        settings=GenerationSettings(temperature=0.2, seed=3, max_tokens=64, think=True, num_ctx=8192)))
    assert (params["temperature"], params["seed"], params["max_completion_tokens"]) == (0.2, 3, 64)
    assert not {"max_tokens", "tools", "tool_choice", "parallel_tool_calls", "chat_template_kwargs"} & set(params)


# ---- discovery ----------------------------------------------------------------------


def test_discovery_lists_only_chat_models_when_a_key_is_stored(fake: FakeOpenAI, keys: MemoryKeyring) -> None:
    pool = ProviderPool()
    try:
        statuses = discover_all(AppSettings(hosts=[HostConfig(url="http://127.0.0.1:9")]), pool, include_simulated=False)
    finally:
        pool.close()
    [cloud] = [s for s in statuses if s.provider is ProviderKind.OPENAI_CLOUD]
    assert cloud.reachable and cloud.host == fake.url
    assert [m.name for m in cloud.models] == ["gpt-4.1-mini", "gpt-4o", "o4-mini"]
    assert all("Cloud model" in m.description and "tools" in m.capabilities for m in cloud.models)
    assert parse_model_ref(cloud.models[0].ref) == ModelRef(ProviderKind.OPENAI_CLOUD, fake.url, "gpt-4.1-mini")


def test_discovery_without_a_key_lists_nothing_and_sends_nothing(fake: FakeOpenAI) -> None:
    pool = ProviderPool()
    with memory_keyring():
        statuses = discover_all(AppSettings(hosts=[HostConfig(url="http://127.0.0.1:9")]), pool, include_simulated=False)
    pool.close()
    assert all(s.provider is not ProviderKind.OPENAI_CLOUD for s in statuses)
    assert fake.headers_seen == []


def test_chat_model_filter() -> None:
    assert [m for m in LISTED if is_chat_model(m)] == ["gpt-4.1-mini", "gpt-4o", "o4-mini"]


def test_base_url_defaults_to_the_real_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTGAP_OPENAI_BASE_URL", raising=False)
    assert parse_model_ref("openai-cloud:gpt-4o").host == "https://api.openai.com/v1"


# ---- an OpenAI-compatible host with a key ------------------------------------------------


def test_openai_compatible_host_uses_the_key_stored_for_its_url() -> None:
    with FakeOpenAI(("smollm2",), api_key="local-secret") as server, memory_keyring() as backend:
        request = ChatRequest(model="smollm2", messages=(Message("user", "hi"),))
        pool = ProviderPool()
        with pytest.raises(ProviderError) as raised:  # no key stored: the server refuses
            list(pool.get(ModelRef(ProviderKind.OPENAI, server.url, "smollm2")).stream_turn(request, CancelToken()))
        pool.close()
        assert raised.value.status == 401
        backend.set_password(COMPAT_SERVICE, server.url, "local-secret")
        pool = ProviderPool()
        chunks = list(pool.get(ModelRef(ProviderKind.OPENAI, server.url, "smollm2")).stream_turn(request, CancelToken()))
        pool.close()
    assert isinstance(chunks[-1], TurnDone)
    assert server.headers_seen[-1]["authorization"] == "Bearer local-secret"
