"""The OpenAI-compatible provider: a real httpx client against the fake llama.cpp/vLLM server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator

import httpx
import pytest

from app.core.cancel import Cancelled, CancelToken
from app.core.chat import (
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
from app.core.providers.openai_compat import OpenAICompatProvider
from app.core.providers.sse import StreamFold, ToolCallAssembler, iter_events
from tests.fakes.fake_openai import FakeOpenAI, FakeReply

WEATHER = ToolSpec("get_weather", "Weather for a city", {"type": "object", "properties": {"city": {"type": "string"}}})
PARIS, LYON = {"city": "Paris", "units": "metric"}, {"city": "Lyon, France", "days": [1, 2]}


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(("smollm2", "qwen")) as fake:
        yield fake


@pytest.fixture
def provider(server: FakeOpenAI) -> Iterator[OpenAICompatProvider]:
    client = OpenAICompatProvider(server.url)
    yield client
    client.close()


def _request(model: str = "qwen", *, tools: bool = True, **settings: object) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=(Message(role="user", content="Weather in Paris?"),),
        tools=(WEATHER,) if tools else (),
        tool_choice="required",
        settings=GenerationSettings(**settings),  # type: ignore[arg-type]
    )


def _run(provider: OpenAICompatProvider, request: ChatRequest | None = None) -> list[StreamChunk]:
    return list(provider.stream_turn(request or _request(), CancelToken()))


def _text(chunks: list[StreamChunk], thinking: bool = False) -> str:
    return "".join(c.text for c in chunks if isinstance(c, TextChunk) and c.thinking is thinking)


def _calls(chunks: list[StreamChunk]) -> list[ToolCall]:
    return [call for c in chunks if isinstance(c, NativeCallsChunk) for call in c.calls]


def _done(chunks: list[StreamChunk]) -> TurnDone:
    assert isinstance(chunks[-1], TurnDone)
    return chunks[-1]


# ---- discovery ----------------------------------------------------------------------


def test_discovery_reads_llamacpp_meta_and_props(provider: OpenAICompatProvider) -> None:
    status = provider.discover()
    assert status.reachable and [m.name for m in status.models] == ["smollm2", "qwen"]
    model = status.models[0]
    assert (model.parameter_size, model.size_bytes, model.context_length) == ("135M", 270_900_000, 8192)
    assert model.loaded and model.capabilities == frozenset()  # /props speaks for one model only


def test_single_model_server_adds_props_context_caps_and_build() -> None:
    with FakeOpenAI(("smollm2",), n_ctx=2048) as fake:
        status = OpenAICompatProvider(fake.url).discover()
    (model,) = status.models
    assert model.context_length == 2048 and model.capabilities == {"tools"} and status.version == "b6000-fake"


def test_vllm_listing_gives_max_model_len() -> None:
    with FakeOpenAI(("Qwen/Qwen3-8B",), n_ctx=32768, flavour="vllm") as fake:
        (model,) = OpenAICompatProvider(fake.url).discover().models
    assert (model.context_length, model.parameter_size, model.loaded) == (32768, None, True)


def test_host_down_is_one_line_naming_the_url() -> None:
    status = OpenAICompatProvider("http://127.0.0.1:9/v1", connect_timeout_s=1).discover()
    assert not status.reachable and status.error is not None
    assert "http://127.0.0.1:9/v1" in status.error and "\n" not in status.error


def test_wrong_base_url_says_so(server: FakeOpenAI) -> None:
    status = OpenAICompatProvider(server.url.removesuffix("/v1") + "/api").discover()
    assert not status.reachable and "/v1" in (status.error or "")


# ---- streamed text ------------------------------------------------------------------


def test_streamed_text_and_thinking_join(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    server.script("qwen", FakeReply(reasoning="The user wants weather.", content="It is sunny in Paris today.", chunk_size=3))
    chunks = _run(provider, _request(tools=False))
    assert _text(chunks) == "It is sunny in Paris today."
    assert _text(chunks, thinking=True) == "The user wants weather."
    assert sum(isinstance(c, TextChunk) for c in chunks) > 10 and not _calls(chunks)
    assert _done(chunks).usage.done_reason == "stop"


def test_vllm_reasoning_field_and_client_side_speed() -> None:
    with FakeOpenAI(("qwen",), flavour="vllm") as fake:
        fake.script("qwen", FakeReply(reasoning="hm", content="x" * 40, chunk_size=2, delay_s=0.005, completion_tokens=20))
        chunks = _run(OpenAICompatProvider(fake.url))
    usage = _done(chunks).usage
    assert _text(chunks, thinking=True) == "hm" and usage.completion_tokens == 20
    assert usage.tokens_per_s is not None and 20 < usage.tokens_per_s < 1000 and usage.prompt_eval_s is None


def test_llamacpp_timings_give_speed_and_prompt_time() -> None:
    with FakeOpenAI(("qwen",), tokens_per_s=42.5) as fake:
        fake.script("qwen", FakeReply(content="Hello there.", completion_tokens=7))
        usage = _done(_run(OpenAICompatProvider(fake.url))).usage
    assert usage.tokens_per_s == 42.5 and usage.completion_tokens == 7 and usage.prompt_tokens > 0
    assert usage.prompt_eval_s == pytest.approx(usage.prompt_tokens * 0.5 / 1000)
    assert usage.time_to_first_token_s is not None and usage.time_to_first_token_s < 1


def test_length_finish_is_reported(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    server.script("qwen", FakeReply(content="banana " * 5, finish_reason="length"))
    assert _done(_run(provider)).usage.done_reason == "length"


# ---- tool calls ---------------------------------------------------------------------


def test_fragments_over_two_indices_assemble_into_two_calls(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    reply = FakeReply(content="Checking.", tool_calls=[("get_weather", PARIS), ("get_weather", LYON)],
                      chunk_size=3, interleave_calls=True)
    server.script("qwen", reply)
    events = server.events(_request_body(), reply)
    fragments = [e for e in events if isinstance(e, dict) and "tool_calls" in (e.get("choices") or [{}])[0].get("delta", {})]
    assert len(fragments) > 20  # really streamed in pieces, the two calls interleaved
    chunks = _run(provider)
    calls = _calls(chunks)
    assert [(c.id, c.name, c.arguments) for c in calls] == [("call_0", "get_weather", PARIS), ("call_1", "get_weather", LYON)]
    assert _done(chunks).usage.done_reason == "tool_calls" and _text(chunks) == "Checking."


def test_whole_arguments_in_one_delta(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    server.script("qwen", FakeReply(tool_calls=[("get_weather", PARIS)], fragment_args=False))
    assert [c.arguments for c in _calls(_run(provider))] == [PARIS]


def test_unreadable_arguments_arrive_as_unreadable_calls(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    server.script("qwen", FakeReply(tool_calls=[("get_weather", PARIS), ("get_weather", '{"city": "Par')]))
    chunks = _run(provider)
    assert [c.arguments for c in _calls(chunks)] == [PARIS]
    [unreadable] = [u for c in chunks if isinstance(c, NativeCallsChunk) for u in c.unreadable]
    assert unreadable.name == "get_weather" and unreadable.arguments == '{"city": "Par'
    assert "<tool_call>" not in _text(chunks)  # never passed off as text the model wrote


def test_template_without_tools_answers_prose(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    server.drop_tools.add("smollm2")
    server.script("smollm2", FakeReply(tool_calls=[("get_weather", PARIS)]))
    chunks = _run(provider, _request("smollm2"))
    assert not _calls(chunks) and "sunny" in _text(chunks)
    assert server.requests[-1]["tools"]  # the tools were sent; the server ignored them


# ---- the request --------------------------------------------------------------------


def _request_body() -> dict[str, object]:
    return {"model": "qwen", "messages": [], "stream_options": {"include_usage": True}}


def test_request_body(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    call = ToolCall("call_7", "get_weather", PARIS)
    history = (
        Message(role="system", content="Use tools."),
        Message(role="user", content="Weather?"),
        Message(role="assistant", content="", tool_calls=(call,)),
        Message(role="tool", content="18 C", tool_call_id="call_7", tool_name="get_weather"),
    )
    settings = GenerationSettings(temperature=0.1, seed=3, max_tokens=128, num_ctx=4096, think=False)
    _run(provider, ChatRequest("qwen", history, tools=(WEATHER,), tool_choice="required", settings=settings))
    body = server.requests[-1]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["tools"] == [WEATHER.to_openai()] and body["tool_choice"] == "required"
    assert body["parallel_tool_calls"] is True
    assert (body["temperature"], body["seed"], body["max_tokens"]) == (0.1, 3, 128)
    assert body["chat_template_kwargs"] == {"enable_thinking": False} and "num_ctx" not in body
    assistant, tool = body["messages"][2], body["messages"][3]
    assert assistant["tool_calls"] == [
        {"id": "call_7", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris", "units": "metric"}'}}
    ]
    assert tool == {"role": "tool", "content": "18 C", "tool_call_id": "call_7", "name": "get_weather"}


def test_no_tools_and_no_settings_send_nothing_extra(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    _run(provider, _request(tools=False))
    body = server.requests[-1]
    assert not {"tools", "tool_choice", "parallel_tool_calls", "temperature", "seed", "max_tokens",
                "chat_template_kwargs"} & set(body)


def test_api_key(server: FakeOpenAI) -> None:
    server.api_key = "sekret"
    anonymous, keyed = OpenAICompatProvider(server.url), OpenAICompatProvider(server.url, api_key="sekret")
    assert anonymous.discover().reachable  # llama.cpp keeps /v1/models public
    with pytest.raises(ProviderError) as caught:
        _run(anonymous)
    assert caught.value.status == 401 and not caught.value.retryable and "API key" in caught.value.message
    assert isinstance(_run(keyed)[-1], TurnDone)


# ---- failures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "retryable", "status"),
    [
        ("http_500", True, 500),
        ("loading", True, 503),
        ("unknown_model", False, 404),
        ("context_overflow", False, 400),
        ("error_mid_stream", True, 500),
        ("drop", True, None),
        ("reset", True, None),
    ],
)
def test_faults(server: FakeOpenAI, provider: OpenAICompatProvider, fault: str, retryable: bool, status: int | None) -> None:
    server.script("qwen", FakeReply(content="a long answer that will be cut short"))
    server.fail_next(fault)
    with pytest.raises(ProviderError) as caught:
        _run(provider)
    assert (caught.value.retryable, caught.value.status) == (retryable, status)
    assert server.url in caught.value.message and "\n" not in caught.value.message


def test_stream_ending_with_finish_reason_but_no_done_is_complete(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    server.fail_next("no_done")
    assert "sunny" in _text(_run(provider))


def test_server_that_ignores_stream_still_gives_the_turn(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    server.script("qwen", FakeReply(content="Checking.", reasoning="hm", tool_calls=[("get_weather", PARIS)]))
    server.fail_next("no_stream")
    chunks = _run(provider)
    assert (_text(chunks), _text(chunks, thinking=True)) == ("Checking.", "hm")
    assert [c.arguments for c in _calls(chunks)] == [PARIS] and _done(chunks).usage.tokens_per_s == 100.0


def test_unknown_model_in_vllm_flat_error_shape() -> None:
    with FakeOpenAI(("qwen",), flavour="vllm") as fake, pytest.raises(ProviderError) as caught:
        _run(OpenAICompatProvider(fake.url), _request("llama"))
    assert "does not exist" in caught.value.message and not caught.value.retryable


def test_connection_refused_is_retryable() -> None:
    with pytest.raises(ProviderError) as caught:
        _run(OpenAICompatProvider("http://127.0.0.1:9/v1", connect_timeout_s=1))
    assert caught.value.retryable and "could not connect" in caught.value.message


def test_silent_server_hits_the_read_timeout(server: FakeOpenAI) -> None:
    server.fail_next("slow")
    with pytest.raises(ProviderError) as caught:
        _run(OpenAICompatProvider(server.url, timeout_s=0.3))
    assert caught.value.retryable and "sent nothing for 0.3 s" in caught.value.message


# ---- cancellation -------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["slow", "endless"])
def test_cancel_takes_effect_within_a_second(server: FakeOpenAI, provider: OpenAICompatProvider, fault: str) -> None:
    server.script("qwen", FakeReply(content="x" * 200))
    server.fail_next(fault)
    cancel = CancelToken()
    at: list[float] = []

    def cancel_now() -> None:
        at.append(time.monotonic())
        cancel.cancel()

    threading.Timer(0.3, cancel_now).start()
    with pytest.raises(Cancelled):
        for _ in provider.stream_turn(_request(), cancel):
            pass
    assert time.monotonic() - at[0] < 1.0
    _wait_until(lambda: server.open_streams == 0, 3.0)  # the response was closed, not leaked


def test_abandoned_stream_closes_its_response(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    server.fail_next("endless")
    stream = provider.stream_turn(_request(), CancelToken())
    assert isinstance(stream, Generator)
    for _ in range(3):
        next(stream)
    assert server.open_streams == 1
    stream.close()
    _wait_until(lambda: server.open_streams == 0, 2.0)


def test_deadline_raises_timeout(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    server.fail_next("endless")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        for _ in provider.stream_turn(_request(), CancelToken(), deadline=started + 0.3):
            pass
    assert time.monotonic() - started < 1.3


def _wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    limit = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < limit, "the server-side stream is still open"
        time.sleep(0.02)


# ---- the fake's non-streamed answer, and the SSE reader on its own ----------------------


def test_fake_answers_without_streaming(server: FakeOpenAI) -> None:
    server.script("qwen", FakeReply(tool_calls=[("get_weather", PARIS)]))
    answer = httpx.post(f"{server.url}/chat/completions", json={"model": "qwen", "messages": []}).json()
    (choice,) = answer["choices"]
    assert choice["finish_reason"] == "tool_calls" and "timings" in answer
    assert choice["message"]["tool_calls"][0]["function"]["arguments"] == '{"city": "Paris", "units": "metric"}'


def test_fake_responder(server: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    server.respond("qwen", lambda body: FakeReply(content=f"{len(body['messages'])} message(s)"))
    assert _text(_run(provider)) == "1 message(s)"


def test_sse_framing_skips_comments_and_joins_data_lines() -> None:
    lines = [": ping", "", "event: error", 'data: {"a":', "data: 1}", "", "data:[DONE]", ""]
    assert [(e.event, e.data) for e in iter_events(lines)] == [("error", '{"a":\n1}'), ("message", "[DONE]")]


def test_both_reasoning_fields_count_once() -> None:
    fold = StreamFold()
    chunks = fold.feed({"choices": [{"index": 0, "delta": {"reasoning": "hm", "reasoning_content": "hm"}}]})
    assert chunks == [TextChunk("hm", thinking=True)]


def test_assembler_splits_reused_index_and_ignores_repeated_names() -> None:
    calls = ToolCallAssembler()
    for fragment in (
        {"index": 0, "id": "a", "function": {"name": "get_weather", "arguments": '{"city":'}},
        {"index": 0, "function": {"name": "get_weather", "arguments": ' "Paris"}'}},
        {"index": 0, "id": "b", "function": {"name": "get_weather", "arguments": {"city": "Lyon"}}},
    ):
        calls.add(fragment)
    built, unreadable = calls.finish()
    assert [(c.id, c.name, c.arguments) for c in built] == [
        ("a", "get_weather", {"city": "Paris"}),
        ("b", "get_weather", {"city": "Lyon"}),
    ]
    assert unreadable == []


# ---- the key never leaves in a reply ---------------------------------------------------

KEY = "sk-live-4f8a1c2e9b7d6a5f3e2d1c0b"


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 50])
def test_a_key_echoed_in_the_reply_is_removed_wherever_it_falls(chunk_size: int) -> None:
    """A server that repeats its key in text, thinking or call arguments (split over any
    number of stream pieces) never gets it into what the harness reads and stores."""
    with FakeOpenAI(("qwen",), api_key=KEY) as fake:
        fake.respond("qwen", lambda body: FakeReply(
            content=f"Your key is {KEY}, keep it safe. Masked: {KEY[:6]}***{KEY[-4:]} done.",
            reasoning=f"I was called with {KEY}.",
            tool_calls=[("get_weather", {"city": f"Paris {KEY}", "notes": [KEY, {"k": KEY}]})],
            chunk_size=chunk_size,
        ))
        client = OpenAICompatProvider(fake.url, api_key=KEY)
        try:
            chunks = _run(client)
        finally:
            client.close()
    everything = _text(chunks) + _text(chunks, thinking=True) + repr(_calls(chunks))
    assert KEY not in everything and KEY[:6] not in everything and KEY[-4:] not in everything
    assert _text(chunks) == "Your key is [key], keep it safe. Masked: [key] done."
    assert _text(chunks, thinking=True) == "I was called with [key]."
    assert _calls(chunks)[0].arguments == {"city": "Paris [key]", "notes": ["[key]", {"k": "[key]"}]}


def test_a_long_reply_without_spaces_is_scanned_once() -> None:
    """Removing the key from megabytes of text with no spaces (a flood, a huge argument)
    takes one pass, not one per character."""
    from app.core.secrets import redact

    flood = "x" * 5_000_000
    assert redact(flood, KEY) == flood
    assert redact(flood + KEY[-4:], KEY) == "[key]"
