"""Anthropic's Messages API through the official ``anthropic`` SDK: a cloud baseline.

Request: the system messages become ``system``; tools are ``{name, description,
input_schema}`` with ``tool_choice`` ``auto``/``any``/``none``; an assistant turn carries
its calls as ``tool_use`` blocks and the next user message answers them with
``tool_result`` blocks (consecutive messages of one role are merged, since the API wants
turns to alternate); ``max_tokens`` is required (the per-turn cap, else 4096);
``temperature`` is clamped to Anthropic's 0–1. ``seed`` and ``num_ctx`` have no
counterpart. ``think`` is not sent: extended thinking with tools needs the earlier thinking
blocks, signed, sent back with each tool result, and neutral chat messages do not keep them.

Reply: the raw stream events ``message_start`` (input tokens), ``content_block_start``
(``text``, ``thinking`` or ``tool_use`` with its id and name), ``content_block_delta``
(``text_delta``, ``thinking_delta``, ``input_json_delta`` pieces of the input JSON),
``message_delta`` (``stop_reason``, output tokens so far) and ``message_stop``.

The key is read from the keyring for each turn (so a key added or replaced in Preferences
applies at once) and goes nowhere but the ``x-api-key`` header; the SDK's own retries are
off, since the runner decides what to retry.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from app.core.chat import (
    ChatRequest,
    Message,
    NativeCallsChunk,
    StreamChunk,
    TextChunk,
    ToolChoice,
    TurnDone,
    Usage,
)
from app.core.providers.base import HostStatus, ModelInfo, ProviderError, ProviderKind
from app.core.providers.cloud import CloudProvider
from app.core.providers.sse import ToolCallAssembler
from app.core.secrets import redact

if TYPE_CHECKING:
    import anthropic

KEY_NAME = ProviderKind.ANTHROPIC.value
COMPANY = "Anthropic"
DEFAULT_MAX_TOKENS = 4096
PROBE_TIMEOUT_S = 10.0
CLOUD_DESCRIPTION = "Cloud model (Anthropic): prompts and tool results are sent there, billed per token"
_STOP_REASONS = {"end_turn": "stop", "max_tokens": "length"}
_TOOL_CHOICE: dict[ToolChoice, str] = {"auto": "auto", "required": "any", "none": "none"}
_RETRYABLE_TYPES = frozenset({"rate_limit_error", "overloaded_error", "api_error", "timeout_error"})


def _sdk() -> ModuleType:
    try:
        import anthropic
    except ImportError:
        raise ProviderError(
            "Anthropic models need the anthropic package: pip install 'agentgap[cloud]'",
            retryable=False,
        ) from None
    return anthropic


class AnthropicCloudProvider(CloudProvider["anthropic.Anthropic"]):
    """Streams chat turns from Anthropic's Messages API at ``base_url`` (no ``/v1``)."""

    kind = ProviderKind.ANTHROPIC
    key_name = KEY_NAME
    company = COMPANY

    def _load_sdk(self) -> ModuleType:
        return _sdk()

    def _new_client(self, sdk: ModuleType, key: str, timeout: Any) -> anthropic.Anthropic:
        client: anthropic.Anthropic = sdk.Anthropic(api_key=key, base_url=self.host, timeout=timeout, max_retries=0)
        return client

    # ---- discovery --------------------------------------------------------------

    def discover(self) -> HostStatus:
        """The models the key may use (``GET /v1/models``), all marked as cloud models."""
        try:
            client, key = self._sdk_client()
            sdk = _sdk()
            try:
                timeout = sdk.Timeout(PROBE_TIMEOUT_S, connect=self._connect_timeout_s)
                listed = [_plain(m) for m in client.models.list(limit=100, timeout=timeout)]
            except sdk.APIError as error:
                raise _provider_error(error, key, None) from None
        except ProviderError as error:
            return HostStatus(self.kind, self.host, False, error=error.message)
        models = tuple(self._model_info(item) for item in listed if item.get("id"))
        return HostStatus(self.kind, self.host, True, models=models)

    def _model_info(self, item: dict[str, Any]) -> ModelInfo:
        context = item.get("max_input_tokens")
        return ModelInfo(
            name=str(item["id"]),
            provider=self.kind,
            host=self.host,
            family="claude",
            context_length=context if isinstance(context, int) else None,
            capabilities=frozenset({"tools", "vision"}),
            description=f"{item.get('display_name') or item['id']} — {CLOUD_DESCRIPTION}",
        )

    # ---- chat -------------------------------------------------------------------

    def _stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        client, key = self._sdk_client()
        sdk = _sdk()
        started = time.perf_counter()
        fold = _EventFold()
        try:
            stream = client.messages.create(**request_params(request), stream=True)
            try:
                for event in stream:
                    yield from fold.feed(_plain(event))
            finally:
                stream.close()
        except sdk.APIError as error:
            raise _provider_error(error, key, request.model) from None
        if not fold.stopped:
            raise ProviderError(f"{COMPANY} ended the answer before finishing it (no message_stop)")
        calls, unreadable = fold.calls.finish()
        if calls or unreadable:
            yield NativeCallsChunk(tuple(calls), tuple(unreadable))
        yield TurnDone(fold.usage(started, time.perf_counter()))


# ---- request ------------------------------------------------------------------------


def request_params(request: ChatRequest) -> dict[str, Any]:
    """Keyword arguments of ``messages.create`` (everything but ``stream``)."""
    settings = request.settings
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": settings.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": wire_messages(request.messages),
    }
    system = "\n\n".join(m.content for m in request.messages if m.role == "system" and m.content)
    if system:
        params["system"] = system
    if request.tools:
        params["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in request.tools
        ]
        params["tool_choice"] = {"type": _TOOL_CHOICE[request.tool_choice]}
    if settings.temperature is not None:
        # the API field, sent as is: newer SDKs no longer take it as an argument
        params["extra_body"] = {"temperature": min(max(settings.temperature, 0.0), 1.0)}
    return params


def wire_messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Neutral messages as Anthropic's alternating user/assistant turns of content blocks."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:  # tool results must open the user turn that answers the calls
        if turn["role"] == "user":
            turn["content"].sort(key=lambda block: block["type"] != "tool_result")
    return turns


def _blocks(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {
                "type": "tool_result",
                "tool_use_id": tool_use_id(message.tool_call_id),
                "content": message.content or "(no output)",
            }
        ]
    blocks: list[dict[str, Any]] = []
    if message.content.strip():  # the API refuses empty text blocks
        blocks.append({"type": "text", "text": message.content})
    if message.role == "assistant":
        blocks += [
            {"type": "tool_use", "id": tool_use_id(call.id), "name": call.name, "input": call.arguments}
            for call in message.tool_calls
        ]
    return blocks


def tool_use_id(call_id: str | None) -> str:
    """A call id in the form the API accepts (letters, digits, ``_`` and ``-``)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", call_id or "")
    return cleaned or "call"


# ---- reply --------------------------------------------------------------------------


class _EventFold:
    """Folds raw stream events into text chunks, tool calls, stop reason and token counts."""

    def __init__(self) -> None:
        self.calls = ToolCallAssembler()
        self.stopped = False
        self.stop_reason: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.first_output_at: float | None = None
        self.deltas = 0

    def feed(self, event: dict[str, Any]) -> list[TextChunk]:
        kind = event.get("type")
        if kind == "message_start":
            self._count(_dict(_dict(event.get("message")).get("usage")))
        elif kind == "content_block_start":
            return self._start(event.get("index"), _dict(event.get("content_block")))
        elif kind == "content_block_delta":
            return self._delta(event.get("index"), _dict(event.get("delta")))
        elif kind == "message_delta":
            self.stop_reason = _text(_dict(event.get("delta")).get("stop_reason")) or self.stop_reason
            self._count(_dict(event.get("usage")))
        elif kind == "message_stop":
            self.stopped = True
        return []

    def _count(self, usage: dict[str, Any]) -> None:
        prompt = sum(
            value
            for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
            if isinstance(value := usage.get(name), int)
        )
        self.input_tokens = prompt or self.input_tokens
        if isinstance(output := usage.get("output_tokens"), int):
            self.output_tokens = output

    def _start(self, index: object, block: dict[str, Any]) -> list[TextChunk]:
        if block.get("type") == "tool_use":
            initial = block.get("input")
            arguments = json.dumps(initial) if isinstance(initial, dict) and initial else ""
            self._output()
            self.calls.add({"index": index, "id": _text(block.get("id")),
                            "function": {"name": _text(block.get("name")), "arguments": arguments}})
            return []
        return self._text(_text(block.get("text")), thinking=False) + self._text(
            _text(block.get("thinking")), thinking=True
        )

    def _delta(self, index: object, delta: dict[str, Any]) -> list[TextChunk]:
        kind = delta.get("type")
        if kind == "text_delta":
            return self._text(_text(delta.get("text")), thinking=False)
        if kind == "thinking_delta":
            return self._text(_text(delta.get("thinking")), thinking=True)
        if kind == "input_json_delta":
            self._output()
            self.calls.add({"index": index, "function": {"arguments": _text(delta.get("partial_json"))}})
        return []

    def _text(self, text: str, *, thinking: bool) -> list[TextChunk]:
        if not text:
            return []
        self._output()
        return [TextChunk(text, thinking=thinking)]

    def _output(self) -> None:
        self.deltas += 1
        if self.first_output_at is None:
            self.first_output_at = time.perf_counter()

    def usage(self, started: float, ended: float) -> Usage:
        first = self.first_output_at
        tokens = self.output_tokens or self.deltas
        rate = (tokens - 1) / (ended - first) if first is not None and tokens > 1 and ended > first else None
        return Usage(
            prompt_tokens=self.input_tokens,
            completion_tokens=self.output_tokens,
            time_to_first_token_s=first - started if first is not None else None,
            tokens_per_s=rate,
            done_reason=_STOP_REASONS.get(self.stop_reason or "", self.stop_reason),
        )


# ---- errors -------------------------------------------------------------------------


def _provider_error(error: Exception, key: str, model: str | None) -> ProviderError:
    """An SDK error as a ProviderError that says what to do; the key never appears in it."""
    sdk = _sdk()
    if isinstance(error, sdk.APITimeoutError):
        return ProviderError(f"{COMPANY} did not answer in time ({type(error).__name__})")
    if isinstance(error, sdk.APIConnectionError):
        return ProviderError(f"Could not reach {COMPANY}: {redact(str(error), key)}")
    if not isinstance(error, sdk.APIStatusError):
        return ProviderError(f"{COMPANY} failed: {redact(str(error), key)}")
    status = error.status_code
    kind, detail = _error_body(error.body)
    detail = redact(detail or str(error), key)
    if status == 401 or kind == "authentication_error":
        return ProviderError(
            f"{COMPANY} rejected the API key (HTTP 401: {detail}). Replace the key stored in the "
            f"system keyring (Preferences → API keys).",
            retryable=False,
            status=401,
        )
    if status == 403 or kind == "permission_error":
        return ProviderError(f"{COMPANY} refused the request (HTTP 403: {detail})", retryable=False, status=status)
    if status == 404 and model:
        return ProviderError(f"{COMPANY} has no model {model!r} (HTTP 404: {detail})", retryable=False, status=status)
    retryable = kind in _RETRYABLE_TYPES or status in (408, 409, 429) or status >= 500
    if status == 200:  # an error event after the stream began
        return ProviderError(f"{COMPANY} failed mid-answer ({kind or 'error'}): {detail}", retryable=retryable)
    verb = "failed" if retryable else "rejected the request"
    label = f"HTTP {status} {kind}" if kind else f"HTTP {status}"
    return ProviderError(f"{COMPANY} {verb} ({label}): {detail}", retryable=retryable, status=status)


def _error_body(body: object) -> tuple[str | None, str]:
    """``(error.type, error.message)`` of an Anthropic error object."""
    error = _dict(_dict(body).get("error")) or _dict(body)
    return _text(error.get("type")) or None, " ".join(_text(error.get("message")).split())[:300]


# ---- small readers ------------------------------------------------------------------


def _plain(value: object) -> dict[str, Any]:
    """An SDK object (a pydantic model) as a plain dict."""
    if isinstance(value, dict):
        return value
    dump = getattr(value, "model_dump", None)
    result = dump() if callable(dump) else None
    return result if isinstance(result, dict) else {}


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
