"""A fake OpenAI-compatible server (llama.cpp flavour) on 127.0.0.1, streaming SSE.

Tool-call arguments arrive in fragments by index, the last chunk carries llama.cpp's
``timings`` and (when asked) ``usage``, errors use the OpenAI error object.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ENDLESS_CAP_S = 60.0


@dataclass
class OAReply:
    content: str = ""
    reasoning: str = ""
    tool_calls: list[tuple[str, Any]] = field(default_factory=list)  # args: dict, or a raw string
    chunk_size: int = 4
    delay_s: float = 0.0
    finish_reason: str | None = None


class FakeOpenAI:
    def __init__(self, models: tuple[str, ...] = ("smollm2",), n_ctx: int = 8192) -> None:
        self.models = models
        self.n_ctx = n_ctx
        self.requests: list[dict[str, Any]] = []
        self.drop_tools: set[str] = set()
        self._scripts: dict[str, deque[OAReply]] = defaultdict(deque)
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def script(self, model: str, *replies: OAReply) -> None:
        self._scripts[model].extend(replies)

    def fail_next(self, kind: str) -> None:
        """http_500, unknown_model, error_mid_stream, slow, endless, drop."""
        self._faults.append(kind)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    data = [
                        {"id": m, "object": "model", "created": 0, "owned_by": "llamacpp",
                         "meta": {"n_params": 134_515_008, "size": 98_000_000, "n_ctx_train": 8192, "vocab_type": 2}}
                        for m in fake.models
                    ]
                    self._json(200, {"object": "list", "data": data})
                elif self.path == "/props":
                    self._json(200, {"default_generation_settings": {"n_ctx": fake.n_ctx}, "chat_template": "…"})
                elif self.path == "/health":
                    self._json(200, {"status": "ok"})
                else:
                    self._json(404, {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                fake.requests.append(body)
                fault = fake._faults.popleft() if fake._faults else None
                model = body.get("model", "")
                if fault == "unknown_model" or model not in fake.models:
                    self._json(404, {"error": {"code": 404, "message": f"model '{model}' not found", "type": "not_found_error"}})
                    return
                if fault == "http_500":
                    self._json(500, {"error": {"code": 500, "message": "failed to load model", "type": "server_error"}})
                    return
                queue = fake._scripts[model]
                reply = queue.popleft() if queue else OAReply(content="The weather in Paris is mostly sunny.")
                if model in fake.drop_tools:
                    reply = OAReply(content=reply.content or "The weather in Paris is mostly sunny.")
                if fault == "slow":
                    reply.delay_s = 2.0
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    fake._stream(self, body, reply, fault)

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _stream(self, handler: Any, body: dict[str, Any], reply: OAReply, fault: str | None) -> None:
        def send(payload: dict[str, Any] | str) -> None:
            text = payload if isinstance(payload, str) else json.dumps(payload)
            data = f"data: {text}\n\n".encode()
            handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            handler.wfile.flush()

        def delta(d: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
            return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "delta": d, "finish_reason": finish}], **extra}

        if fault == "endless":
            started = time.monotonic()
            while not self.stopping.is_set() and time.monotonic() - started < ENDLESS_CAP_S:
                send(delta({"content": "la la "}))
                time.sleep(0.01)
            return
        send(delta({"role": "assistant", "content": None}))
        pieces = 0
        for field_name, text in (("reasoning_content", reply.reasoning), ("content", reply.content)):
            for i in range(0, len(text), reply.chunk_size):
                time.sleep(reply.delay_s)
                send(delta({field_name: text[i : i + reply.chunk_size]}))
                pieces += 1
                if fault == "error_mid_stream" and pieces == 2:
                    send({"error": {"code": 500, "message": "slot unavailable", "type": "server_error"}})
                    handler.wfile.write(b"0\r\n\r\n")
                    return
                if fault == "drop" and pieces == 2:
                    handler.connection.shutdown(2)
                    return
        for index, (name, args) in enumerate(reply.tool_calls):
            raw = args if isinstance(args, str) else json.dumps(args)
            send(delta({"tool_calls": [{"index": index, "id": f"call_{index}", "type": "function", "function": {"name": name, "arguments": ""}}]}))
            for i in range(0, len(raw), 5):
                send(delta({"tool_calls": [{"index": index, "function": {"arguments": raw[i : i + 5]}}]}))
        finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
        predicted = max(1, len(reply.content) // 4)
        timings = {"prompt_n": 31, "prompt_ms": 12.5, "predicted_n": predicted, "predicted_ms": predicted * 10.0,
                   "predicted_per_second": 100.0, "prompt_per_second": 2480.0}
        send(delta({}, finish, timings=timings))
        if (body.get("stream_options") or {}).get("include_usage"):
            send({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [],
                  "usage": {"prompt_tokens": 31, "completion_tokens": predicted, "total_tokens": 31 + predicted}})
        send("[DONE]")
        handler.wfile.write(b"0\r\n\r\n")
