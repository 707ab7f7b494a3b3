"""A faithful fake of the Ollama HTTP API on 127.0.0.1 for tests of the real client.

Endpoints and shapes follow the real server: ``/api/tags``, ``/api/show``, ``/api/ps``,
``/api/version``, ``/api/chat`` (NDJSON streaming, final chunk with ``done_reason`` and
nanosecond durations), and its error bodies ``{"error": "..."}``: 404 for an unknown
model, 400 for tools or thinking on a model without the capability, 500 when the runner
fails to load, an error line after HTTP 200, plus slow, endless and dropped streams.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ENDLESS_CAP_S = 60.0


@dataclass
class FakeModel:
    name: str
    family: str = "llama"
    parameter_size: str = "3.2B"
    quantization: str = "Q4_K_M"
    size: int = 2_019_393_189
    context_length: int = 131_072
    capabilities: tuple[str, ...] = ("completion", "tools")
    digest: str = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72"
    loaded: bool = False


@dataclass
class FakeReply:
    content: str = ""
    thinking: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    chunk_size: int = 4
    delay_s: float = 0.0
    done_reason: str = "stop"
    eval_count: int | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class FakeOllama:
    """``with FakeOllama(models=[...]) as server: Client(host=server.url)``."""

    def __init__(self, models: list[FakeModel] | None = None, version: str = "0.12.6") -> None:
        self.models = {m.name: m for m in (models or [FakeModel("llama3.2:3b")])}
        self.version = version
        self.requests: list[dict[str, Any]] = []
        self.responder: Callable[[dict[str, Any]], FakeReply] | None = None
        self._scripts: dict[str, deque[FakeReply]] = defaultdict(deque)
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.stopping = threading.Event()
        self._connections: set[Any] = set()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeOllama:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop like a dead server: no new connections, and open ones are cut."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(2)

    def script(self, model: str, *replies: FakeReply) -> None:
        with self._lock:
            self._scripts[model].extend(replies)

    def fail_next(self, kind: str) -> None:
        """unknown_model, load_failure, error_mid_stream, slow, endless, drop."""
        with self._lock:
            self._faults.append(kind)

    def _next_fault(self) -> str | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _next_reply(self, body: dict[str, Any]) -> FakeReply:
        if self.responder is not None:
            return self.responder(body)
        with self._lock:
            queue = self._scripts[body.get("model", "")]
            return queue.popleft() if queue else FakeReply(content="Hello from the fake model.")

    # ---- HTTP ---------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with fake._lock:
                    fake._connections.add(self.connection)

            def finish(self) -> None:
                with fake._lock:
                    fake._connections.discard(self.connection)
                super().finish()

            def do_HEAD(self) -> None:
                self._send(200, b"", "text/plain")

            def do_GET(self) -> None:
                if self.path == "/":
                    self._send(200, b"Ollama is running", "text/plain; charset=utf-8")
                elif self.path == "/api/version":
                    self._json(200, {"version": fake.version})
                elif self.path == "/api/tags":
                    self._json(200, {"models": [fake._tag(m) for m in fake.models.values()]})
                elif self.path == "/api/ps":
                    self._json(200, {"models": [fake._ps(m) for m in fake.models.values() if m.loaded]})
                else:
                    self._send(404, b"404 page not found", "text/plain")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._json(400, {"error": "invalid character in request body"})
                    return
                if self.path == "/api/show":
                    model = fake.models.get(body.get("model") or body.get("name") or "")
                    if model is None:
                        self._json(404, {"error": f"model '{body.get('model')}' not found"})
                    else:
                        self._json(200, fake._show(model))
                elif self.path == "/api/chat":
                    with fake._lock:
                        fake.requests.append(body)
                    fake._chat(self, body)
                else:
                    self._send(404, b"404 page not found", "text/plain")

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8")

            def _send(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

        return Handler

    def _tag(self, m: FakeModel) -> dict[str, Any]:
        return {
            "name": m.name,
            "model": m.name,
            "modified_at": "2026-10-01T10:00:00.000000Z",
            "size": m.size,
            "digest": m.digest,
            "details": self._details(m),
        }

    def _details(self, m: FakeModel) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": m.family,
            "families": [m.family],
            "parameter_size": m.parameter_size,
            "quantization_level": m.quantization,
        }

    def _show(self, m: FakeModel) -> dict[str, Any]:
        return {
            "license": "",
            "modelfile": f"FROM {m.name}",
            "parameters": "stop \"<|eot_id|>\"",
            "template": "{{ .Prompt }}",
            "details": self._details(m),
            "model_info": {
                "general.architecture": m.family,
                "general.parameter_count": 3_212_749_888,
                f"{m.family}.context_length": m.context_length,
                f"{m.family}.embedding_length": 3072,
            },
            "capabilities": list(m.capabilities),
            "modified_at": "2026-10-01T10:00:00.000000Z",
        }

    def _ps(self, m: FakeModel) -> dict[str, Any]:
        return {
            "name": m.name,
            "model": m.name,
            "size": m.size,
            "digest": m.digest,
            "details": self._details(m),
            "expires_at": "2026-12-31T00:00:00Z",
            "size_vram": m.size,
            "context_length": 4096,
        }

    # ---- /api/chat ------------------------------------------------------------------

    def _chat(self, handler: Any, body: dict[str, Any]) -> None:
        name = body.get("model", "")
        model = self.models.get(name)
        fault = self._next_fault()
        if model is None or fault == "unknown_model":
            handler._json(404, {"error": f"model '{name}' not found"})
            return
        if body.get("tools") and "tools" not in model.capabilities:
            handler._json(400, {"error": f"registry.ollama.ai/library/{name} does not support tools"})
            return
        if body.get("think") and "thinking" not in model.capabilities:
            handler._json(400, {"error": f'"{name}" does not support thinking'})
            return
        if fault == "load_failure":
            handler._json(500, {"error": "llama runner process has terminated: exit status 2"})
            return
        load_ns = 0
        if not model.loaded:
            model.loaded = True
            load_ns = 1_250_000_000
        reply = self._next_reply(body)
        if fault == "slow":
            reply.delay_s = max(reply.delay_s, 2.0)
        if body.get("stream", True) is False:
            handler._json(200, self._final(name, reply, load_ns, full=True))
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "application/x-ndjson")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        try:
            self._stream(handler, name, reply, load_ns, fault)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _stream(self, handler: Any, name: str, reply: FakeReply, load_ns: int, fault: str | None) -> None:
        def line(payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode() + b"\n"
            handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            handler.wfile.flush()

        def chunk(**message: Any) -> dict[str, Any]:
            return {"model": name, "created_at": _now(), "message": {"role": "assistant", "content": "", **message}, "done": False}

        if fault == "endless":
            started = time.monotonic()
            while not self.stopping.is_set() and time.monotonic() - started < ENDLESS_CAP_S:
                line(chunk(content="and again "))
                time.sleep(0.01)
            return
        for i in range(0, len(reply.thinking), reply.chunk_size):
            time.sleep(reply.delay_s)
            line(chunk(thinking=reply.thinking[i : i + reply.chunk_size]))
        for sent, i in enumerate(range(0, len(reply.content), reply.chunk_size), start=1):
            if reply.delay_s:
                time.sleep(reply.delay_s)
            line(chunk(content=reply.content[i : i + reply.chunk_size]))
            if fault == "error_mid_stream" and sent == 2:
                line({"error": "an error was encountered while running the model: unexpected EOF"})
                handler.wfile.write(b"0\r\n\r\n")
                return
            if fault == "drop" and sent == 2:
                handler.wfile.flush()
                handler.connection.shutdown(2)
                handler.close_connection = True
                return
        if reply.tool_calls:
            calls = [
                {"id": f"call_{i}", "function": {"index": i, "name": n, "arguments": a}}
                for i, (n, a) in enumerate(reply.tool_calls)
            ]
            line(chunk(tool_calls=calls))
        line(self._final(name, reply, load_ns))
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()

    def _final(self, name: str, reply: FakeReply, load_ns: int, full: bool = False) -> dict[str, Any]:
        eval_count = reply.eval_count or max(1, len(reply.content) // 4 + 8 * len(reply.tool_calls))
        message: dict[str, Any] = {"role": "assistant", "content": reply.content if full else ""}
        return {
            "model": name,
            "created_at": _now(),
            "message": message,
            "done_reason": reply.done_reason,
            "done": True,
            "total_duration": load_ns + 900_000_000,
            "load_duration": load_ns,
            "prompt_eval_count": 42,
            "prompt_eval_duration": 150_000_000,
            "eval_count": eval_count,
            "eval_duration": int(eval_count / 50 * 1e9),  # 50 tokens/s
        }
