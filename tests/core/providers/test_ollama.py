"""The Ollama provider: the real ``ollama`` client against the fake server on loopback."""

from __future__ import annotations

import socket
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
from app.core.providers.ollama import OllamaProvider
from tests.fakes.fake_ollama import FakeModel, FakeOllama, FakeReply

WEATHER = ToolSpec("get_weather", "Weather for a city", {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


@pytest.fixture
def server() -> Iterator[FakeOllama]:
    models = [
        FakeModel("llama3.2:3b"),
        FakeModel("qwen3:4b", family="qwen3", parameter_size="4.0B", capabilities=("completion", "tools", "thinking"), context_length=40960),
        FakeModel("gemma3:4b", family="gemma3", parameter_size="4.3B", capabilities=("completion", "vision")),
    ]
    with FakeOllama(models) as fake:
        yield fake


def _request(model: str = "llama3.2:3b", tools: tuple[ToolSpec, ...] = (WEATHER,), **settings: object) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=(Message(role="system", content="be brief"), Message(role="user", content="Weather in Paris?")),
        tools=tools,
        settings=GenerationSettings(**settings),  # type: ignore[arg-type]
    )


def _collect(provider: OllamaProvider, request: ChatRequest) -> list[object]:
    return list(provider.stream_turn(request, CancelToken()))


def test_discovery_reads_capabilities_context_and_loaded_state(server: FakeOllama) -> None:
    provider = OllamaProvider(server.url)
    status = provider.discover()
    assert status.reachable and status.version == "0.12.6"
    models = {m.name: m for m in status.models}
    assert models["qwen3:4b"].capabilities == {"tools", "thinking"}
    assert models["gemma3:4b"].capabilities == {"vision"}
    assert models["qwen3:4b"].context_length == 40960
    assert models["llama3.2:3b"].quantization == "Q4_K_M" and models["llama3.2:3b"].size_bytes == 2_019_393_189
    assert not models["llama3.2:3b"].loaded
    _collect(provider, _request())
    assert {m.name: m.loaded for m in provider.discover().models}["llama3.2:3b"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_host_down_is_one_clear_line() -> None:
    status = OllamaProvider(f"http://127.0.0.1:{_free_port()}", connect_timeout_s=1).discover()
    assert not status.reachable
    assert status.error and "No Ollama server" in status.error and "ollama serve" in status.error


def test_streams_text_thinking_and_native_calls(server: FakeOllama) -> None:
    server.script("qwen3:4b", FakeReply(thinking="The user wants weather.", content="Checking Paris now.", tool_calls=[("get_weather", {"city": "Paris"})]))
    chunks = _collect(OllamaProvider(server.url), _request("qwen3:4b", think=True))
    text = "".join(c.text for c in chunks if isinstance(c, TextChunk) and not c.thinking)
    thinking = "".join(c.text for c in chunks if isinstance(c, TextChunk) and c.thinking)
    assert text == "Checking Paris now." and thinking == "The user wants weather."
    assert sum(isinstance(c, TextChunk) for c in chunks) > 3
    calls = [call for c in chunks if isinstance(c, NativeCallsChunk) for call in c.calls]
    assert [(c.name, c.arguments) for c in calls] == [("get_weather", {"city": "Paris"})]
    done = chunks[-1]
    assert isinstance(done, TurnDone)
    assert done.usage.prompt_tokens == 42 and done.usage.tokens_per_s == pytest.approx(50.0)
    assert done.usage.load_s == pytest.approx(1.25) and done.usage.done_reason == "stop"
    assert done.usage.time_to_first_token_s is not None


def test_settings_and_tools_reach_the_server(server: FakeOllama) -> None:
    _collect(OllamaProvider(server.url), _request("qwen3:4b", temperature=0.2, num_ctx=8192, seed=7, think=False, max_tokens=256))
    body = server.requests[-1]
    assert body["options"] == {"temperature": 0.2, "num_ctx": 8192, "seed": 7, "num_predict": 256}
    assert body["think"] is False and body["stream"] is True
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_tool_results_go_back_with_the_tool_role(server: FakeOllama) -> None:
    from app.core.chat import ToolCall

    request = ChatRequest(
        model="llama3.2:3b",
        messages=(
            Message(role="user", content="Weather?"),
            Message(role="assistant", content="", tool_calls=(ToolCall("c0", "get_weather", {"city": "Paris"}),)),
            Message(role="tool", content='{"temp_c": 14}', tool_call_id="c0", tool_name="get_weather"),
        ),
        tools=(WEATHER,),
    )
    _collect(OllamaProvider(server.url), request)
    sent = server.requests[-1]["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": {"city": "Paris"}}
    assert sent[2] == {"role": "tool", "content": '{"temp_c": 14}', "tool_name": "get_weather"}


@pytest.mark.parametrize(
    ("model", "fault", "retryable", "words"),
    [
        ("nope:1b", None, False, "ollama pull nope:1b"),
        ("gemma3:4b", None, False, "registry.ollama.ai/library/gemma3:4b does not support tools"),
        ("llama3.2:3b", "load_failure", True, "llama runner process has terminated"),
        ("llama3.2:3b", "error_mid_stream", True, "unexpected EOF"),
        ("llama3.2:3b", "drop", True, "broke mid-answer"),
    ],
)
def test_faults_become_provider_errors(server: FakeOllama, model: str, fault: str | None, retryable: bool, words: str) -> None:
    server.script("llama3.2:3b", FakeReply(content="a long enough answer to be cut short"))
    if fault:
        server.fail_next(fault)
    with pytest.raises(ProviderError) as caught:
        _collect(OllamaProvider(server.url), _request(model))
    assert caught.value.retryable is retryable
    assert words in caught.value.message


def test_thinking_on_a_model_without_it_is_refused(server: FakeOllama) -> None:
    with pytest.raises(ProviderError, match="does not support thinking") as caught:
        _collect(OllamaProvider(server.url), _request("llama3.2:3b", think=True))
    assert not caught.value.retryable


@pytest.mark.parametrize("fault", ["slow", "endless"])
def test_cancel_mid_stream_within_a_second(server: FakeOllama, fault: str) -> None:
    server.script("llama3.2:3b", FakeReply(content="x" * 400))
    server.fail_next(fault)
    provider = OllamaProvider(server.url)
    cancel = CancelToken()
    cancelled_at: list[float] = []

    def later() -> None:
        time.sleep(0.5)
        cancelled_at.append(time.monotonic())
        cancel.cancel()

    threading.Thread(target=later, daemon=True).start()
    with pytest.raises(Cancelled):
        for _ in provider.stream_turn(_request(), cancel):
            pass
    assert time.monotonic() - cancelled_at[0] < 1.0


def test_deadline_raises_timeout(server: FakeOllama) -> None:
    server.fail_next("endless")
    with pytest.raises(TimeoutError):
        for _ in OllamaProvider(server.url).stream_turn(_request(), CancelToken(), deadline=time.monotonic() + 0.4):
            pass
