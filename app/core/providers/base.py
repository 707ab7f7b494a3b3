"""The one interface every model source implements, and the errors it may raise."""

from __future__ import annotations

import contextlib
import copy
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from app.core.cancel import Cancelled, CancelToken
from app.core.chat import (
    TOO_DEEP,
    ChatRequest,
    GenerationSettings,
    NativeCallsChunk,
    StreamChunk,
    TextChunk,
    ToolCall,
    UnreadableCall,
)


class ProviderKind(StrEnum):
    OLLAMA = "ollama"
    OPENAI = "openai"  # any OpenAI-compatible /v1 server
    ANTHROPIC = "anthropic"
    OPENAI_CLOUD = "openai-cloud"
    SIMULATED = "sim"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What discovery learned about one model on one host."""

    name: str
    provider: ProviderKind
    host: str
    family: str | None = None
    parameter_size: str | None = None
    quantization: str | None = None
    size_bytes: int | None = None
    context_length: int | None = None
    capabilities: frozenset[str] = field(default_factory=frozenset)  # tools, thinking, vision
    loaded: bool = False
    digest: str | None = None
    simulated: bool = False
    description: str = ""

    @property
    def ref(self) -> str:
        from app.core.modelref import ModelRef

        return ModelRef(self.provider, self.host, self.name).label


@dataclass(frozen=True, slots=True)
class HostStatus:
    """Result of probing one host: its models, or why none could be listed."""

    provider: ProviderKind
    host: str
    reachable: bool
    version: str | None = None
    models: tuple[ModelInfo, ...] = ()
    error: str | None = None


class ProviderError(Exception):
    """A failure of the server or transport, never of the model's ability.

    ``retryable`` says whether trying the same attempt again could help (a dropped
    connection can; an unknown model cannot).
    """

    def __init__(self, message: str, *, retryable: bool = True, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status


class ContextLimitError(ProviderError):
    """The server's context window cannot hold the conversation: deterministic, never retried.

    ``context`` is the window in force and ``prompt_tokens`` the size of the prompt the
    server counted, each when the server said.
    """

    def __init__(
        self,
        message: str,
        *,
        context: int | None = None,
        prompt_tokens: int | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, retryable=False, status=status)
        self.context = context
        self.prompt_tokens = prompt_tokens


class Provider(ABC):
    """Streams one assistant turn with tools; lists models; can be cancelled mid-stream."""

    kind: ProviderKind
    #: Providers whose stream blocks on I/O are read on a helper thread so that a
    #: cancel or a wall-time deadline takes effect while the server is silent.
    blocking_io: bool = True

    def __init__(self, host: str) -> None:
        self.host = host

    @abstractmethod
    def discover(self) -> HostStatus:
        """List the host's models with what is known about each."""

    @abstractmethod
    def _stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        """Stream one turn. Raise ``ProviderError`` for server or transport failures."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    #: A credential this provider sends (an API key); no error message ever carries it.
    secret: str | None = None

    def redacted(self, error: ProviderError) -> ProviderError:
        """``error`` with every trace of the provider's credential removed."""
        from app.core.secrets import redact

        if not self.secret:
            return error
        clean = copy.copy(error)  # the same kind of error (a context limit stays one)
        clean.message = redact(error.message, self.secret)
        clean.args = (clean.message,)
        return clean

    def context_window(self, model: str, settings: GenerationSettings) -> int | None:
        """The context (in tokens) a turn of ``model`` runs with, or None when unknown."""
        return settings.num_ctx

    def stream_turn(
        self,
        request: ChatRequest,
        cancel: CancelToken,
        deadline: float | None = None,
    ) -> Iterator[StreamChunk]:
        """Stream a turn, raising ``Cancelled`` or ``TimeoutError`` within ~0.1 s of either;
        a ``ProviderError`` leaves with the credential redacted."""
        try:
            chunks = self._stream_turn(request, cancel, deadline)
            yield from (redacted_stream(chunks, self.secret) if self.secret else chunks)
        except ProviderError as error:
            if self.secret:
                raise self.redacted(error) from None
            raise

    def _stream_turn(
        self,
        request: ChatRequest,
        cancel: CancelToken,
        deadline: float | None,
    ) -> Iterator[StreamChunk]:
        if not self.blocking_io:
            for chunk in self._stream(request):
                if cancel.cancelled:
                    raise Cancelled()
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError("wall-time budget exhausted")
                yield chunk
            return
        yield from _read_on_thread(self._stream(request), cancel, deadline)


def redacted_stream(chunks: Iterator[StreamChunk], secret: str) -> Iterator[StreamChunk]:
    """``chunks`` with ``secret`` removed from text and call arguments, even when a server
    echoes it split over several text pieces: the last ``len(secret) + 16`` characters of
    each channel are held back until the next piece (or the end) shows they hold no key."""
    from app.core.secrets import redact

    held = {False: "", True: ""}  # thinking? -> text not yet passed on
    keep = len(secret) + 16

    def release(thinking: bool, everything: bool) -> Iterator[StreamChunk]:
        clean = redact(held[thinking], secret)
        cut = len(clean) if everything else max(0, len(clean) - keep)
        held[thinking] = clean[cut:]
        if cut:
            yield TextChunk(clean[:cut], thinking=thinking)

    for chunk in chunks:
        if isinstance(chunk, TextChunk):
            held[chunk.thinking] += chunk.text
            yield from release(chunk.thinking, everything=False)
            continue
        for thinking in (True, False):
            yield from release(thinking, everything=True)
        if isinstance(chunk, NativeCallsChunk):
            chunk = _redacted_calls(chunk, secret)
        yield chunk
    for thinking in (True, False):
        yield from release(thinking, everything=True)


def _redacted_calls(chunk: NativeCallsChunk, secret: str) -> NativeCallsChunk:
    from app.core.secrets import redact

    calls: list[ToolCall] = []
    unreadable = [UnreadableCall(redact(u.name, secret), redact(u.arguments, secret)) for u in chunk.unreadable]
    for call in chunk.calls:
        try:
            arguments = _redacted_value(call.arguments, secret)
        except RecursionError:  # nested past any sane depth: not a call we can read
            unreadable.append(UnreadableCall(call.name, TOO_DEEP))
            continue
        calls.append(replace(call, arguments=arguments, raw=redact(call.raw, secret) if call.raw else call.raw))
    return NativeCallsChunk(calls=tuple(calls), unreadable=tuple(unreadable))


def _redacted_value(value: Any, secret: str) -> Any:
    from app.core.secrets import redact

    if isinstance(value, str):
        return redact(value, secret)
    if isinstance(value, dict):
        return {_redacted_value(k, secret): _redacted_value(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted_value(v, secret) for v in value]
    return value


_DONE = object()
_POLL_S = 0.05


def _read_on_thread(
    source: Iterator[StreamChunk], cancel: CancelToken, deadline: float | None
) -> Iterator[StreamChunk]:
    """Drain ``source`` on a daemon thread, so a silent server cannot block cancellation."""
    box: queue.SimpleQueue[object] = queue.SimpleQueue()
    abandoned = threading.Event()

    def pump() -> None:
        try:
            for chunk in source:
                box.put(chunk)
                if abandoned.is_set():
                    break
        except BaseException as exc:  # handed to the consumer below
            box.put(exc)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()
            box.put(_DONE)

    threading.Thread(target=pump, name="provider-stream", daemon=True).start()
    try:
        while True:
            try:
                item = box.get(timeout=_POLL_S)
            except queue.Empty:
                item = None
            if cancel.cancelled:
                raise Cancelled()
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("wall-time budget exhausted")
            if item is None:
                continue
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        abandoned.set()
