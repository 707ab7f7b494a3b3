"""OpenAI's Chat Completions API through the official ``openai`` SDK: a cloud baseline.

Request: ``stream=True`` with ``stream_options.include_usage``; messages and tools in the
same form as any OpenAI-compatible server (``openai_compat.wire_message``), with
``tool_choice`` and ``parallel_tool_calls``; ``temperature`` and ``seed`` when set, and
the per-turn cap as ``max_completion_tokens`` (``max_tokens`` is refused by OpenAI's
reasoning models). ``num_ctx`` and ``think`` have no counterpart and are not sent.

Reply: ``chat.completion.chunk`` objects, folded like a local server's (``sse.StreamFold``):
tool-call deltas by ``index``, argument JSON strings in pieces, usage on a last chunk with
no choices. A stream that ends without a ``finish_reason`` was cut short.

The key is read from the keyring for each turn and goes nowhere but the ``Authorization``
header; error texts that echo part of it are redacted. The SDK's own retries are off.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from app.core.chat import ChatRequest, NativeCallsChunk, StreamChunk, TurnDone
from app.core.providers.base import HostStatus, ModelInfo, ProviderError, ProviderKind
from app.core.providers.cloud import CloudProvider
from app.core.providers.openai_compat import request_body, turn_usage
from app.core.providers.sse import StreamFold
from app.core.secrets import redact

if TYPE_CHECKING:
    import openai

KEY_NAME = ProviderKind.OPENAI_CLOUD.value
COMPANY = "OpenAI"
PROBE_TIMEOUT_S = 10.0
CLOUD_DESCRIPTION = "Cloud model (OpenAI): prompts and tool results are sent there, billed per token"
#: ``/v1/models`` also lists embedding, audio, image and moderation models; only chat
#: models that can call tools are offered.
_CHAT_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-")
_NOT_CHAT = ("instruct", "audio", "realtime", "transcribe", "tts", "image", "embedding", "search",
             "moderation", "codex", "o1-mini", "o1-preview")


def _sdk() -> ModuleType:
    try:
        import openai
    except ImportError:
        raise ProviderError(
            "OpenAI models need the openai package: pip install 'agentgap[cloud]'", retryable=False
        ) from None
    return openai


def is_chat_model(model_id: str) -> bool:
    """Whether a listed model is a chat model worth offering as an agent."""
    return model_id.startswith(_CHAT_PREFIXES) and not any(word in model_id for word in _NOT_CHAT)


class OpenAICloudProvider(CloudProvider["openai.OpenAI"]):
    """Streams chat turns from OpenAI's API at ``base_url`` (ending in ``/v1``)."""

    kind = ProviderKind.OPENAI_CLOUD
    key_name = KEY_NAME
    company = COMPANY

    def _load_sdk(self) -> ModuleType:
        return _sdk()

    def _new_client(self, sdk: ModuleType, key: str, timeout: Any) -> openai.OpenAI:
        client: openai.OpenAI = sdk.OpenAI(api_key=key, base_url=self.host, timeout=timeout, max_retries=0)
        return client

    # ---- discovery --------------------------------------------------------------

    def discover(self) -> HostStatus:
        """The chat models the key may use (``GET /v1/models``), marked as cloud models."""
        try:
            client, key = self._sdk_client()
            sdk = _sdk()
            try:
                timeout = sdk.Timeout(PROBE_TIMEOUT_S, connect=self._connect_timeout_s)
                listed = sorted(m.id for m in client.models.list(timeout=timeout))
            except sdk.APIError as error:
                raise _provider_error(error, key, None) from None
        except ProviderError as error:
            return HostStatus(self.kind, self.host, False, error=error.message)
        models = tuple(self._model_info(name) for name in listed if is_chat_model(name))
        return HostStatus(self.kind, self.host, True, models=models)

    def _model_info(self, name: str) -> ModelInfo:
        return ModelInfo(
            name=name,
            provider=self.kind,
            host=self.host,
            family="gpt" if name.startswith(("gpt-", "chatgpt-")) else "o-series",
            capabilities=frozenset({"tools"}),
            description=f"{name} — {CLOUD_DESCRIPTION}",
        )

    # ---- chat -------------------------------------------------------------------

    def _stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        client, key = self._sdk_client()
        sdk = _sdk()
        started = time.perf_counter()
        fold = StreamFold()
        try:
            stream = client.chat.completions.create(**request_params(request))
            try:
                for chunk in stream:
                    yield from fold.feed(chunk.model_dump())
            finally:
                stream.close()
        except sdk.APIError as error:
            raise _provider_error(error, key, request.model) from None
        if fold.finish_reason is None:
            raise ProviderError(f"{COMPANY} ended the answer before finishing it (no finish_reason)")
        calls, unreadable = fold.calls.finish()
        if calls or unreadable:
            yield NativeCallsChunk(tuple(calls), tuple(unreadable))
        yield TurnDone(turn_usage(fold, started, time.perf_counter()))


# ---- request ------------------------------------------------------------------------


def request_params(request: ChatRequest) -> dict[str, Any]:
    """Keyword arguments of a streamed ``chat.completions.create``: a local server's body,
    with the cap as ``max_completion_tokens`` and no chat-template switches."""
    params = request_body(request)
    params.pop("chat_template_kwargs", None)
    if "max_tokens" in params:
        params["max_completion_tokens"] = params.pop("max_tokens")
    return params


# ---- errors -------------------------------------------------------------------------


def _provider_error(error: Exception, key: str, model: str | None) -> ProviderError:
    """An SDK error as a ProviderError that says what to do; the key never appears in it."""
    sdk = _sdk()
    if isinstance(error, sdk.APITimeoutError):
        return ProviderError(f"{COMPANY} did not answer in time ({type(error).__name__})")
    if isinstance(error, sdk.APIConnectionError):
        return ProviderError(f"Could not reach {COMPANY}: {redact(str(error), key)}")
    code, detail = _error_body(getattr(error, "body", None))
    detail = redact(detail or str(error), key)
    if not isinstance(error, sdk.APIStatusError):  # an error event after the stream began
        return ProviderError(f"{COMPANY} failed mid-answer: {detail}")
    status = error.status_code
    if status == 401:
        return ProviderError(
            f"{COMPANY} rejected the API key (HTTP 401: {detail}). Replace the key stored in the "
            f"system keyring (Preferences → API keys).",
            retryable=False,
            status=status,
        )
    if status == 429 and code == "insufficient_quota":
        return ProviderError(
            f"{COMPANY} refused the request: the account has no credit left (HTTP 429: {detail})",
            retryable=False,
            status=status,
        )
    if status == 404 and model:
        return ProviderError(f"{COMPANY} has no model {model!r} (HTTP 404: {detail})", retryable=False, status=status)
    retryable = status in (408, 409, 429) or status >= 500
    verb = "failed" if retryable else "rejected the request"
    return ProviderError(f"{COMPANY} {verb} (HTTP {status}): {detail}", retryable=retryable, status=status)


def _error_body(body: object) -> tuple[str | None, str]:
    """``(code, message)`` of an OpenAI error object (the SDK hands over its ``error`` part)."""
    error = body if isinstance(body, dict) else {}
    if isinstance(error.get("error"), dict):
        error = error["error"]
    code = error.get("code")
    message = error.get("message")
    text = " ".join(message.split())[:300] if isinstance(message, str) else ""
    return (code if isinstance(code, str) else None), text
