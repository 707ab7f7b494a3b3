"""Any OpenAI-compatible ``/v1`` server: llama.cpp's llama-server, LM Studio, vLLM.

Request: ``stream: true`` with ``stream_options.include_usage``; ``tools`` (omitted when
none are offered) with ``tool_choice`` and ``parallel_tool_calls: true`` (llama.cpp
defaults it to false, unlike OpenAI, which would hide a model's parallel calls);
``temperature``, ``seed`` and ``max_tokens`` when set. ``think=None`` sends nothing, so
the server's default holds; ``True``/``False`` sends ``chat_template_kwargs.
enable_thinking``, read by llama.cpp and vLLM templates that can switch thinking.
``num_ctx`` cannot be set per request here: the server's own context applies, read once
from llama.cpp's ``/props`` (``n_ctx`` of a slot) or vLLM's ``max_model_len``.

Context errors are final, never retried (``ContextLimitError``): llama.cpp's HTTP 400
``exceed_context_size_error`` (with ``n_prompt_tokens`` and ``n_ctx``) when the prompt does
not fit, and older builds' HTTP 500 ``Context size has been exceeded.`` (before or during
the stream) when the context fills.

Reply: see ``sse``. Tool calls whose argument JSON does not decode to an object come
back as ``<tool_call>`` text, never as calls, so the recovery layer counts them as
malformed. Usage prefers the server's numbers (``usage``, llama.cpp ``timings``) and
falls back to client-side timing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator
from typing import Any, TypeGuard

import httpx

from app.core.chat import (
    ChatRequest,
    GenerationSettings,
    Message,
    NativeCallsChunk,
    StreamChunk,
    TextChunk,
    TurnDone,
    Usage,
)
from app.core.providers.base import (
    ContextLimitError,
    HostStatus,
    ModelInfo,
    Provider,
    ProviderError,
    ProviderKind,
)
from app.core.providers.sse import DONE, StreamFold, iter_events

PROBE_TIMEOUT_S = 5.0  # discovery: /models and /props answer at once when the server is up


class OpenAICompatProvider(Provider):
    """Streams chat turns from one OpenAI-compatible base URL (ending in ``/v1``)."""

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
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._contexts: dict[str, int | None] = {}  # per model: the server's context, once read
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=self.host,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
        )

    def close(self) -> None:
        """Close the HTTP client and its connections."""
        self._client.close()

    # ---- discovery --------------------------------------------------------------

    def discover(self) -> HostStatus:
        """List the served models; llama.cpp's ``meta`` and ``/props`` add size and context."""
        try:
            listed = self._listed_models()
        except ProviderError as error:
            return HostStatus(self.kind, self.host, False, error=error.message)
        props = self._props() if len(listed) == 1 else None
        models = tuple(self._model_info(item, props) for item in listed)
        version = _text(props.get("build_info")) if props else None
        return HostStatus(self.kind, self.host, True, version=version or None, models=models)

    def _listed_models(self) -> list[dict[str, Any]]:
        try:
            response = self._client.get("/models", timeout=self._probe_timeout())
        except httpx.HTTPError as error:
            reason = self._wire_reason(error, PROBE_TIMEOUT_S)
            raise ProviderError(f"No OpenAI-compatible server answered at {self.host}: {reason}") from None
        if response.status_code >= 400:
            raise _status_error(response, self.host, "/models")
        try:
            data = response.json().get("data")
        except (ValueError, AttributeError):
            data = None
        if not isinstance(data, list):
            raise ProviderError(f"{self.host}/models did not answer like an OpenAI-compatible server")
        return [item for item in data if isinstance(item, dict) and item.get("id")]

    def _props(self) -> dict[str, Any] | None:
        """llama.cpp's ``/props``: the context it runs with, template caps, build."""
        try:
            response = self._client.get(f"{self.host.removesuffix('/v1')}/props", timeout=self._probe_timeout())
            props = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        return props if isinstance(props, dict) else None

    def _model_info(self, item: dict[str, Any], props: dict[str, Any] | None) -> ModelInfo:
        meta = item.get("meta")
        facts: dict[str, Any] = meta if isinstance(meta, dict) else {}  # null while loading
        params = facts.get("n_params")
        return ModelInfo(
            name=str(item["id"]),
            provider=self.kind,
            host=self.host,
            parameter_size=_short_count(params) if _is_number(params) else None,
            size_bytes=_int(facts.get("size")),
            context_length=_context_length(item, facts, props),
            capabilities=_capabilities(props),
            loaded=_loaded(item),
        )

    def context_window(self, model: str, settings: GenerationSettings) -> int | None:
        """The server's own context (a request cannot change it), read once per model."""
        if model not in self._contexts:
            try:
                listed = [m for m in self._listed_models() if m.get("id") == model]
            except ProviderError:
                return None  # not known yet: asked again next time
            item = listed[0] if listed else {}
            meta = item.get("meta")
            props = self._props()
            self._contexts[model] = _context_length(item, meta if isinstance(meta, dict) else {}, props)
        return self._contexts[model]

    def _probe_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(PROBE_TIMEOUT_S, connect=self._connect_timeout_s)

    # ---- chat -------------------------------------------------------------------

    def _stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        """POST the turn and read the SSE stream; closing the generator closes the response."""
        started = time.perf_counter()
        fold = StreamFold()
        try:
            with self._client.stream("POST", "/chat/completions", json=request_body(request)) as response:
                finished = yield from self._read(response, request.model, fold)
        except httpx.HTTPError as error:
            raise self._transport_error(error) from None
        if not finished and fold.finish_reason is None:
            raise ProviderError(f"{self.host} ended the answer before finishing it (no [DONE], no finish_reason)")
        calls, unreadable = fold.calls.finish()
        if calls or unreadable:
            yield NativeCallsChunk(tuple(calls), tuple(unreadable))
        yield TurnDone(turn_usage(fold, started, time.perf_counter()))

    def _read(self, response: httpx.Response, model: str, fold: StreamFold) -> Generator[TextChunk, None, bool]:
        """Yield the text of one response; return whether it was complete ([DONE] seen)."""
        if response.status_code >= 400:
            response.read()
            raise _status_error(response, self.host, "/chat/completions", model)
        if response.headers.get("content-type", "").startswith("application/json"):
            response.read()  # a server that ignored "stream": the whole answer at once
            yield from fold.feed(self._payload(response.text, "message"))
            return True
        for event in iter_events(response.iter_lines()):
            if event.data == DONE:
                return True
            yield from fold.feed(self._payload(event.data, event.event))
        return False

    def _payload(self, data: str, event: str) -> dict[str, Any]:
        """Decode one event; an error event raises a retryable ProviderError."""
        try:
            payload = json.loads(data)
        except ValueError:
            raise ProviderError(f"{self.host} sent a stream event that is not JSON: {data[:120]!r}") from None
        if not isinstance(payload, dict):
            raise ProviderError(f"{self.host} sent a stream event that is not a JSON object")
        if "error" in payload or event == "error":
            status = _error_status(payload)
            limit = context_error(payload, self.host, status)
            if limit is not None:
                raise limit
            raise ProviderError(f"{self.host} failed mid-answer: {_error_text(payload)}", status=status)
        return payload

    def _transport_error(self, error: httpx.HTTPError) -> ProviderError:
        """A wire failure as a ProviderError; only a URL that is not http(s) is final."""
        retryable = not isinstance(error, httpx.UnsupportedProtocol)
        return ProviderError(f"{self.host}: {self._wire_reason(error, self._timeout_s)}", retryable=retryable)

    def _wire_reason(self, error: httpx.HTTPError, read_timeout_s: float) -> str:
        """What went wrong on the wire, in plain words."""
        if isinstance(error, httpx.UnsupportedProtocol):
            return "not an http(s) URL"
        if isinstance(error, httpx.ConnectTimeout):
            return f"no connection within {self._connect_timeout_s:g} s"
        if isinstance(error, httpx.ConnectError):
            return "could not connect (is the server running, and the address right?)"
        if isinstance(error, httpx.ReadTimeout):
            return f"sent nothing for {read_timeout_s:g} s"
        if isinstance(error, httpx.TimeoutException):
            return f"timed out ({type(error).__name__})"
        if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError):
            return "the connection dropped mid-answer"
        return f"{type(error).__name__}: {error}"


# ---- request ------------------------------------------------------------------------


def request_body(request: ChatRequest) -> dict[str, Any]:
    """The JSON body of a streamed ``/chat/completions`` request."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [wire_message(m) for m in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        body["tools"] = [tool.to_openai() for tool in request.tools]
        body["tool_choice"] = request.tool_choice
        body["parallel_tool_calls"] = True
    settings = request.settings
    for key, value in (
        ("temperature", settings.temperature),
        ("seed", settings.seed),
        ("max_tokens", settings.max_tokens),
    ):
        if value is not None:
            body[key] = value
    if settings.think is not None:
        body["chat_template_kwargs"] = {"enable_thinking": settings.think}
    return body


def wire_message(message: Message) -> dict[str, Any]:
    """One message in OpenAI form; earlier thinking is not sent back."""
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        data["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
            }
            for call in message.tool_calls
        ]
    if message.role == "tool":
        data["tool_call_id"] = message.tool_call_id or ""
        if message.tool_name:
            data["name"] = message.tool_name
    return data


# ---- usage --------------------------------------------------------------------------


def turn_usage(fold: StreamFold, started: float, ended: float) -> Usage:
    """Token counts and speed: the server's ``usage``/``timings`` first, the client's clock else."""
    usage, timings = fold.usage, fold.timings
    completion = _int(usage.get("completion_tokens")) or _int(timings.get("predicted_n")) or 0
    prompt = _int(usage.get("prompt_tokens"))
    if prompt is None and _int(timings.get("prompt_n")) is not None:
        prompt = (_int(timings.get("prompt_n")) or 0) + (_int(timings.get("cache_n")) or 0)
    rate = timings.get("predicted_per_second")
    if not _is_number(rate) or rate <= 0:
        rate = _client_rate(completion or fold.deltas, fold.first_output_at, ended)
    prompt_ms = timings.get("prompt_ms")
    first = fold.first_output_at
    return Usage(
        prompt_tokens=prompt or 0,
        completion_tokens=completion,
        time_to_first_token_s=first - started if first is not None else None,
        tokens_per_s=float(rate) if rate else None,
        prompt_eval_s=prompt_ms / 1000 if _is_number(prompt_ms) else None,
        done_reason=fold.finish_reason,
    )


def _client_rate(tokens: int, first: float | None, ended: float) -> float | None:
    if first is None or tokens <= 1 or ended <= first:
        return None
    return (tokens - 1) / (ended - first)  # the first token's time is the time to first token


# ---- errors -------------------------------------------------------------------------


def _status_error(response: httpx.Response, host: str, path: str, model: str | None = None) -> ProviderError:
    """Turn an HTTP error status into a ProviderError that says what to do about it."""
    status = response.status_code
    detail = _response_detail(response)
    try:
        payload = response.json()
    except ValueError:
        payload = None
    limit = context_error(payload if isinstance(payload, dict) else {"error": detail}, host, status)
    if limit is not None:
        return limit
    if status in (401, 403):
        message = f"{host} refused the request (HTTP {status}): the API key is missing or wrong ({detail})"
        return ProviderError(message, retryable=False, status=status)
    if status == 404 and model and model in detail:
        return ProviderError(f"{host} has no model {model!r} (HTTP 404: {detail})", retryable=False, status=status)
    if status == 404:
        message = f"{host} answered HTTP 404 to {path}: {detail} (does the base URL end in /v1?)"
        return ProviderError(message, retryable=False, status=status)
    retryable = status in (408, 429) or (status >= 500 and status != 501)
    verb = "failed" if retryable else "rejected the request"
    return ProviderError(f"{host} {verb} (HTTP {status}): {detail}", retryable=retryable, status=status)


def context_error(payload: dict[str, Any], host: str, status: int | None) -> ContextLimitError | None:
    """llama.cpp's two context errors as a ``ContextLimitError``; None for anything else."""
    error = payload.get("error")
    fields = error if isinstance(error, dict) else payload
    text = _error_text(payload)
    code = f"HTTP {status}" if status else "mid-answer"
    if fields.get("type") == "exceed_context_size_error" or "exceeds the available context size" in text:
        prompt, context = _int(fields.get("n_prompt_tokens")), _int(fields.get("n_ctx"))
        sizes = f"a {prompt}-token prompt" if prompt is not None else "the prompt"
        window = f"its {context}-token context" if context is not None else "its context"
        message = f"{host} cannot fit {sizes} in {window} ({code} exceed_context_size_error)"
        return ContextLimitError(message, context=context, prompt_tokens=prompt, status=status)
    if "context size has been exceeded" in text.lower():
        message = f"{host}: its context filled up ({code}: {' '.join(text.split())[:120]})"
        return ContextLimitError(message, status=status)
    return None


def _response_detail(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    text = _error_text(payload) if isinstance(payload, dict) else response.text
    return " ".join(text.split())[:300] or response.reason_phrase


def _error_text(payload: dict[str, Any]) -> str:
    """The message of an OpenAI error object, nested (llama.cpp, OpenAI) or flat (old vLLM)."""
    error = payload.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error)
    if isinstance(error, str) and error:
        return error
    return str(payload.get("message") or payload.get("detail") or payload)


def _error_status(payload: dict[str, Any]) -> int | None:
    error = payload.get("error")
    code = error.get("code") if isinstance(error, dict) else payload.get("code")
    return code if isinstance(code, int) else None


# ---- small readers ------------------------------------------------------------------


def _context_length(item: dict[str, Any], meta: dict[str, Any], props: dict[str, Any] | None) -> int | None:
    """The context the server runs with if it says, else the one the model was trained for."""
    settings = props.get("default_generation_settings") if props else None
    running = settings.get("n_ctx") if isinstance(settings, dict) else None
    for value in (running, meta.get("n_ctx"), meta.get("n_ctx_train"), item.get("max_model_len")):
        if (number := _int(value)) and number > 0:
            return number
    return None


def _loaded(item: dict[str, Any]) -> bool:
    """llama.cpp's router says per model; llama.cpp and vLLM otherwise list only what they serve."""
    status = item.get("status")
    if isinstance(status, dict):
        return status.get("value") == "loaded"
    return item.get("owned_by") in ("llamacpp", "vllm")


def _capabilities(props: dict[str, Any] | None) -> frozenset[str]:
    """What llama.cpp's ``/props`` says the chat template and model support."""
    if not props:
        return frozenset()
    caps = props.get("chat_template_caps")
    caps = caps if isinstance(caps, dict) else {}
    modalities = props.get("modalities")
    modalities = modalities if isinstance(modalities, dict) else {}
    found = set()
    if caps.get("supports_tool_calls") is True or caps.get("supports_tools") is True:
        found.add("tools")
    if modalities.get("vision") is True:
        found.add("vision")
    return frozenset(found)


def _short_count(n: float) -> str:
    """134_515_008 -> '135M', 8_030_261_312 -> '8.03B'."""
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(int(n))


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int(value: object) -> int | None:
    return int(value) if _is_number(value) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
