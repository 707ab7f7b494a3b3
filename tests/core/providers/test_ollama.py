"""The Ollama provider: the real ``ollama`` client against the fake server on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.core.cancel import Cancelled, CancelToken
from app.core.chat import (
    CallSource,
    ChatRequest,
    GenerationSettings,
    Message,
    NativeCallsChunk,
    StreamChunk,
    TextChunk,
    ToolCall,
    ToolSpec,
    TurnDone,
)
from app.core.providers.base import ProviderError
from app.core.providers.ollama import OllamaProvider
from tests.fakes.fake_ollama import BUSY, LOAD_FAILURE, MID_STREAM, FakeModel, FakeOllama, FakeReply

pytestmark = pytest.mark.timeout(30)

WEATHER = ToolSpec(
    "get_weather",
    "Weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = ToolSpec(
    "get_time",
    "Local time in a city",
    {"type": "object", "properties": {"city": {"type": "string"}}},
)


@pytest.fixture
def server() -> Iterator[FakeOllama]:
    models = [
        FakeModel("llama3.2:3b"),
        FakeModel(
            "qwen3:4b",
            family="qwen3",
            parameter_size="4.0B",
            quantization="Q4_K_M",
            context_length=40960,
            capabilities=("completion", "tools", "thinking"),
        ),
        FakeModel(
            "gemma3:4b",
            family="gemma3",
            parameter_size="4.3B",
            capabilities=("completion", "vision"),
        ),
    ]
    with FakeOllama(models) as fake:
        yield fake


@pytest.fixture
def provider(server: FakeOllama) -> Iterator[OllamaProvider]:
    provider = OllamaProvider(server.url)
    yield provider
    provider.close()


def _request(
    model: str = "llama3.2:3b", tools: tuple[ToolSpec, ...] = (WEATHER,), **settings: object
) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=(
            Message(role="system", content="be brief"),
            Message(role="user", content="Weather in Paris?"),
        ),
        tools=tools,
        settings=GenerationSettings(**settings),  # type: ignore[arg-type]
    )


def _collect(provider: OllamaProvider, request: ChatRequest) -> list[StreamChunk]:
    return list(provider.stream_turn(request, CancelToken()))


def _text(chunks: list[StreamChunk], thinking: bool = False) -> str:
    return "".join(c.text for c in chunks if isinstance(c, TextChunk) and c.thinking is thinking)


def _done(chunks: list[StreamChunk]) -> TurnDone:
    assert isinstance(chunks[-1], TurnDone)
    return chunks[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stream_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "provider-stream"}


def _soon(condition: Callable[[], bool], within_s: float = 1.0) -> bool:
    end = time.monotonic() + within_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# ---- discovery ----------------------------------------------------------------------


def test_discovery_reads_version_capabilities_context_and_quantization(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    status = provider.discover()
    assert status.reachable and status.error is None and status.version == "0.12.6"
    models = {m.name: m for m in status.models}
    assert set(models) == {"llama3.2:3b", "qwen3:4b", "gemma3:4b"}
    qwen, gemma, llama = models["qwen3:4b"], models["gemma3:4b"], models["llama3.2:3b"]
    assert qwen.capabilities == {"tools", "thinking"} and gemma.capabilities == {"vision"}
    assert llama.capabilities == {"tools"}  # "completion" is no badge
    assert qwen.context_length == 40960 and llama.context_length == 131_072
    assert (qwen.family, qwen.parameter_size, qwen.quantization) == ("qwen3", "4.0B", "Q4_K_M")
    assert llama.size_bytes == 2_019_393_189 and llama.digest == server.models["llama3.2:3b"].digest
    assert llama.host == server.url and not llama.simulated


def test_loaded_state_follows_the_first_chat(provider: OllamaProvider) -> None:
    assert not any(m.loaded for m in provider.discover().models)
    _collect(provider, _request())
    loaded = {m.name for m in provider.discover().models if m.loaded}
    assert loaded == {"llama3.2:3b"}


def test_one_failing_show_does_not_hide_the_others(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    server.broken_show.add("gemma3:4b")
    models = {m.name: m for m in provider.discover().models}
    assert set(models) == {"llama3.2:3b", "qwen3:4b", "gemma3:4b"}
    assert (
        models["gemma3:4b"].context_length is None and models["gemma3:4b"].quantization == "Q4_K_M"
    )
    assert models["qwen3:4b"].context_length == 40960


def test_host_down_is_one_clear_line() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    status = OllamaProvider(url, connect_timeout_s=1).discover()
    assert not status.reachable and not status.models
    assert (
        status.error
        == f"No Ollama server at {url} (connection refused). Start it with `ollama serve`."
    )


def test_a_host_that_never_answers_times_out_quickly() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        status = OllamaProvider(url, timeout_s=0.5).discover()
    assert time.monotonic() - started < 3
    assert (
        not status.reachable
        and status.error == f"Ollama at {url} took the connection but did not answer in time."
    )


# ---- streaming ----------------------------------------------------------------------


def test_text_arrives_in_several_chunks(server: FakeOllama, provider: OllamaProvider) -> None:
    server.script("llama3.2:3b", FakeReply(content="It is sunny in Paris today.", chunk_size=5))
    chunks = _collect(provider, _request())
    texts = [c for c in chunks if isinstance(c, TextChunk)]
    assert len(texts) == 6 and _text(chunks) == "It is sunny in Paris today."
    assert not any(isinstance(c, NativeCallsChunk) for c in chunks)


def test_thinking_streams_apart_from_the_answer(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    server.script("qwen3:4b", FakeReply(thinking="The user wants weather.", content="Sunny."))
    chunks = _collect(provider, _request("qwen3:4b", think=True))
    assert _text(chunks, thinking=True) == "The user wants weather." and _text(chunks) == "Sunny."
    first_answer = next(
        i for i, c in enumerate(chunks) if isinstance(c, TextChunk) and not c.thinking
    )
    assert all(c.thinking for c in chunks[:first_answer] if isinstance(c, TextChunk))


@pytest.mark.parametrize(("think", "thinks"), [(None, True), (False, False)])
def test_thinking_models_think_by_default_and_can_be_told_not_to(
    server: FakeOllama, provider: OllamaProvider, think: bool | None, thinks: bool
) -> None:
    server.script("qwen3:4b", FakeReply(thinking="hmm", content="Sunny."))
    chunks = _collect(provider, _request("qwen3:4b", think=think))
    assert (_text(chunks, thinking=True) == "hmm") is thinks and _text(chunks) == "Sunny."


def test_native_tool_calls_come_back_with_dict_arguments(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    calls = [("get_weather", {"city": "Paris", "days": 2}), ("get_time", {"city": "Paris"})]
    server.script("llama3.2:3b", FakeReply(content="Checking.", tool_calls=calls))
    chunks = _collect(provider, _request(tools=(WEATHER, TIME)))
    got = [call for c in chunks if isinstance(c, NativeCallsChunk) for call in c.calls]
    assert got == [
        ToolCall("call_0", "get_weather", {"city": "Paris", "days": 2}, CallSource.NATIVE),
        ToolCall("call_1", "get_time", {"city": "Paris"}, CallSource.NATIVE),
    ]
    assert _text(chunks) == "Checking."


def test_settings_tools_and_think_reach_the_server(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    _collect(
        provider,
        _request("qwen3:4b", temperature=0.2, num_ctx=8192, seed=7, think=False, max_tokens=256),
    )
    body = server.requests[-1]
    assert body["options"] == {"temperature": 0.2, "num_ctx": 8192, "seed": 7, "num_predict": 256}
    assert body["think"] is False and body["stream"] is True and body["model"] == "qwen3:4b"
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    ps = httpx.get(f"{server.url}/api/ps").json()["models"]
    assert ps[0]["context_length"] == 8192


def test_unset_settings_send_nothing(server: FakeOllama, provider: OllamaProvider) -> None:
    _collect(provider, _request(tools=()))
    body = server.requests[-1]
    assert "options" not in body and "think" not in body
    assert not body.get("tools")  # the client always sends a list, empty here


def test_a_whole_conversation_goes_back_in_ollama_form(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    request = ChatRequest(
        model="qwen3:4b",
        messages=(
            Message(role="user", content="Weather?"),
            Message(
                role="assistant",
                thinking="Use the tool.",
                tool_calls=(ToolCall("c0", "get_weather", {"city": "Paris"}),),
            ),
            Message(
                role="tool", content='{"temp_c": 14}', tool_call_id="c0", tool_name="get_weather"
            ),
        ),
        tools=(WEATHER,),
    )
    _collect(provider, request)
    sent = server.requests[-1]["messages"]
    assert sent[1]["tool_calls"] == [
        {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
    ]
    assert sent[1]["thinking"] == "Use the tool." and sent[1]["role"] == "assistant"
    assert sent[2] == {"role": "tool", "content": '{"temp_c": 14}', "tool_name": "get_weather"}


def test_usage_and_timings_come_from_the_final_chunk(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    reply = FakeReply(content="Sunny and mild.", eval_count=100, prompt_eval_count=300)
    server.script("llama3.2:3b", reply, reply)
    started = time.perf_counter()
    cold = _done(_collect(provider, _request())).usage
    elapsed = time.perf_counter() - started
    warm = _done(_collect(provider, _request())).usage
    assert (cold.prompt_tokens, cold.completion_tokens) == (300, 100)
    assert cold.tokens_per_s == pytest.approx(50.0) and cold.prompt_eval_s == pytest.approx(0.3)
    assert cold.load_s == pytest.approx(1.25) and warm.load_s == pytest.approx(0.04)
    assert cold.done_reason == "stop"
    assert cold.time_to_first_token_s is not None and 0 < cold.time_to_first_token_s < elapsed


def test_the_token_cap_ends_the_turn_with_length(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    server.script("llama3.2:3b", FakeReply(content="word " * 50, chunk_size=5))
    chunks = _collect(provider, _request(max_tokens=3))
    assert _text(chunks) == "word " * 3
    assert (
        _done(chunks).usage.done_reason == "length" and _done(chunks).usage.completion_tokens == 3
    )


# ---- faults -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fault", "think", "retryable", "status", "words"),
    [
        ("nope:1b", None, None, False, 404, "model 'nope:1b' not found"),
        (
            "llama3.2:3b",
            "unknown_model",
            None,
            False,
            404,
            "Pull it with `ollama pull llama3.2:3b`",
        ),
        (
            "gemma3:4b",
            None,
            None,
            False,
            400,
            "registry.ollama.ai/library/gemma3:4b does not support tools",
        ),
        ("llama3.2:3b", "no_tools", None, False, 400, "prompted tool mode"),
        ("llama3.2:3b", None, True, False, 400, '"llama3.2:3b" does not support thinking'),
        ("qwen3:4b", "no_thinking", True, False, 400, '"qwen3:4b" does not support thinking'),
        ("llama3.2:3b", "load_failure", None, True, 500, LOAD_FAILURE),
        ("llama3.2:3b", "out_of_memory", None, True, 500, "more system memory"),
        ("llama3.2:3b", "busy", None, True, 503, BUSY),
        ("llama3.2:3b", "error_mid_stream", None, True, None, MID_STREAM),
        ("llama3.2:3b", "drop", None, True, None, "broke mid-answer"),
        ("llama3.2:3b", "no_done", None, True, None, "no final chunk"),
    ],
)
def test_faults_become_provider_errors(
    server: FakeOllama,
    provider: OllamaProvider,
    model: str,
    fault: str | None,
    think: bool | None,
    retryable: bool,
    status: int | None,
    words: str,
) -> None:
    server.script(model, FakeReply(content="a long enough answer to be cut short"))
    if fault:
        server.fail_next(fault, model=model)  # type: ignore[arg-type]
    with pytest.raises(ProviderError) as caught:
        _collect(provider, _request(model, think=think))
    assert caught.value.retryable is retryable and caught.value.status == status
    assert words in caught.value.message
    assert _collect(provider, _request("llama3.2:3b", tools=()))  # the next turn is fine


def test_text_before_a_mid_stream_error_is_still_delivered(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    server.script("llama3.2:3b", FakeReply(content="abcdefghijklmnop"))
    server.fail_next("error_mid_stream")
    got: list[StreamChunk] = []
    with pytest.raises(ProviderError, match="mid-answer"):
        got.extend(provider.stream_turn(_request(), CancelToken()))
    assert _text(got) == "abcdefgh"


def test_a_dead_server_mid_run_is_unreachable(server: FakeOllama, provider: OllamaProvider) -> None:
    _collect(provider, _request())
    server.stop()
    with pytest.raises(ProviderError, match="No Ollama server") as caught:
        _collect(provider, _request())
    assert caught.value.retryable


# ---- cancellation, deadlines, close -------------------------------------------------


@pytest.mark.parametrize("fault", ["slow", "endless"])
def test_cancel_mid_stream_takes_effect_within_a_second(
    server: FakeOllama, provider: OllamaProvider, fault: str
) -> None:
    server.script("llama3.2:3b", FakeReply(content="x" * 400))
    server.fail_next(fault)  # type: ignore[arg-type]
    cancel = CancelToken()
    cancelled_at: list[float] = []

    def later() -> None:
        time.sleep(0.5)
        cancelled_at.append(time.monotonic())
        cancel.cancel()

    threading.Thread(target=later, daemon=True).start()
    before = _stream_threads()
    with pytest.raises(Cancelled):
        for _ in provider.stream_turn(_request(), cancel):
            pass
    assert time.monotonic() - cancelled_at[0] < 1.0
    assert _soon(lambda: _stream_threads() <= before), "the abandoned stream is still being read"


def test_cancel_while_the_server_is_silent_releases_the_reader(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    server.slow_delay_s = 10.0  # no headers and no chunk for ten seconds
    server.fail_next("slow")
    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel).start()
    before = _stream_threads()
    with pytest.raises(Cancelled):
        list(provider.stream_turn(_request(), cancel))
    assert _soon(lambda: _stream_threads() <= before), "the abandoned stream is still being read"


def test_deadline_raises_timeout(server: FakeOllama, provider: OllamaProvider) -> None:
    server.fail_next("endless")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        list(provider.stream_turn(_request(), CancelToken(), deadline=started + 0.4))
    assert time.monotonic() - started < 1.4


def test_close_cuts_a_stream_read_directly(server: FakeOllama, provider: OllamaProvider) -> None:
    server.fail_next("endless")
    errors: list[BaseException] = []

    def read() -> None:
        try:
            list(provider._stream(_request()))
        except BaseException as error:
            errors.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.3)
    provider.close()
    reader.join(timeout=1.0)
    assert not reader.is_alive() and isinstance(errors[0], ProviderError) and errors[0].retryable


# ---- the fake itself speaks Ollama --------------------------------------------------


def test_fake_streams_ndjson_shaped_like_the_real_server(server: FakeOllama) -> None:
    server.script(
        "llama3.2:3b", FakeReply(content="Hi there", tool_calls=[("get_weather", {"city": "Oslo"})])
    )
    body = {
        "model": "llama3.2:3b",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [WEATHER.to_openai()],
    }
    with httpx.stream("POST", f"{server.url}/api/chat", json=body) as response:
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in response.iter_lines()]
    assert list(lines[0]) == ["model", "created_at", "message", "done"]
    assert (
        lines[0]["message"] == {"role": "assistant", "content": "Hi t"}
        and lines[0]["done"] is False
    )
    assert lines[2]["message"]["tool_calls"] == [
        {"function": {"index": 0, "name": "get_weather", "arguments": {"city": "Oslo"}}}
    ]
    final = lines[-1]
    assert (
        final["done"] is True
        and final["done_reason"] == "stop"
        and final["message"]["content"] == ""
    )
    assert {
        "total_duration",
        "load_duration",
        "prompt_eval_count",
        "eval_count",
        "eval_duration",
    } <= set(final)


def test_fake_answers_whole_replies_and_plain_endpoints(server: FakeOllama) -> None:
    body = {
        "model": "llama3.2:3b",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
    }
    with httpx.Client(base_url=server.url) as http:
        whole = http.post("/api/chat", json=body).json()
        assert whole["message"]["content"] == "Hello from the fake model." and whole["done"] is True
        assert http.get("/").text == "Ollama is running" and http.head("/").status_code == 200
        assert (
            http.get("/api/nothing").status_code == 404 and http.get("/api/chat").status_code == 405
        )
        missing = http.post("/api/show", json={"model": "nope"})
    assert missing.status_code == 404 and missing.json() == {"error": "model 'nope' not found"}
    assert ("POST", "/api/show") in server.log


def test_fake_faults_can_target_one_model(server: FakeOllama, provider: OllamaProvider) -> None:
    server.fail_next("load_failure", model="qwen3:4b")
    assert _collect(provider, _request("llama3.2:3b"))
    with pytest.raises(ProviderError, match="llama runner"):
        _collect(provider, _request("qwen3:4b"))


def test_fake_responder_sees_the_request(server: FakeOllama, provider: OllamaProvider) -> None:
    server.responder = lambda body: FakeReply(content=f"{len(body['messages'])} messages")
    assert _text(_collect(provider, _request())) == "2 messages"


def test_call_arguments_nested_past_reading_are_the_models_malformed_call(tmp_path: Path) -> None:
    """A reply whose call arguments nest 100,000 deep cannot be read by the client; that is
    a malformed call of the model, not a server fault to retry or a crash of ours."""
    from app.core.cancel import CancelToken
    from app.core.config import AppSettings, HostConfig
    from app.core.engine import Engine
    from app.core.outcomes import Outcome
    from tests.fakes.fake_ollama import FakeModel, FakeOllama, FakeReply, RawJson

    deep = RawJson("[" * 100_000 + "]" * 100_000)
    with FakeOllama([FakeModel("llama3.2:3b")]) as fake:
        def reply(body: dict[str, object]) -> FakeReply:
            if len(body["messages"]) <= 2:  # type: ignore[arg-type]
                return FakeReply(tool_calls=[("get_weather", {"city": deep})])
            return FakeReply(content="I could not get the weather.")

        fake.responder = reply
        hosts = [HostConfig(kind="ollama", url=fake.url)]
        with Engine(db_path=tmp_path / "deep.db", settings=AppSettings(hosts=hosts)) as engine:
            task = engine.catalog.task("readiness.single-tool.weather")
            plan = engine.plan([engine.parse_model(f"{fake.url}/llama3.2:3b")], [task], repeats=1)
            engine.execute(plan, CancelToken())
            [attempt] = engine.repository.attempts(plan.run_id)
    assert attempt.outcome is Outcome.MALFORMED_CALL, attempt.detail
    assert attempt.calls_rejected == 1 and attempt.infra_retries == 0
