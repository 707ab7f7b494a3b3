"""A fake Anthropic Messages API on 127.0.0.1, streaming like the real one.

``POST /v1/messages`` with ``stream: true`` answers ``text/event-stream`` where every event
has an ``event:`` name equal to its data's ``type``: ``message_start`` (a message with
empty content and the input token count), per content block ``content_block_start`` /
``content_block_delta`` (``text_delta``; ``input_json_delta`` whose ``partial_json`` pieces
build the tool input; ``tool_use`` blocks start with ``input: {}``) / ``content_block_stop``,
a ``ping`` after the first block starts, ``message_delta`` with ``stop_reason`` and the
output token count, then ``message_stop``. ``GET /v1/models`` pages ``{data, has_more,
first_id, last_id}``.

Like the real API it checks the key (``x-api-key``, or the bearer ``Authorization`` newer
SDK releases send; else 401 ``authentication_error``) and the ``anthropic-version`` header, refuses a body without ``max_tokens``, turns that do not
alternate or a ``tool_result`` that answers no ``tool_use`` of the turn before (400
``invalid_request_error``), and an unknown model (404 ``not_found_error``). Errors are
``{"type": "error", "error": {"type", "message"}, "request_id"}``. Faults: 429
``rate_limit_error`` (with ``retry-after``), 529 ``overloaded_error``, an ``error`` event
mid-stream, a stream cut before ``message_stop``, and an endless stream.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = frozenset({"rate_limit", "overloaded", "overloaded_mid_stream", "drop", "endless", "server_error"})
ENDLESS_CAP_S = 60.0
DEFAULT_TEXT = "The weather in Paris is mostly sunny."
DEFAULT_MODELS = ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001")


@dataclass
class FakeTurn:
    """One scripted assistant turn: text, then tool calls (name, input) as ``tool_use`` blocks."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    chunk_size: int = 6
    delay_s: float = 0.0
    stop_reason: str | None = None  # None: "tool_use" when there are calls, else "end_turn"


@dataclass(frozen=True)
class Received:
    """What one request carried: its path, headers (lower-case names) and JSON body."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


Responder = Callable[[dict[str, Any]], FakeTurn]


class FakeAnthropic:
    """ThreadingHTTPServer in a daemon thread; a context manager; ``url`` is the base URL."""

    def __init__(self, api_key: str = "sk-ant-test-0123456789abcdef", models: tuple[str, ...] = DEFAULT_MODELS) -> None:
        self.api_key = api_key
        self.models = models
        self.received: list[Received] = []
        self.open_streams = 0
        self.responder: Responder | None = None
        self._script: deque[FakeTurn] = deque()
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = 0
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-anthropic", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeAnthropic:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if not self._stopping.is_set():
            self._stopping.set()
            self._server.shutdown()
            self._server.server_close()

    # ---- scripting ----------------------------------------------------------------

    def script(self, *turns: FakeTurn) -> None:
        self._script.extend(turns)

    def fail_next(self, fault: str, times: int = 1) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        self._faults.extend([fault] * times)

    @property
    def messages_requests(self) -> list[Received]:
        return [r for r in self.received if r.path == "/v1/messages"]

    def _next_turn(self, body: dict[str, Any]) -> FakeTurn:
        if self._script:
            return self._script.popleft()
        if self.responder is not None:
            return self.responder(body)
        return FakeTurn(text=DEFAULT_TEXT)

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._ids += 1
            return f"{prefix}_01Fake{self._ids:018d}"

    def count_stream(self, change: int) -> None:
        with self._lock:
            self.open_streams += change

    # ---- what the endpoints answer -------------------------------------------------

    def models_page(self) -> dict[str, Any]:
        data = [
            {"type": "model", "id": name, "display_name": _display_name(name), "created_at": "2025-09-29T00:00:00Z",
             "max_input_tokens": 200000, "max_tokens": 64000}
            for name in self.models
        ]
        return {"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None}

    def check(self, headers: dict[str, str], body: dict[str, Any] | None) -> tuple[int, dict[str, Any]] | None:
        """The error the real API gives this request before any streaming, if any."""
        if key_sent(headers) != self.api_key:
            return 401, self._error("authentication_error", "invalid x-api-key")
        if not headers.get("anthropic-version"):
            return 400, self._error("invalid_request_error", "anthropic-version: header is required")
        if body is None:
            return None
        if "max_tokens" not in body:
            return 400, self._error("invalid_request_error", "max_tokens: Field required")
        if body.get("model") not in self.models:
            return 404, self._error("not_found_error", f"model: {body.get('model')}")
        if problem := _message_problem(body.get("messages")):
            return 400, self._error("invalid_request_error", problem)
        return None

    def _error(self, kind: str, message: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": kind, "message": message}, "request_id": self._next_id("req")}

    def events(self, body: dict[str, Any], turn: FakeTurn) -> list[dict[str, Any]]:
        """Every event of one streamed turn, in the real order."""
        model = body["model"]
        message = {"id": self._next_id("msg"), "type": "message", "role": "assistant", "model": model, "content": [],
                   "stop_reason": None, "stop_sequence": None,
                   "usage": {"input_tokens": _input_tokens(body), "cache_creation_input_tokens": 0,
                             "cache_read_input_tokens": 0, "output_tokens": 1, "service_tier": "standard"}}
        events: list[dict[str, Any]] = [{"type": "message_start", "message": message}]
        index = 0
        if turn.text:
            events.append({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
            events += [{"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}
                       for piece in _pieces(turn.text, turn.chunk_size)]
            events.append({"type": "content_block_stop", "index": index})
            index += 1
        for name, arguments in turn.tool_calls:
            block = {"type": "tool_use", "id": self._next_id("toolu"), "name": name, "input": {}}
            events.append({"type": "content_block_start", "index": index, "content_block": block})
            pieces = ["", *_pieces(json.dumps(arguments), turn.chunk_size)]
            events += [{"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece}} for piece in pieces]
            events.append({"type": "content_block_stop", "index": index})
            index += 1
        if len(events) > 1:
            events.insert(2, {"type": "ping"})
        stop = turn.stop_reason or ("tool_use" if turn.tool_calls else "end_turn")
        output = max(1, (len(turn.text) + len(json.dumps(turn.tool_calls))) // 4)
        events.append({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                       "usage": {"output_tokens": output}})
        events.append({"type": "message_stop"})
        return events

    def write_stream(self, out: _Chunked, body: dict[str, Any], turn: FakeTurn, fault: str | None) -> None:
        events = self.events(body, turn)
        if fault == "endless":
            out.event(events[0])
            out.event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
            started = time.monotonic()
            while not self._stopping.wait(0.01) and time.monotonic() - started < ENDLESS_CAP_S:
                out.event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "la "}})
            out.end()
            return
        for n, event in enumerate(events):
            if n == 3 and fault == "overloaded_mid_stream":
                out.event({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
                out.end()
                return
            if fault == "drop" and event["type"] == "message_delta":
                out.end()
                return
            if n and turn.delay_s and self._stopping.wait(turn.delay_s):
                return
            out.event(event)
        out.end()


# ---- request checks -------------------------------------------------------------------


def key_sent(headers: dict[str, str]) -> str | None:
    """The API key a request carried: ``x-api-key`` (the SDK's 0.x releases), or a bearer
    ``Authorization`` (its 2.x releases)."""
    if "x-api-key" in headers:
        return headers["x-api-key"]
    authorization = headers.get("authorization", "")
    return authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None


def _message_problem(messages: object) -> str | None:
    """What the real API would say about these messages, or None."""
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    if messages[0].get("role") != "user":
        return "messages: first message must use the \"user\" role"
    offered: set[str] = set()
    for n, message in enumerate(messages):
        if n and message.get("role") == messages[n - 1].get("role"):
            return f"messages.{n}: roles must alternate between \"user\" and \"assistant\""
        content = message.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        for block in blocks:
            if block.get("type") == "text" and not block.get("text"):
                return f"messages.{n}: text content blocks must be non-empty"
        if message.get("role") == "user":
            answered = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
            if answered - offered:
                return (f"messages.{n}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{sorted(answered - offered)[0]}. Each `tool_result` block must have a corresponding "
                        f"`tool_use` block in the previous message.")
            if offered - answered:
                return (f"messages.{n}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                        f"{sorted(offered - answered)[0]}")
            offered = set()
        else:
            offered = {b.get("id") for b in blocks if b.get("type") == "tool_use"}
    return None


def _input_tokens(body: dict[str, Any]) -> int:
    text = json.dumps(body.get("messages", [])) + json.dumps(body.get("tools", [])) + str(body.get("system", ""))
    return max(1, len(text) // 4)


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), max(1, size))]


def _display_name(model: str) -> str:
    """``claude-sonnet-4-5-20250929`` -> ``Claude Sonnet 4.5``, as the real listing names it."""
    words = [w for w in model.split("-") if not (w.isdigit() and len(w) == 8)]
    names = [w.capitalize() for w in words if not w.isdigit()]
    version = ".".join(w for w in words if w.isdigit())
    return " ".join([*names, version]).strip()


# ---- HTTP plumbing --------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Chunked:
    """Writes named SSE events (``event:`` + ``data:``) as HTTP/1.1 chunks."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self.handler = handler

    def event(self, payload: dict[str, Any]) -> None:
        data = f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()
        self.handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.handler.wfile.flush()

    def end(self) -> None:
        self.handler.wfile.write(b"0\r\n\r\n")
        self.handler.wfile.flush()


def _handler_for(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _headers(self) -> dict[str, str]:
            return {k.lower(): v for k, v in self.headers.items()}

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            headers = self._headers()
            fake.received.append(Received(path, headers, {}))
            if failure := fake.check(headers, None):
                self._json(*failure)
            elif path == "/v1/models":
                self._json(200, fake.models_page())
            else:
                self._json(404, fake._error("not_found_error", "Not found"))

        def do_POST(self) -> None:
            path = self.path.split("?")[0]
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            headers = self._headers()
            fake.received.append(Received(path, headers, body))
            if path != "/v1/messages":
                self._json(404, fake._error("not_found_error", "Not found"))
                return
            if failure := fake.check(headers, body):
                self._json(*failure)
                return
            fault = fake._faults.popleft() if fake._faults else None
            if fault == "rate_limit":
                message = "This request would exceed the rate limit for your organization of 50 requests per minute."
                self._json(429, fake._error("rate_limit_error", message), {"retry-after": "1"})
                return
            if fault == "overloaded":
                self._json(529, fake._error("overloaded_error", "Overloaded"))
                return
            if fault == "server_error":
                self._json(500, fake._error("api_error", "Internal server error"))
                return
            turn = fake._next_turn(body)
            if not body.get("stream"):
                self._json(400, fake._error("invalid_request_error", "this fake only streams"))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("request-id", fake._next_id("req"))
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            fake.count_stream(+1)
            try:
                with contextlib.suppress(ConnectionError):
                    fake.write_stream(_Chunked(self), body, turn, fault)
            finally:
                fake.count_stream(-1)

        def _json(self, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("request-id", payload.get("request_id") or fake._next_id("req"))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
