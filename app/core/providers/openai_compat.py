"""Any OpenAI-compatible ``/v1`` server: llama.cpp, LM Studio, vLLM.

Streams chat completions over SSE, assembling tool-call fragments by index. Calls whose
argument JSON does not decode are handed on as ``<tool_call>`` text, so the recovery
layer reports them as malformed instead of silently dropping them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.core.chat import (
    ChatRequest,
    Message,
    NativeCallsChunk,
    StreamChunk,
    TextChunk,
    ToolCall,
    TurnDone,
    Usage,
)
from app.core.providers.base import HostStatus, ModelInfo, Provider, ProviderError, ProviderKind


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class OpenAICompatProvider(Provider):
    kind = ProviderKind.OPENAI

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 300.0,
        connect_timeout_s: float = 3.0,
    ) -> None:
        super().__init__(base_url.rstrip("/"))
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=self.host, headers=headers, timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s)
        )

    # ---- discovery --------------------------------------------------------------

    def discover(self) -> HostStatus:
        try:
            response = self._client.get("/models")
            response.raise_for_status()
            data = response.json().get("data", [])
        except httpx.HTTPStatusError as error:
            return HostStatus(self.kind, self.host, False, error=f"{self.host} answered {error.response.status_code} to /models")
        except (httpx.HTTPError, ValueError) as error:
            return HostStatus(
                self.kind, self.host, False,
                error=f"No OpenAI-compatible server at {self.host} ({type(error).__name__}); is it running?",
            )
        n_ctx = self._props_context()
        models = tuple(self._model_info(item, n_ctx) for item in data if isinstance(item, dict))
        return HostStatus(self.kind, self.host, True, version=None, models=models)

    def _props_context(self) -> int | None:
        """llama.cpp's ``/props`` tells the context size the server was started with."""
        root = self.host.removesuffix("/v1")
        try:
            props = self._client.get(f"{root}/props", timeout=2.0).json()
            return int(props["default_generation_settings"]["n_ctx"])
        except Exception:
            return None

    def _model_info(self, item: dict[str, Any], n_ctx: int | None) -> ModelInfo:
        meta = item.get("meta") or {}
        params = meta.get("n_params")
        return ModelInfo(
            name=str(item.get("id", "")),
            provider=self.kind,
            host=self.host,
            family=item.get("owned_by"),
            parameter_size=_short_count(params) if isinstance(params, int | float) else None,
            size_bytes=meta.get("size"),
            context_length=n_ctx or meta.get("n_ctx_train"),
        )

    # ---- chat -------------------------------------------------------------------

    def _stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        body = self._body(request)
        started = time.perf_counter()
        first: float | None = None
        partial: dict[int, _PartialCall] = {}
        finish: str | None = None
        usage: dict[str, Any] = {}
        timings: dict[str, Any] = {}
        finished = False
        try:
            with self._client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _http_error(response, request.model)
                for data in _sse_data(response.iter_lines()):
                    if data == "[DONE]":
                        finished = True
                        break
                    event = json.loads(data)
                    if "error" in event:
                        raise ProviderError(f"the server failed mid-answer: {_error_text(event)}", retryable=True)
                    usage = event.get("usage") or usage
                    timings = event.get("timings") or timings
                    for choice in event.get("choices") or []:
                        delta = choice.get("delta") or {}
                        if delta.get("reasoning_content"):
                            first = first or time.perf_counter()
                            yield TextChunk(delta["reasoning_content"], thinking=True)
                        if delta.get("content"):
                            first = first or time.perf_counter()
                            yield TextChunk(delta["content"])
                        for fragment in delta.get("tool_calls") or []:
                            first = first or time.perf_counter()
                            _add_fragment(partial, fragment)
                        finish = choice.get("finish_reason") or finish
        except ProviderError:
            raise
        except httpx.ConnectError:
            raise ProviderError(f"No OpenAI-compatible server at {self.host}; is it running?", retryable=True) from None
        except (httpx.TransportError, ValueError) as error:
            raise ProviderError(f"the connection to {self.host} broke mid-answer ({type(error).__name__})", retryable=True) from None
        if not finished and finish is None:
            raise ProviderError(f"{self.host} ended the answer without finishing it", retryable=True)
        calls, unreadable = _assemble(partial)
        if unreadable:
            yield TextChunk(unreadable)
        if calls:
            yield NativeCallsChunk(tuple(calls))
        yield TurnDone(_usage(usage, timings, finish, started, first))

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        s = request.settings
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [_message(m) for m in request.messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            body["tools"] = [t.to_openai() for t in request.tools]
            body["tool_choice"] = request.tool_choice
        for key, value in (("temperature", s.temperature), ("seed", s.seed), ("max_tokens", s.max_tokens)):
            if value is not None:
                body[key] = value
        return body

    def close(self) -> None:
        self._client.close()


def _sse_data(lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        if line.startswith("data:"):
            yield line[5:].strip()


def _add_fragment(partial: dict[int, _PartialCall], fragment: dict[str, Any]) -> None:
    index = int(fragment.get("index", len(partial)))
    call = partial.setdefault(index, _PartialCall())
    call.id = fragment.get("id") or call.id
    function = fragment.get("function") or {}
    call.name += function.get("name") or ""
    call.arguments.append(function.get("arguments") or "")


def _assemble(partial: dict[int, _PartialCall]) -> tuple[list[ToolCall], str]:
    calls: list[ToolCall] = []
    unreadable: list[str] = []
    for index in sorted(partial):
        call = partial[index]
        raw = "".join(call.arguments).strip() or "{}"
        try:
            arguments = json.loads(raw)
        except ValueError:
            arguments = None
        if isinstance(arguments, dict):
            calls.append(ToolCall(call.id or f"call_{index}", call.name, arguments))
        else:
            unreadable.append(f'<tool_call>{{"name": {json.dumps(call.name)}, "arguments": {raw}}}</tool_call>')
    return calls, "\n".join(unreadable)


def _usage(usage: dict[str, Any], timings: dict[str, Any], finish: str | None, started: float, first: float | None) -> Usage:
    completion = int(usage.get("completion_tokens") or timings.get("predicted_n") or 0)
    rate = timings.get("predicted_per_second")
    if rate is None and first is not None and completion:
        rate = completion / max(time.perf_counter() - first, 1e-6)
    prompt_ms = timings.get("prompt_ms")
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens") or timings.get("prompt_n") or 0),
        completion_tokens=completion,
        time_to_first_token_s=(first - started) if first is not None else None,
        tokens_per_s=float(rate) if rate else None,
        prompt_eval_s=prompt_ms / 1000 if prompt_ms else None,
        done_reason="tool_calls" if finish == "tool_calls" else finish,
    )


def _message(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        data["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
            for c in message.tool_calls
        ]
    if message.role == "tool":
        data["tool_call_id"] = message.tool_call_id or ""
    return data


def _error_text(payload: dict[str, Any]) -> str:
    error = payload.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


def _http_error(response: httpx.Response, model: str) -> ProviderError:
    try:
        text = _error_text(response.json())
    except ValueError:
        text = response.text[:300]
    status = response.status_code
    if status in (401, 403):
        return ProviderError(f"the server refused the API key ({status}): {text}", retryable=False, status=status)
    if status == 404:
        return ProviderError(f"the server has no model {model!r}: {text}", retryable=False, status=status)
    if status < 500:
        return ProviderError(f"the server refused the request ({status}): {text}", retryable=False, status=status)
    return ProviderError(f"the server failed ({status}): {text}", retryable=True, status=status)


def _short_count(n: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(int(n))
