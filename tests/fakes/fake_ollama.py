"""A faithful fake of the Ollama HTTP API (as of 0.12.6) on 127.0.0.1, for tests of the real client.

Shapes and messages follow ``api/types.go`` and ``server/routes.go``: ``/api/tags``,
``/api/show``, ``/api/ps``, ``/api/version``, ``/api/chat`` (NDJSON sent chunked, headers
going out with the first line as Go's writer does; a final chunk with ``done_reason`` and
nanosecond durations; tool calls as ``{"function": {"index", "name", "arguments": {...}}}``),
and error bodies ``{"error": "..."}``: 404 for an unknown model, 400 for tools or thinking
on a model without the capability, 500 when the runner fails to load, an error line after
HTTP 200. Faults add slow, endless and dropped streams.

The context in force is the ``num_ctx`` of the request that loaded the model (else 4096),
as ``/api/ps`` reports it. A prompt longer than that is cut to fit, as Ollama's runner
does ("truncating input prompt"): ``prompt_eval_count`` is then the context itself. The
``context_full`` faults stream until prompt + reply fill the context and end for
``length`` (an Ollama-API server in front of llama.cpp, which stops there).

Memory is modelled as room for ``max_loaded`` models (1 by default, like a laptop with one
model's worth of memory; ``OLLAMA_MAX_LOADED_MODELS`` on a real server): a chat with a
model that is not loaded loads it (counted in ``loads``), evicting the least recently used
one when the room is full. Unlike Ollama, eviction does not wait for the evicted model's
requests to finish; they go on, and its next request loads it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, Literal

FaultKind = Literal[
    "unknown_model",  # 404 model 'x' not found
    "no_tools",  # 400 <full name> does not support tools (when the request has tools)
    "no_thinking",  # 400 "x" does not support thinking (when think is on)
    "load_failure",  # 500 the runner died while loading
    "out_of_memory",  # 500 the model does not fit
    "busy",  # 503 the request queue is full
    "error_mid_stream",  # 200, two chunks, then an {"error": ...} line; the runner is gone
    "slow",  # ``slow_delay_s`` of silence before each chunk (and so before the headers)
    "endless",  # chunks until the client goes away (capped at ENDLESS_CAP_S)
    "drop",  # two chunks, then the connection is cut without the final line
    "no_done",  # the body ends cleanly but without the final ``done`` chunk
    "context_full",  # text that never repeats until prompt + reply fill num_ctx: done_reason "length"
    "context_full_repeating",  # the same, one sentence over and over (a small model's endless reply)
]

LOAD_FAILURE = "llama runner process has terminated: exit status 2"  # llm/server.go
OUT_OF_MEMORY = "model requires more system memory (5.6 GiB) than is available (3.2 GiB)"
BUSY = "server busy, please try again.  maximum pending requests exceeded"  # server/sched.go
MID_STREAM = "an error was encountered while running the model: unexpected EOF"
REPEATED_SENTENCE = "I am sorry, but I cannot help with that request. "
REFUSALS = {
    "load_failure": (500, LOAD_FAILURE),
    "out_of_memory": (500, OUT_OF_MEMORY),
    "busy": (503, BUSY),
}
ENDLESS_CAP_S = 60.0
COLD_LOAD_NS = 1_250_000_000  # first chat to a model
WARM_LOAD_NS = 40_000_000  # scheduling time reported when already loaded
TOKENS_PER_S = 50.0
PROMPT_TOKENS_PER_S = 1000.0
DEFAULT_NUM_CTX = 4096  # the 0.12 default
MODIFIED_AT = "2025-10-01T10:00:00.000000+02:00"
ROUTES = {
    "/": ("GET", "HEAD"),
    "/api/version": ("GET", "HEAD"),
    "/api/tags": ("GET", "HEAD"),
    "/api/ps": ("GET",),
    "/api/show": ("POST",),
    "/api/chat": ("POST",),
}


@dataclass
class FakeModel:
    """One pulled model as the fake server reports it."""

    name: str
    family: str = "llama"
    parameter_size: str = "3.2B"
    quantization: str = "Q4_K_M"
    size: int = 2_019_393_189
    context_length: int = 131_072
    capabilities: tuple[str, ...] = ("completion", "tools")
    digest: str = ""
    loaded: bool = False

    def __post_init__(self) -> None:
        self.digest = self.digest or hashlib.sha256(self.name.encode()).hexdigest()

    @property
    def full_name(self) -> str:
        """The name as ``model.ParseName(...).String()`` spells it in capability errors."""
        path, _, tag = self.name.rpartition(":") if ":" in self.name else (self.name, "", "")
        parts = path.split("/")
        prefix = ["registry.ollama.ai", "library"][: max(0, 3 - len(parts))]
        return "/".join([*prefix, *parts]) + ":" + (tag or "latest")


@dataclass
class FakeReply:
    """One scripted assistant turn; each streamed chunk counts as one generated token."""

    content: str = ""
    thinking: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    chunk_size: int = 4  # characters per streamed chunk
    delay_s: float = 0.0  # before each chunk
    done_reason: str = "stop"
    eval_count: int | None = None
    prompt_eval_count: int | None = None


Responder = Callable[[dict[str, Any]], FakeReply]


@dataclass(frozen=True)
class ChatSpan:
    """When one ``/api/chat`` request was being answered (``time.monotonic`` seconds)."""

    model: str
    start: float
    end: float


class FakeOllama:
    """``with FakeOllama(models=[...]) as server: ollama.Client(host=server.url)``.

    ``requests`` holds every ``/api/chat`` body received; ``log`` every (method, path);
    ``spans`` when each chat was answered; ``loads`` how often each model was loaded.
    Replies come from ``script(model, ...)`` queues, then ``responder``, then a short text.
    """

    def __init__(
        self,
        models: list[FakeModel] | None = None,
        version: str = "0.12.6",
        *,
        max_loaded: int = 1,
    ) -> None:
        self.models = {m.name: m for m in (models or [FakeModel("llama3.2:3b")])}
        self.version = version
        self.requests: list[dict[str, Any]] = []
        self.log: list[tuple[str, str]] = []
        self.spans: list[ChatSpan] = []
        self.loads: Counter[str] = Counter()
        self.max_loaded = max_loaded
        self.responder: Responder | None = None
        self.slow_delay_s = 2.0
        self.broken_show: set[str] = set()  # names whose /api/show fails with 500
        self.stopping = threading.Event()
        self._scripts: dict[str, deque[FakeReply]] = defaultdict(deque)
        self._faults: dict[str | None, deque[FaultKind]] = defaultdict(deque)
        self._num_ctx: dict[str, int] = {}
        self._last_used: dict[str, int] = {}  # model name → tick of its latest chat
        self._ticks = 0
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), type("Handler", (_Handler,), {"fake": self}))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeOllama:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve on a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop like a dead server: no new connections, and open ones are cut."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def script(self, model: str, *replies: FakeReply) -> None:
        """Queue replies for the next chats with ``model``."""
        with self._lock:
            self._scripts[model].extend(replies)

    def fail_next(self, kind: FaultKind, *, model: str | None = None, times: int = 1) -> None:
        """Make the next ``times`` chats (with ``model``, or with any model) fail this way."""
        with self._lock:
            self._faults[model].extend([kind] * times)

    # ---- state ------------------------------------------------------------------------

    def find(self, name: str) -> FakeModel | None:
        """The model a request names, with Ollama's implicit ``:latest``."""
        return self.models.get(name) or self.models.get(f"{name}:latest")

    def take_fault(self, name: str) -> FaultKind | None:
        """The next fault queued for this model, else for any model."""
        with self._lock:
            for key in (name, None):
                if self._faults[key]:
                    return self._faults[key].popleft()
        return None

    def next_reply(self, body: dict[str, Any]) -> FakeReply:
        """The scripted reply, else the responder's, else a short greeting."""
        with self._lock:
            queue = self._scripts[str(body.get("model"))]
            if queue:
                return queue.popleft()
        return (
            self.responder(body)
            if self.responder
            else FakeReply(content="Hello from the fake model.")
        )

    @property
    def total_loads(self) -> int:
        """Every load of any model since the server started."""
        with self._lock:
            return sum(self.loads.values())

    def load(self, model: FakeModel, body: dict[str, Any]) -> int:
        """Load the model if needed (evicting the least recently used one when memory is
        full); return the load duration to report, in ns."""
        options = body.get("options") or {}
        with self._lock:
            cold, model.loaded = not model.loaded, True
            self._ticks += 1
            self._last_used[model.name] = self._ticks
            if cold:
                self.loads[model.name] += 1
                others = [m for m in self.models.values() if m.loaded and m is not model]
                others.sort(key=lambda m: self._last_used.get(m.name, 0))
                for evicted in others[: max(0, len(others) + 1 - self.max_loaded)]:
                    evicted.loaded = False
            if cold or "num_ctx" in options:
                self._num_ctx[model.name] = int(options.get("num_ctx") or DEFAULT_NUM_CTX)
        return COLD_LOAD_NS if cold else WARM_LOAD_NS

    def context_of(self, model: FakeModel) -> int:
        """The context the model's runner was loaded with."""
        with self._lock:
            return self._num_ctx.get(model.name, DEFAULT_NUM_CTX)

    def unload(self, model: FakeModel) -> None:
        """The runner is gone."""
        with self._lock:
            model.loaded = False

    def ps_entry(self, m: FakeModel) -> dict[str, Any]:
        """One ``ProcessModelResponse``."""
        expires = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        context = self._num_ctx.get(m.name, DEFAULT_NUM_CTX)
        return {**_tag(m), "expires_at": expires, "size_vram": m.size, "context_length": context}


# ---- response shapes (api/types.go) ---------------------------------------------------


def _details(m: FakeModel) -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": "gguf",
        "family": m.family,
        "families": [m.family],
        "parameter_size": m.parameter_size,
        "quantization_level": m.quantization,
    }


def _tag(m: FakeModel) -> dict[str, Any]:
    return {
        "name": m.name,
        "model": m.name,
        "modified_at": MODIFIED_AT,
        "size": m.size,
        "digest": m.digest,
        "details": _details(m),
    }


def _show(m: FakeModel) -> dict[str, Any]:
    model_info = {
        "general.architecture": m.family,
        "general.parameter_count": 3_212_749_888,
        f"{m.family}.context_length": m.context_length,
        f"{m.family}.embedding_length": 3072,
    }
    return {
        "license": "",
        "modelfile": f"FROM {m.name}\n",
        "parameters": 'stop "<|eot_id|>"',
        "template": "{{ .Prompt }}",
        "details": _details(m),
        "model_info": model_info,
        "capabilities": list(m.capabilities),
        "modified_at": MODIFIED_AT,
    }


def _chunk(name: str, message: dict[str, Any], done: bool) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return {"model": name, "created_at": now, "message": message, "done": done}


@dataclass(frozen=True)
class RawJson:
    """A value sent as this JSON text, as is (e.g. nested deeper than ``json.dumps`` goes)."""

    text: str


def _dump(payload: dict[str, Any]) -> bytes:
    raw: dict[str, str] = {}

    def placeholder(value: object) -> str:
        if not isinstance(value, RawJson):
            raise TypeError(f"cannot send {type(value).__name__}")
        token = f"@raw{len(raw)}@"
        raw[json.dumps(token)] = value.text
        return token

    text = json.dumps(payload, separators=(",", ":"), default=placeholder)
    for token, value in raw.items():
        text = text.replace(token, value)
    return text.encode()


def _thinks(think: Any) -> bool:
    """``ThinkValue.Bool()``."""
    return think is True or think in ("high", "medium", "low")


# ---- /api/chat --------------------------------------------------------------------------


@dataclass
class _Chat:
    """One accepted ``/api/chat`` request and how to answer it."""

    out: _Handler
    name: str
    model: FakeModel
    body: dict[str, Any]
    reply: FakeReply
    load_ns: int
    fault: str | None

    @property
    def thinking(self) -> bool:
        """Think on if asked, or by default for a model that can think."""
        think = self.body.get("think")
        if think is None:
            return "thinking" in self.model.capabilities and self.fault != "no_thinking"
        return _thinks(think)

    def pieces(self) -> Iterator[dict[str, Any]]:
        """The streamed messages: thinking, then content, then one chunk per tool call."""
        while self.fault == "endless":
            yield {"role": "assistant", "content": "and again "}
        if self.fault in ("context_full", "context_full_repeating"):
            text = REPEATED_SENTENCE * 10_000 if self.fault == "context_full_repeating" else None
            for n in range(max(1, self.context - self.prompt_tokens)):
                piece = text[n * 4 : n * 4 + 4] if text else f"{n:04x} "
                yield {"role": "assistant", "content": piece}
            return
        size = max(1, self.reply.chunk_size)
        if self.thinking:
            for i in range(0, len(self.reply.thinking), size):
                yield {
                    "role": "assistant",
                    "content": "",
                    "thinking": self.reply.thinking[i : i + size],
                }
        for i in range(0, len(self.reply.content), size):
            yield {"role": "assistant", "content": self.reply.content[i : i + size]}
        for index, (tool, arguments) in enumerate(self.reply.tool_calls):
            call = {"function": {"index": index, "name": tool, "arguments": arguments}}
            yield {"role": "assistant", "content": "", "tool_calls": [call]}

    def stream(self) -> None:
        """NDJSON chunks, then the final one; faults cut in after the second chunk."""
        fake, delay = self.out.fake, self.reply.delay_s
        if self.fault in ("slow", "endless"):
            delay = max(delay, fake.slow_delay_s if self.fault == "slow" else 0.01)
        options = self.body.get("options") or {}
        limit = options.get("num_predict") if isinstance(options.get("num_predict"), int) else None
        deadline = time.monotonic() + ENDLESS_CAP_S
        sent, reason = 0, self.reply.done_reason
        if self.fault in ("context_full", "context_full_repeating"):
            reason = "length"
        for message in self.pieces():
            if limit is not None and 0 <= limit <= sent:
                reason = "length"
                break
            if fake.stopping.wait(delay) or time.monotonic() > deadline:
                self.out.drop()
                return
            self.out.line(_chunk(self.name, message, False))
            sent += 1
            if sent == 2 and self.interrupt():
                return
        if self.interrupt():
            return
        if self.fault != "no_done":
            self.out.line(self.final(sent, reason))
        self.out.end()

    def interrupt(self) -> bool:
        """Fire a mid-stream fault; True when the response is over."""
        if self.fault == "error_mid_stream":
            self.out.fake.unload(self.model)
            self.out.error(500, MID_STREAM)
        elif self.fault == "drop":
            self.out.drop()
        return self.fault in ("error_mid_stream", "drop")

    def whole(self) -> None:
        """``stream: false``: one JSON body, or an error status when anything failed."""
        if self.fault in ("drop", "endless"):
            self.out.fake.stopping.wait(self.out.fake.slow_delay_s)
            self.out.drop()
            return
        if self.interrupt():  # nothing written yet, so the error goes out as a status
            return
        pieces = list(self.pieces())
        self.out.fake.stopping.wait(self.reply.delay_s * len(pieces))
        message: dict[str, Any] = {"role": "assistant", "content": self.reply.content}
        if self.thinking and self.reply.thinking:
            message["thinking"] = self.reply.thinking
        calls = [call for piece in pieces for call in piece.get("tool_calls", [])]
        if calls:
            message["tool_calls"] = calls
        self.out.json(200, {**self.final(len(pieces), self.reply.done_reason), "message": message})

    @property
    def context(self) -> int:
        """The context the loaded runner uses."""
        return self.out.fake.context_of(self.model)

    @property
    def prompt_tokens(self) -> int:
        """What the prompt counts, cut to fit the context as the runner does."""
        prompt_text = json.dumps(self.body.get("messages") or []) + json.dumps(
            self.body.get("tools") or []
        )
        return min(max(1, len(prompt_text) // 4), self.context)

    def final(self, sent: int, reason: str) -> dict[str, Any]:
        """The last chunk: ``done_reason`` and the metrics, durations in ns."""
        prompt_tokens = self.reply.prompt_eval_count or self.prompt_tokens
        eval_count = self.reply.eval_count or max(1, sent + 8 * len(self.reply.tool_calls))
        prompt_ns = int(prompt_tokens / PROMPT_TOKENS_PER_S * 1e9)
        eval_ns = int(eval_count / TOKENS_PER_S * 1e9)
        return {
            **_chunk(self.name, {"role": "assistant", "content": ""}, True),
            "done_reason": reason,
            "total_duration": self.load_ns + prompt_ns + eval_ns + 5_000_000,
            "load_duration": self.load_ns,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": prompt_ns,
            "eval_count": eval_count,
            "eval_duration": eval_ns,
        }


def _refusal(
    name: str, model: FakeModel, body: dict[str, Any], fault: str | None
) -> tuple[int, str] | None:
    """The checks of ``ChatHandler`` and ``scheduleRunner``, in their order."""
    if _thinks(body.get("think")) and (
        "thinking" not in model.capabilities or fault == "no_thinking"
    ):
        return 400, f"{json.dumps(name)} does not support thinking"
    if "completion" not in model.capabilities:
        return 400, f"{json.dumps(name)} does not support chat"
    if body.get("tools") and ("tools" not in model.capabilities or fault == "no_tools"):
        return 400, f"{model.full_name} does not support tools"
    return REFUSALS.get(fault or "")


# ---- HTTP -----------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    """Threaded, daemonic, and bound without the reverse DNS lookup of ``HTTPServer``."""

    daemon_threads = True

    def server_bind(self) -> None:
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    """Routes one connection's requests to the fake; writes bodies, NDJSON lines and errors."""

    protocol_version = "HTTP/1.1"
    fake: FakeOllama
    streaming = False

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def route(self) -> None:
        """Answer 404/405 as gin does, else the endpoint."""
        fake, path = self.fake, self.path
        with fake._lock:
            fake.log.append((self.command, path))
        self.streaming = False
        if path not in ROUTES:
            self.send(404, b"404 page not found", "text/plain")
        elif self.command not in ROUTES[path]:
            self.send(405, b"405 method not allowed", "text/plain")
        elif path == "/":
            self.send(200, b"Ollama is running", "text/plain; charset=utf-8")
        elif path == "/api/version":
            self.json(200, {"version": fake.version})
        elif path == "/api/tags":
            self.json(200, {"models": [_tag(m) for m in fake.models.values()]})
        elif path == "/api/ps":
            self.json(200, {"models": [fake.ps_entry(m) for m in fake.models.values() if m.loaded]})
        elif (body := self.body()) is not None and path == "/api/chat":
            self.chat(body)
        elif body is not None:
            self.show(body)

    do_GET = do_HEAD = do_POST = route

    def body(self) -> dict[str, Any] | None:
        """The JSON body, or None after answering 400."""
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(data) if data else None
        except ValueError as error:
            self.json(400, {"error": f"invalid character in request body: {error}"})
            return None
        if not isinstance(body, dict):
            self.json(400, {"error": "missing request body"})
            return None
        return body

    def show(self, body: dict[str, Any]) -> None:
        name = str(body.get("model") or body.get("name") or "")
        model = self.fake.find(name)
        if model is None:
            self.json(404, {"error": f"model '{name}' not found"})
        elif name in self.fake.broken_show:
            self.json(500, {"error": "unexpected end of JSON input"})
        else:
            self.json(200, _show(model))

    def chat(self, body: dict[str, Any]) -> None:
        start = time.monotonic()
        try:
            self.answer_chat(body)
        finally:
            span = ChatSpan(str(body.get("model") or ""), start, time.monotonic())
            with self.fake._lock:
                self.fake.spans.append(span)

    def answer_chat(self, body: dict[str, Any]) -> None:
        fake, name = self.fake, str(body.get("model") or "")
        with fake._lock:
            fake.requests.append(body)
        model, fault = fake.find(name), fake.take_fault(name)
        if not name:
            self.json(400, {"error": "model is required"})
        elif model is None or fault == "unknown_model":
            self.json(404, {"error": f"model '{name}' not found"})
        elif (refusal := _refusal(name, model, body, fault)) is not None:
            self.json(refusal[0], {"error": refusal[1]})
        elif not body.get("messages"):
            fake.load(model, body)
            self.json(
                200,
                {**_chunk(name, {"role": "assistant", "content": ""}, True), "done_reason": "load"},
            )
        else:
            turn = _Chat(
                self, name, model, body, fake.next_reply(body), fake.load(model, body), fault
            )
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                if body.get("stream", True) is False:
                    turn.whole()
                else:
                    turn.stream()

    def send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def json(self, status: int, payload: dict[str, Any]) -> None:
        self.send(status, _dump(payload), "application/json; charset=utf-8")

    def line(self, payload: dict[str, Any]) -> None:
        """One NDJSON line as one HTTP chunk; the headers go out with the first."""
        if not self.streaming:
            self.streaming = True
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
        data = _dump(payload) + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    def error(self, status: int, message: str) -> None:
        """As ``streamResponse``: a status before any content, an error line after it."""
        if self.streaming:
            self.line({"error": message})
            self.end()
        else:
            self.json(status, {"error": message})

    def drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
