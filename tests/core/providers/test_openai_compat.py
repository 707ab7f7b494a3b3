"""The OpenAI-compatible provider against a fake llama.cpp-style server on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

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
from app.core.providers.base import ProviderError
from app.core.providers.openai_compat import OpenAICompatProvider
from app.core.toolcalls import recover_tool_calls
from tests.fakes.fake_openai import FakeOpenAI, OAReply

WEATHER = ToolSpec("get_weather", "Weather for a city", {"type": "object", "properties": {"city": {"type": "string"}}})


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(("smollm2", "qwen")) as fake:
        yield fake


def _request(model: str = "qwen", **settings: object) -> ChatRequest:
    return ChatRequest(model=model, messages=(Message(role="user", content="Weather in Paris?"),), tools=(WEATHER,),
                       tool_choice="required", settings=GenerationSettings(**settings))  # type: ignore[arg-type]


def _collect(server: FakeOpenAI, request: ChatRequest) -> list[object]:
    return list(OpenAICompatProvider(server.url).stream_turn(request, CancelToken()))


def test_discovery(server: FakeOpenAI) -> None:
    status = OpenAICompatProvider(server.url).discover()
    assert status.reachable
    model = status.models[0]
    assert model.name == "smollm2" and model.context_length == 8192 and model.parameter_size == "135M"


def test_host_down() -> None:
    status = OpenAICompatProvider("http://127.0.0.1:9/v1", connect_timeout_s=1).discover()
    assert not status.reachable and "No OpenAI-compatible server" in (status.error or "")


def test_fragmented_tool_calls_assemble_by_index(server: FakeOpenAI) -> None:
    server.script("qwen", OAReply(reasoning="need weather", content="Checking.", tool_calls=[("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Lyon, France"})]))
    chunks = _collect(server, _request(temperature=0.1, seed=3, max_tokens=128))
    calls = [c for chunk in chunks if isinstance(chunk, NativeCallsChunk) for c in chunk.calls]
    assert [(c.name, c.arguments) for c in calls] == [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Lyon, France"})]
    assert "".join(c.text for c in chunks if isinstance(c, TextChunk) and c.thinking) == "need weather"
    done = chunks[-1]
    assert isinstance(done, TurnDone) and done.usage.tokens_per_s == 100.0 and done.usage.prompt_tokens == 31
    body = server.requests[-1]
    assert body["tool_choice"] == "required" and body["temperature"] == 0.1 and body["seed"] == 3
    assert body["max_tokens"] == 128 and body["stream_options"] == {"include_usage": True}


def test_unreadable_arguments_surface_as_malformed_text(server: FakeOpenAI) -> None:
    server.script("qwen", OAReply(tool_calls=[("get_weather", '{"city": "Par')]))
    chunks = _collect(server, _request())
    text = "".join(c.text for c in chunks if isinstance(c, TextChunk))
    assert not any(isinstance(c, NativeCallsChunk) for c in chunks)
    recovered = recover_tool_calls(text, ["get_weather"])
    assert recovered.malformed and not recovered.calls


def test_template_without_tools_answers_prose(server: FakeOpenAI) -> None:
    server.drop_tools.add("smollm2")
    chunks = _collect(server, _request("smollm2"))
    assert not any(isinstance(c, NativeCallsChunk) for c in chunks)
    assert "sunny" in "".join(c.text for c in chunks if isinstance(c, TextChunk))


@pytest.mark.parametrize(
    ("fault", "retryable"),
    [("http_500", True), ("unknown_model", False), ("error_mid_stream", True), ("drop", True)],
)
def test_faults(server: FakeOpenAI, fault: str, retryable: bool) -> None:
    server.script("qwen", OAReply(content="a long answer that will be cut"))
    server.fail_next(fault)
    with pytest.raises(ProviderError) as caught:
        _collect(server, _request())
    assert caught.value.retryable is retryable


@pytest.mark.parametrize("fault", ["slow", "endless"])
def test_cancel_within_a_second(server: FakeOpenAI, fault: str) -> None:
    server.script("qwen", OAReply(content="x" * 200))
    server.fail_next(fault)
    cancel = CancelToken()
    at: list[float] = []
    threading.Timer(0.4, lambda: (at.append(time.monotonic()), cancel.cancel())).start()
    with pytest.raises(Cancelled):
        for _ in OpenAICompatProvider(server.url).stream_turn(_request(), cancel):
            pass
    assert time.monotonic() - at[0] < 1.0


def test_deadline(server: FakeOpenAI) -> None:
    server.fail_next("endless")
    with pytest.raises(TimeoutError):
        for _ in OpenAICompatProvider(server.url).stream_turn(_request(), CancelToken(), deadline=time.monotonic() + 0.3):
            pass
