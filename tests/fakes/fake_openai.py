"""A fake OpenAI-compatible server on 127.0.0.1 that streams like llama.cpp (or vLLM).

As llama.cpp's ``tools/server`` does: a first delta ``{"role": "assistant", "content":
null}``; tool calls by ``index`` (id, type, name once, then ``arguments`` pieces); an
empty-delta finish chunk; a ``choices: []`` usage chunk if ``include_usage``; ``timings``
on the last chunk; ``data: [DONE]``. Errors are ``{"error": {code, message, type}}``, one
mid-stream is a ``data: {"error": ...}`` event and no ``[DONE]``. With ``api_key`` only
``/health`` and ``/v1/models`` stay public. ``flavour="vllm"``: no timings, meta or
``/props``; thinking in ``reasoning``; ``max_model_len``; vLLM's flat error object.
``flavour="openai"``: OpenAI's own API: no timings, meta or ``/props``; ``/v1/models`` needs
the key too; a wrong key gets OpenAI's 401 ``invalid_api_key`` (which echoes the key's
first and last characters); faults ``rate_limit`` and ``insufficient_quota`` are its 429s.
Every request's headers are kept in ``headers_seen``.

The context, as llama.cpp's server enforces it (``n_ctx`` per slot): a prompt larger than
``n_ctx`` is refused with HTTP 400 ``exceed_context_size_error`` (``n_prompt_tokens``,
``n_ctx``; fault ``context_overflow`` forces it); older builds' HTTP 500 ``Context size has
been exceeded.`` before the stream (``context_exceeded``) or as an error event in it
(``context_exceeded_mid_stream``); and a reply that fills the context ends with
``finish_reason: "length"`` at prompt + reply = ``n_ctx`` (``context_full``: text that never
repeats; ``context_full_repeating``: one sentence over and over, as a small model does).
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

ENDLESS_CAP_S = 60.0
SLOW_DELAY_S = 0.6
CUT_AFTER = 3  # events sent before a cut-short fault strikes
FAULTS = frozenset({"http_500", "loading", "unknown_model", "context_overflow", "error_mid_stream", "slow",
                    "endless", "drop", "reset", "no_done", "no_stream", "rate_limit", "insufficient_quota",
                    "context_exceeded", "context_exceeded_mid_stream", "context_full", "context_full_repeating"})
REPEATED_SENTENCE = "I am sorry, but I cannot help with that request. "  # a 135M model's endless reply
DEFAULT_TEXT = "The weather in Paris is mostly sunny."

Event = dict[str, Any] | str


@dataclass
class FakeReply:
    """One scripted assistant turn; ``tool_calls`` arguments may be a raw (broken) JSON string."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    chunk_size: int = 4
    delay_s: float = 0.0
    finish_reason: str | None = None  # None: "tool_calls" when there are calls, else "stop"
    fragment_args: bool = True  # split each argument string over several deltas
    interleave_calls: bool = False  # send the fragments of all calls round-robin
    completion_tokens: int | None = None


Responder = Callable[[dict[str, Any]], FakeReply]


class FakeOpenAI:
    """ThreadingHTTPServer in a daemon thread; a context manager; ``url`` ends in ``/v1``."""

    def __init__(
        self,
        models: tuple[str, ...] = ("smollm2",),
        *,
        n_ctx: int = 8192,
        api_key: str | None = None,
        drop_tools: tuple[str, ...] = (),
        flavour: Literal["llamacpp", "vllm", "openai"] = "llamacpp",
        tokens_per_s: float = 100.0,
    ) -> None:
        self.models = models
        self.n_ctx = n_ctx
        self.api_key = api_key
        self.drop_tools: set[str] = set(drop_tools)
        self.flavour = flavour
        self.tokens_per_s = tokens_per_s
        self.requests: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []  # every request's headers, names lower-case
        self.open_streams = 0  # streams whose client has not gone yet
        self.tool_support = True  # what /props reports in chat_template_caps
        self._scripts: dict[str, deque[FakeReply]] = defaultdict(deque)
        self._responders: dict[str, Responder] = {}
        self._faults: deque[str] = deque()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-openai", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving; streams still open end at their next event."""
        if not self._stopping.is_set():
            self._stopping.set()
            self._server.shutdown()
            self._server.server_close()

    # ---- scripting ----------------------------------------------------------------

    def script(self, model: str, *replies: FakeReply) -> None:
        """Queue replies for ``model``; each request takes the next one."""
        self._scripts[model].extend(replies)

    def respond(self, model: str, responder: Responder) -> None:
        """Answer ``model``'s requests with ``responder(body)`` once its script is used up."""
        self._responders[model] = responder

    def fail_next(self, fault: str, times: int = 1) -> None:
        """Make the next chat request(s) fail; see ``FAULTS``."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        self._faults.extend([fault] * times)

    def _next_reply(self, model: str, body: dict[str, Any]) -> FakeReply:
        if self._scripts[model]:
            reply = self._scripts[model].popleft()
        elif model in self._responders:
            reply = self._responders[model](body)
        else:
            reply = FakeReply(content=DEFAULT_TEXT)
        if model in self.drop_tools:  # the template never showed the tools: prose only
            reply = FakeReply(content=reply.content or DEFAULT_TEXT, chunk_size=reply.chunk_size)
        return reply

    def count_stream(self, change: int) -> None:
        """Track open streams, so tests can see a cancelled one really closed."""
        with self._lock:
            self.open_streams += change

    def _next_fault(self) -> str | None:
        return self._faults.popleft() if self._faults else None

    # ---- what the endpoints answer -------------------------------------------------

    def models_listing(self) -> dict[str, Any]:
        """``GET /v1/models``: llama.cpp adds ``meta``, vLLM ``max_model_len``."""
        return {"object": "list", "data": [self._model_card(name) for name in self.models]}

    def _model_card(self, name: str) -> dict[str, Any]:
        card: dict[str, Any] = {"id": name, "object": "model", "created": 1735142223}
        if self.flavour == "vllm":
            return card | {"owned_by": "vllm", "root": name, "parent": None, "max_model_len": self.n_ctx}
        if self.flavour == "openai":
            return card | {"owned_by": "system"}
        meta = {"vocab_type": 2, "n_vocab": 49152, "n_ctx_train": 8192, "n_embd": 576,
                "n_params": 134_515_008, "size": 270_900_000}
        return card | {"owned_by": "llamacpp", "meta": meta}

    def props(self) -> dict[str, Any]:
        """llama.cpp's ``GET /props``: running context, template caps, build."""
        caps = {"supports_tools": self.tool_support, "supports_tool_calls": self.tool_support,
                "supports_system_role": True, "supports_parallel_tool_calls": self.tool_support}
        return {"default_generation_settings": {"id": 0, "n_ctx": self.n_ctx, "params": {"n_predict": -1}},
                "total_slots": 1, "model_path": f"/models/{self.models[0]}.gguf", "chat_template": "{{ messages }}",
                "chat_template_caps": caps, "modalities": {"vision": False}, "build_info": "b6000-fake"}

    def error_for(self, fault: str | None, model: str, prompt: int | None = None) -> tuple[int, dict[str, Any]] | None:
        """The HTTP error a chat request gets before any streaming, if any."""
        if fault == "unknown_model" or model not in self.models:
            return 404, self._unknown_model(model)
        if fault == "http_500":
            return 500, _error(500, "failed to decode the batch: out of memory", "server_error")
        if fault == "loading":
            return 503, _error(503, "Loading model", "unavailable_error")
        if fault == "rate_limit":
            message = (f"Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, "
                       "Requested 1. Please try again in 20s.")
            return 429, {"error": {"message": message, "type": "requests", "param": None, "code": "rate_limit_exceeded"}}
        if fault == "insufficient_quota":
            message = ("You exceeded your current quota, please check your plan and billing details.")
            return 429, {"error": {"message": message, "type": "insufficient_quota", "param": None,
                                   "code": "insufficient_quota"}}
        if fault == "context_overflow" or (prompt is not None and prompt > self.n_ctx and self.flavour == "llamacpp"):
            n_prompt = prompt if prompt is not None and prompt > self.n_ctx else self.n_ctx + 1
            message = (f"request ({n_prompt} tokens) exceeds the available context size ({self.n_ctx} tokens), "
                       "try increasing it")
            payload = _error(400, message, "exceed_context_size_error")
            payload["error"] |= {"n_prompt_tokens": n_prompt, "n_ctx": self.n_ctx}
            return 400, payload
        if fault == "context_exceeded":
            return 500, _error(500, "Context size has been exceeded.", "server_error")
        return None

    def _unknown_model(self, model: str) -> dict[str, Any]:
        if self.flavour == "vllm":
            return {"object": "error", "message": f"The model `{model}` does not exist.",
                    "type": "NotFoundError", "param": None, "code": 404}
        return {"error": {"message": f"The model `{model}` does not exist", "type": "invalid_request_error",
                          "param": "model", "code": "model_not_found"}}

    # ---- streams ------------------------------------------------------------------

    def events(self, body: dict[str, Any], reply: FakeReply) -> list[Event]:
        """Every SSE payload of one streamed reply, ending with ``[DONE]``."""
        model = body.get("model", "")
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": None}]
        thinking_field = "reasoning" if self.flavour == "vllm" else "reasoning_content"
        deltas += [{thinking_field: piece} for piece in _pieces(reply.reasoning, reply.chunk_size)]
        deltas += [{"content": piece} for piece in _pieces(reply.content, reply.chunk_size)]
        deltas += [{"tool_calls": [fragment]} for fragment in _call_fragments(reply)]
        chunks = [_chunk(model, delta) for delta in deltas]
        chunks.append(_chunk(model, {}, _finish_reason(reply)))
        prompt, completion = _prompt_tokens(body), _completion_tokens(reply)
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"completion_tokens": completion, "prompt_tokens": prompt, "total_tokens": prompt + completion}
            chunks.append(_chunk(model, None) | {"choices": [], "usage": usage})
        if self.flavour == "llamacpp":  # llama.cpp puts timings on the stream's last chunk
            chunks[-1]["timings"] = self._timings(prompt, completion)
        return [*chunks, "[DONE]"]

    def _timings(self, prompt: int, completion: int) -> dict[str, Any]:
        predicted_ms = completion / self.tokens_per_s * 1000
        return {"cache_n": 0, "prompt_n": prompt, "prompt_ms": prompt * 0.5, "prompt_per_token_ms": 0.5,
                "prompt_per_second": 2000.0, "predicted_n": completion, "predicted_ms": predicted_ms,
                "predicted_per_token_ms": predicted_ms / max(completion, 1),
                "predicted_per_second": self.tokens_per_s}

    def completion(self, body: dict[str, Any], reply: FakeReply) -> dict[str, Any]:
        """The non-streamed ``chat.completion`` object for a reply."""
        message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
        if reply.reasoning:
            message["reasoning_content"] = reply.reasoning
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": f"call_{n}", "type": "function", "function": {"name": name, "arguments": _raw(args)}}
                for n, (name, args) in enumerate(reply.tool_calls)
            ]
        prompt, completion = _prompt_tokens(body), _completion_tokens(reply)
        result = {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1735142223, "model": body.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": _finish_reason(reply)}],
            "usage": {"completion_tokens": completion, "prompt_tokens": prompt, "total_tokens": prompt + completion},
        }
        if self.flavour == "llamacpp":
            result["timings"] = self._timings(prompt, completion)
        return result

    def write_stream(self, out: _Chunked, body: dict[str, Any], reply: FakeReply, fault: str | None) -> None:
        """Send a reply's events with its pacing, or the fault that cuts it short."""
        if fault == "endless":
            self._write_endless(out, body.get("model", ""))
            return
        if fault in ("context_full", "context_full_repeating"):
            reply = self.filling_reply(body, repeating=fault == "context_full_repeating", delay_s=reply.delay_s)
        events = self.events(body, reply)
        if fault == "context_exceeded_mid_stream":
            for event in events[:CUT_AFTER]:
                out.event(event)
            out.event(_error(500, "Context size has been exceeded.", "server_error"))
            out.end()
            return
        cut_at = min(CUT_AFTER, len(events) - 3)
        delay = SLOW_DELAY_S if fault == "slow" else reply.delay_s
        for n, event in enumerate(events):
            if n == cut_at and fault in ("error_mid_stream", "drop", "reset"):
                _cut(out, fault)
                return
            if fault == "no_done" and event == "[DONE]":
                break
            if n and delay and self._stopping.wait(delay):
                _cut(out, "reset")
                return
            out.event(event)
        out.end()

    def filling_reply(self, body: dict[str, Any], *, repeating: bool, delay_s: float = 0.0) -> FakeReply:
        """A reply that runs until the context is full: one streamed piece per token, cut
        for ``length`` at prompt + reply = ``n_ctx`` (or at ``max_tokens``, if smaller)."""
        room = max(1, self.n_ctx - _prompt_tokens(body))
        limit = min(room, int(body.get("max_tokens") or room))
        if repeating:
            text = (REPEATED_SENTENCE * (limit * 4 // len(REPEATED_SENTENCE) + 1))[: limit * 4]
            return FakeReply(content=text, chunk_size=4, finish_reason="length", completion_tokens=limit,
                             delay_s=delay_s)
        text = "".join(f"{n:04x} " for n in range(limit))  # never the same passage twice
        return FakeReply(content=text, chunk_size=5, finish_reason="length", completion_tokens=limit, delay_s=delay_s)

    def _write_endless(self, out: _Chunked, model: str) -> None:
        out.event(_chunk(model, {"role": "assistant", "content": None}))
        started = time.monotonic()
        while not self._stopping.wait(0.01) and time.monotonic() - started < ENDLESS_CAP_S:
            out.event(_chunk(model, {"content": "la "}))  # raises once the client has gone
        out.end()


# ---- HTTP plumbing --------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up is normal here (cancel tests); anything else is reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Chunked:
    """Writes SSE events as HTTP/1.1 chunks, the way cpp-httplib streams."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self.handler = handler

    def event(self, payload: Event) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        data = f"data: {text}\n\n".encode()
        self.handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.handler.wfile.flush()

    def end(self) -> None:
        self.handler.wfile.write(b"0\r\n\r\n")
        self.handler.wfile.flush()


def _cut(out: _Chunked, fault: str) -> None:
    if fault == "error_mid_stream":
        out.event(_error(500, "the slot failed while generating", "server_error"))
        out.end()
    elif fault == "drop":  # a clean end of the body, without finish_reason or [DONE]
        out.end()
    else:  # reset: the socket goes away in the middle of the body
        out.handler.close_connection = True
        out.handler.connection.shutdown(socket.SHUT_RDWR)


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            fake.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
            if fake.flavour == "openai" and not self._authorised():
                return
            if path in ("/health", "/v1/health"):
                self._json(200, {"status": "ok"})
            elif path in ("/models", "/v1/models"):
                self._json(200, fake.models_listing())
            elif not self._authorised():
                return
            elif path == "/props" and fake.flavour == "llamacpp":
                self._json(200, fake.props())
            else:
                self._json(404, _error(404, "File Not Found", "not_found_error"))

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            fake.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
            if not self._authorised():
                return
            if self.path.split("?")[0] not in ("/v1/chat/completions", "/chat/completions"):
                self._json(404, _error(404, "File Not Found", "not_found_error"))
                return
            fake.requests.append(body)
            fault, model = fake._next_fault(), str(body.get("model", ""))
            if failure := fake.error_for(fault, model, _prompt_tokens(body)):
                self._json(*failure)
                return
            reply = fake._next_reply(model, body)
            if not body.get("stream") or fault == "no_stream":
                self._json(200, fake.completion(body, reply))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            fake.count_stream(+1)
            try:
                with contextlib.suppress(ConnectionError):
                    fake.write_stream(_Chunked(self), body, reply, fault)
            finally:
                fake.count_stream(-1)

        def _authorised(self) -> bool:
            if fake.api_key is None or self.headers.get("Authorization") == f"Bearer {fake.api_key}":
                return True
            if fake.flavour == "openai":
                self._json(401, _invalid_api_key(self.headers.get("Authorization", "")))
            else:
                self._json(401, _error(401, "Invalid API Key", "authentication_error"))
            return False

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


# ---- reply building -------------------------------------------------------------------


def _chunk(model: str, delta: dict[str, Any] | None, finish: str | None = None) -> dict[str, Any]:
    chunk: dict[str, Any] = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1735142223,
                             "model": model, "system_fingerprint": "b6000-fake"}
    if delta is not None:
        chunk["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}]
    return chunk


def _call_fragments(reply: FakeReply) -> Iterator[dict[str, Any]]:
    """Each call's header (id, type, name), then its argument string in pieces."""
    per_call = [list(_one_call(n, name, args, reply)) for n, (name, args) in enumerate(reply.tool_calls)]
    if not reply.interleave_calls:
        for fragments in per_call:
            yield from fragments
        return
    for row in range(max((len(f) for f in per_call), default=0)):
        yield from (fragments[row] for fragments in per_call if row < len(fragments))


def _one_call(index: int, name: str, args: dict[str, Any] | str, reply: FakeReply) -> Iterator[dict[str, Any]]:
    whole, rest = ("", _raw(args)) if reply.fragment_args else (_raw(args), "")
    yield {"index": index, "id": f"call_{index}", "type": "function", "function": {"name": name, "arguments": whole}}
    for piece in _pieces(rest, reply.chunk_size):
        yield {"index": index, "function": {"arguments": piece}}


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), max(1, size))]


def _raw(args: dict[str, Any] | str) -> str:
    return args if isinstance(args, str) else json.dumps(args)


def _finish_reason(reply: FakeReply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def _prompt_tokens(body: dict[str, Any]) -> int:
    text = json.dumps(body.get("messages", [])) + json.dumps(body.get("tools", []))
    return max(1, len(text) // 4)


def _completion_tokens(reply: FakeReply) -> int:
    if reply.completion_tokens is not None:
        return reply.completion_tokens
    size = len(reply.content) + len(reply.reasoning) + sum(len(_raw(a)) + len(n) for n, a in reply.tool_calls)
    return max(1, size // 4)


def _invalid_api_key(authorization: str) -> dict[str, Any]:
    """OpenAI's 401, which shows the start and end of the key it was given."""
    key = authorization.removeprefix("Bearer ").strip()
    shown = f"{key[:6]}{'*' * max(0, len(key) - 10)}{key[-4:]}" if len(key) > 10 else key
    message = (f"Incorrect API key provided: {shown}. You can find your API key at "
               "https://platform.openai.com/account/api-keys.")
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}


def _error(code: int, message: str, kind: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "type": kind}}
