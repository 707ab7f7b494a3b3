"""Ollama through the official ``ollama`` client: discovery and streamed chat turns."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import ollama

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

NS = 1e9


class OllamaProvider(Provider):
    kind = ProviderKind.OLLAMA

    def __init__(self, host: str, *, timeout_s: float = 300.0, connect_timeout_s: float = 3.0) -> None:
        super().__init__(host)
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self._client = ollama.Client(host=host, timeout=self._timeout)
        self._streams: set[Any] = set()
        self._lock = threading.Lock()

    # ---- discovery --------------------------------------------------------------

    def discover(self) -> HostStatus:
        try:
            version = self._client._client.get("/api/version").json().get("version")
            tags = self._client.list()
        except (ConnectionError, httpx.HTTPError) as error:
            return HostStatus(self.kind, self.host, False, error=self._unreachable(error))
        except ollama.ResponseError as error:
            return HostStatus(self.kind, self.host, False, error=f"Ollama at {self.host} answered: {error.error}")
        try:
            loaded = {m.model for m in self._client.ps().models}
        except Exception:
            loaded = set()
        names = [m.model or "" for m in tags.models]
        with ThreadPoolExecutor(max_workers=4) as pool:
            shows = list(pool.map(self._show, names))
        models = tuple(
            self._model_info(tag, show, tag.model in loaded) for tag, show in zip(tags.models, shows, strict=True)
        )
        return HostStatus(self.kind, self.host, True, version=version, models=models)

    def _unreachable(self, error: Exception) -> str:
        return (
            f"No Ollama server at {self.host} ({type(error).__name__}). "
            "Start it with `ollama serve`, or add the right host in Preferences."
        )

    def _show(self, name: str) -> Any:
        try:
            return self._client.show(name)
        except Exception:
            return None

    def _model_info(self, tag: Any, show: Any, loaded: bool) -> ModelInfo:
        details = tag.details
        context = None
        capabilities: frozenset[str] = frozenset()
        if show is not None:
            info = show.modelinfo or {}
            context = next((int(v) for k, v in info.items() if k.endswith(".context_length")), None)
            capabilities = frozenset(c for c in (show.capabilities or []) if c in ("tools", "thinking", "vision"))
        return ModelInfo(
            name=tag.model or "",
            provider=self.kind,
            host=self.host,
            family=details.family if details else None,
            parameter_size=details.parameter_size if details else None,
            quantization=details.quantization_level if details else None,
            size_bytes=tag.size,
            context_length=context,
            capabilities=capabilities,
            loaded=loaded,
            digest=tag.digest,
        )

    # ---- chat -------------------------------------------------------------------

    def _stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        options = {
            key: value
            for key, value in (
                ("temperature", request.settings.temperature),
                ("num_ctx", request.settings.num_ctx),
                ("seed", request.settings.seed),
                ("num_predict", request.settings.max_tokens),
            )
            if value is not None
        }
        started = time.perf_counter()
        first: float | None = None
        done: Any = None
        call_count = 0
        try:
            stream = self._client.chat(
                model=request.model,
                messages=[_message(m) for m in request.messages],
                tools=[t.to_openai() for t in request.tools] or None,
                think=request.settings.think,
                options=options or None,
                stream=True,
            )
            for part in stream:
                message = part.message
                if message.thinking:
                    first = first or time.perf_counter()
                    yield TextChunk(message.thinking, thinking=True)
                if message.content:
                    first = first or time.perf_counter()
                    yield TextChunk(message.content)
                if message.tool_calls:
                    first = first or time.perf_counter()
                    calls = []
                    for call in message.tool_calls:
                        calls.append(ToolCall(f"call_{call_count}", call.function.name, dict(call.function.arguments)))
                        call_count += 1
                    yield NativeCallsChunk(tuple(calls))
                if part.done:
                    done = part
        except ollama.ResponseError as error:
            raise _response_error(error, request.model) from None
        except (ConnectionError, httpx.ConnectError) as error:
            raise ProviderError(self._unreachable(error), retryable=True) from None
        except (httpx.TimeoutException, httpx.TransportError) as error:
            raise ProviderError(
                f"the connection to {self.host} broke mid-answer ({type(error).__name__})", retryable=True
            ) from None
        if done is None:
            raise ProviderError(f"{self.host} ended the answer without finishing it", retryable=True)
        yield TurnDone(_usage(done, started, first))

    def close(self) -> None:
        self._client._client.close()


def _message(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        data["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}} for c in message.tool_calls]
    if message.role == "tool" and message.tool_name:
        data["tool_name"] = message.tool_name
    if message.thinking:
        data["thinking"] = message.thinking
    return data


def _usage(done: Any, started: float, first: float | None) -> Usage:
    eval_count = done.eval_count or 0
    eval_s = (done.eval_duration or 0) / NS
    return Usage(
        prompt_tokens=done.prompt_eval_count or 0,
        completion_tokens=eval_count,
        time_to_first_token_s=(first - started) if first is not None else None,
        tokens_per_s=eval_count / eval_s if eval_s > 0 else None,
        load_s=(done.load_duration or 0) / NS if done.load_duration else None,
        prompt_eval_s=(done.prompt_eval_duration or 0) / NS if done.prompt_eval_duration else None,
        done_reason=done.done_reason,
    )


def _response_error(error: ollama.ResponseError, model: str) -> ProviderError:
    text = str(error.error)
    status = error.status_code
    if status == 404 or "not found" in text:
        return ProviderError(
            f"Ollama has no model {model!r}: {text}. Pull it with `ollama pull {model}`.",
            retryable=False,
            status=404,
        )
    if "does not support tools" in text:
        return ProviderError(
            f"{text}: this model has no native tool support; run it in the prompted tool mode instead.",
            retryable=False,
            status=400,
        )
    if status == 400 or "does not support" in text:
        return ProviderError(f"Ollama refused the request: {text}", retryable=False, status=status)
    return ProviderError(f"Ollama failed: {text}", retryable=True, status=status if status > 0 else None)
