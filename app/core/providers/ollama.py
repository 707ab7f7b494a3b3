"""Ollama through the official ``ollama`` client: discovery, and turns streamed with native tools.

Discovery: ``/api/version``, ``/api/tags``, ``/api/show`` per model (capabilities, context
length from ``model_info["<arch>.context_length"]``) and ``/api/ps`` (loaded state), on a
client with a short read timeout so a hung host cannot stall the models page.

Chat: ``stream: true``; ``tools`` omitted when none are offered; ``think`` only when set, so
the server's default holds; ``options`` carry ``temperature``, ``num_ctx``, ``seed`` and
``num_predict`` only when set. ``tool_choice`` is never sent: ``/api/chat`` has no such
field, so this provider says it cannot force a call (``forces_tool_choice``) and the agent
loop asks for a required call in the system prompt instead. Usage comes from the final
chunk (nanosecond durations); time to first token is measured here. The context a turn
runs with is the ``num_ctx`` sent, else the loaded runner's ``context_length`` from
``/api/ps``, else a ``num_ctx`` parameter of the model (``/api/show``); an error that says
the context is exceeded is final (``ContextLimitError``). Each turn opens its own connection, so a turn given
up early (cancel, deadline, ``close()``) has its socket cut at once, even while the server
is silent loading a model or reading a long prompt, which also tells Ollama to stop.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import ollama

from app.core.cancel import CancelToken
from app.core.chat import (
    TOO_DEEP,
    ChatRequest,
    GenerationSettings,
    Message,
    NativeCallsChunk,
    StreamChunk,
    TextChunk,
    ToolCall,
    TurnDone,
    UnreadableCall,
    Usage,
)
from app.core.providers.base import (
    ContextLimitError,
    HostStatus,
    ModelInfo,
    Provider,
    ProviderError,
    ProviderKind,
    _read_on_thread,
)

NS_PER_S = 1e9
DISCOVERY_TIMEOUT_S = 15.0
BADGES = frozenset({"tools", "thinking", "vision"})
CONNECT_EVENTS = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})
FAILURES = (ollama.ResponseError, ConnectionError, httpx.HTTPError, ValueError)
#: what a context error says, from Ollama itself or from a llama.cpp server behind it
CONTEXT_ERRORS = ("context size has been exceeded", "exceeds the available context size",
                  "exceeds the context length")


class OllamaProvider(Provider):
    """Lists one Ollama host's models and streams chat turns through its native tools API."""

    kind = ProviderKind.OLLAMA
    #: ``/api/chat`` cannot be told to make a call; see the module docstring.
    forces_tool_choice = False

    def __init__(
        self, host: str, *, timeout_s: float = 300.0, connect_timeout_s: float = 3.0
    ) -> None:
        super().__init__(host)
        self._timeout_s = timeout_s
        self._local = threading.local()
        self._live: set[_Turn] = set()
        self._live_lock = threading.Lock()
        self._client = ollama.Client(
            host=host,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(max_keepalive_connections=0),  # a connection per turn
            event_hooks={"request": [self._trace_turn]},
            verify=_tls(),
        )
        self._meta = ollama.Client(
            host=host,
            timeout=httpx.Timeout(min(timeout_s, DISCOVERY_TIMEOUT_S), connect=connect_timeout_s),
            verify=_tls(),
        )

    def close(self) -> None:
        """Cut the turns still streaming and close both clients."""
        with self._live_lock:
            live = list(self._live)
        for turn in live:
            turn.cut()
        self._client._client.close()
        self._meta._client.close()

    # ---- discovery --------------------------------------------------------------

    def discover(self) -> HostStatus:
        """Version, models and what ``show`` and ``ps`` say of each; one failed ``show`` is skipped."""
        try:
            version = self._version()
            tags = list(self._meta.list().models)
        except (ConnectionError, httpx.TransportError) as error:
            return HostStatus(self.kind, self.host, False, error=self._unreachable(error))
        except (ollama.ResponseError, httpx.HTTPStatusError, ValueError) as error:
            message = f"{self.host} answered, but not as an Ollama server does ({_detail(error)})."
            return HostStatus(self.kind, self.host, False, error=message)
        loaded = self._loaded()
        with ThreadPoolExecutor(max_workers=4) as pool:
            shows = list(pool.map(self._show, [tag.model or "" for tag in tags]))
        models = tuple(
            self._model_info(tag, show, loaded) for tag, show in zip(tags, shows, strict=True)
        )
        return HostStatus(self.kind, self.host, True, version=version, models=models)

    def _version(self) -> str | None:
        response = self._meta._client.get("/api/version")
        response.raise_for_status()
        version = response.json().get("version")
        return str(version) if version else None

    def _loaded(self) -> set[str]:
        try:
            return {model.model or "" for model in self._meta.ps().models}
        except FAILURES:
            return set()

    def _show(self, name: str) -> ollama.ShowResponse | None:
        try:
            return self._meta.show(name)
        except FAILURES:
            return None

    def _model_info(
        self, tag: ollama.ListResponse.Model, show: ollama.ShowResponse | None, loaded: set[str]
    ) -> ModelInfo:
        details = tag.details
        return ModelInfo(
            name=tag.model or "",
            provider=self.kind,
            host=self.host,
            family=details.family if details else None,
            parameter_size=details.parameter_size if details else None,
            quantization=details.quantization_level if details else None,
            size_bytes=int(tag.size) if tag.size is not None else None,
            context_length=_context_length(show),
            capabilities=frozenset(show.capabilities or ()) & BADGES if show else frozenset(),
            loaded=tag.model in loaded,
            digest=tag.digest,
        )

    def context_window(self, model: str, settings: GenerationSettings) -> int | None:
        """The ``num_ctx`` sent, else what the loaded runner uses, else the model's own parameter."""
        if settings.num_ctx:
            return settings.num_ctx
        try:
            running = [m.context_length for m in self._meta.ps().models if m.model == model or m.name == model]
        except FAILURES:
            running = []
        if running and running[0]:
            return int(running[0])
        show = self._show(model)
        return _num_ctx_parameter(show.parameters if show else None)

    def _unreachable(self, error: BaseException) -> str:
        cause = _cause(error)
        if isinstance(cause, httpx.TimeoutException) and not isinstance(
            cause, httpx.ConnectTimeout
        ):
            return f"Ollama at {self.host} took the connection but did not answer in time."
        return f"No Ollama server at {self.host} ({_why(cause)}). Start it with `ollama serve`."

    # ---- chat -------------------------------------------------------------------

    def stream_turn(
        self, request: ChatRequest, cancel: CancelToken, deadline: float | None = None
    ) -> Iterator[StreamChunk]:
        """As ``Provider.stream_turn``; a turn given up early also has its connection cut."""
        turn = _Turn()
        try:
            yield from _read_on_thread(self._turn(request, turn), cancel, deadline)
        finally:
            turn.cut()

    def _stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        return self._turn(request, _Turn())

    def _trace_turn(self, request: httpx.Request) -> None:
        """Request hook: let the turn starting on this thread see its connection open."""
        turn: _Turn | None = getattr(self._local, "turn", None)
        if turn is not None:
            self._local.turn = None
            request.extensions["trace"] = turn.trace

    def _turn(self, request: ChatRequest, turn: _Turn) -> Iterator[StreamChunk]:
        """Stream one turn, mapping every server or transport failure to ``ProviderError``."""
        started = time.perf_counter()
        first: float | None = None
        done: ollama.ChatResponse | None = None
        calls = 0
        if self._client._client.is_closed:
            raise ProviderError(f"The Ollama client for {self.host} is closed.", retryable=True)
        parts = self._open(request)  # nothing is sent before the first part is read
        with self._live_lock:
            self._live.add(turn)
        self._local.turn = turn  # read by the request hook when that happens, on this thread
        try:
            for part in parts:
                message = part.message
                if first is None and (message.content or message.thinking or message.tool_calls):
                    first = time.perf_counter()
                if message.thinking:
                    yield TextChunk(message.thinking, thinking=True)
                if message.content:
                    yield TextChunk(message.content)
                if message.tool_calls:
                    yield NativeCallsChunk(_tool_calls(message.tool_calls, calls))
                    calls += len(message.tool_calls)
                if part.done:
                    done = part
        except RecursionError:  # the model's reply nests past any reading: its fault, not ours
            yield NativeCallsChunk((), (UnreadableCall("", TOO_DEEP),))
            yield TurnDone(Usage(done_reason="stop"))
            return
        except ollama.ResponseError as error:
            raise _refused(error, request.model, self.host) from None
        except (ConnectionError, httpx.TransportError, ValueError) as error:
            raise self._broken(error) from None
        finally:
            self._local.turn = None
            _close(parts)
            turn.release()
            with self._live_lock:
                self._live.discard(turn)
        if done is None:
            cut_short = (
                f"Ollama at {self.host} stopped before the answer was complete (no final chunk)."
            )
            raise ProviderError(cut_short, retryable=True)
        yield TurnDone(_usage(done, started, first))

    def _open(self, request: ChatRequest) -> Iterator[ollama.ChatResponse]:
        try:
            return self._client.chat(stream=True, **_chat_arguments(request))
        except ValueError as error:  # the client's own validation of messages and tools
            message = f"The request cannot be sent to Ollama: {_detail(error)}"
            raise ProviderError(message, retryable=False) from None

    def _broken(self, error: BaseException) -> ProviderError:
        if isinstance(error, ConnectionError | httpx.ConnectError | httpx.ConnectTimeout):
            return ProviderError(self._unreachable(error), retryable=True)
        if isinstance(error, httpx.TimeoutException):
            message = f"Ollama at {self.host} sent nothing for {self._timeout_s:g} s."
        elif isinstance(error, ValueError):
            message = (
                f"Ollama at {self.host} sent a reply that could not be read ({_detail(error)})."
            )
        else:
            message = f"The connection to {self.host} broke mid-answer ({_detail(error)})."
        return ProviderError(message, retryable=True)


class _Turn:
    """The connection of one streamed turn, which another thread may cut at any moment."""

    __slots__ = ("_cut", "_lock", "_socket")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._cut = False

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore trace callback: remember the socket once connected (cut it if too late)."""
        if event not in CONNECT_EVENTS:
            return
        sock = info["return_value"].get_extra_info("socket")
        with self._lock:
            self._socket = sock
            cut = self._cut
        if cut:
            _shutdown(sock)

    def release(self) -> None:
        """The turn is over: its connection is no longer ours to cut."""
        with self._lock:
            self._socket = None

    def cut(self) -> None:
        """Shut the connection down so a blocked read returns at once."""
        with self._lock:
            self._cut = True
            sock, self._socket = self._socket, None
        if sock is not None:
            _shutdown(sock)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One certificate store for every client: loading it costs ~50 ms each time."""
    return httpx.create_ssl_context()


def _close(parts: Iterator[Any]) -> None:
    close = getattr(parts, "close", None)
    if close is not None:
        close()


def _shutdown(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


# ---- request ------------------------------------------------------------------------


def _chat_arguments(request: ChatRequest) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "model": request.model,
        "messages": [_message(m) for m in request.messages],
    }
    if request.tools:
        arguments["tools"] = [tool.to_openai() for tool in request.tools]
    if request.settings.think is not None:
        arguments["think"] = request.settings.think
    options = _options(request.settings)
    if options:
        arguments["options"] = options
    return arguments


def _options(settings: GenerationSettings) -> dict[str, Any]:
    pairs = (
        ("temperature", settings.temperature),
        ("num_ctx", settings.num_ctx),
        ("seed", settings.seed),
        ("num_predict", settings.max_tokens),
    )
    return {key: value for key, value in pairs if value is not None}


def _message(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.thinking:
        data["thinking"] = message.thinking
    if message.tool_calls:
        data["tool_calls"] = [
            {"function": {"name": call.name, "arguments": call.arguments}}
            for call in message.tool_calls
        ]
    if message.role == "tool" and message.tool_name:
        data["tool_name"] = message.tool_name
    return data


# ---- reply --------------------------------------------------------------------------


def _tool_calls(calls: Sequence[ollama.Message.ToolCall], start: int) -> tuple[ToolCall, ...]:
    return tuple(
        ToolCall(f"call_{start + i}", call.function.name, dict(call.function.arguments))
        for i, call in enumerate(calls)
    )


def _usage(done: ollama.ChatResponse, started: float, first: float | None) -> Usage:
    eval_count = done.eval_count or 0
    eval_s = _seconds(done.eval_duration)
    return Usage(
        prompt_tokens=done.prompt_eval_count or 0,
        completion_tokens=eval_count,
        time_to_first_token_s=first - started if first is not None else None,
        tokens_per_s=eval_count / eval_s if eval_count and eval_s else None,
        load_s=_seconds(done.load_duration),
        prompt_eval_s=_seconds(done.prompt_eval_duration),
        done_reason=done.done_reason,
    )


def _seconds(nanoseconds: int | None) -> float | None:
    return nanoseconds / NS_PER_S if nanoseconds else None


def _num_ctx_parameter(parameters: str | None) -> int | None:
    """``num_ctx 8192`` in a model's parameters (one per line, as ``/api/show`` gives them)."""
    for line in (parameters or "").splitlines():
        name, _, value = line.strip().partition(" ")
        if name == "num_ctx" and value.strip().isdigit():
            return int(value.strip())
    return None


def _context_length(show: ollama.ShowResponse | None) -> int | None:
    info = (show.modelinfo if show else None) or {}
    key = f"{info.get('general.architecture')}.context_length"
    value = info.get(key) or next(
        (v for k, v in info.items() if k.endswith(".context_length")), None
    )
    return int(value) if isinstance(value, int | float) else None


# ---- errors -------------------------------------------------------------------------


def _refused(error: ollama.ResponseError, model: str, host: str) -> ProviderError:
    """Plain words for an error status, or for an error line in the stream (status -1)."""
    text = str(error.error)
    status = error.status_code if error.status_code > 0 else None
    if any(words in text.lower() for words in CONTEXT_ERRORS):
        return ContextLimitError(f"Ollama at {host}: {text}", status=status)
    if status == 404:
        message = (
            f"Ollama at {host} has no model {model!r} ({text}). Pull it with `ollama pull {model}`."
        )
        return ProviderError(message, retryable=False, status=404)
    if "does not support tools" in text:
        message = f"{text}: the model has no native tool support; run it in the prompted tool mode."
        return ProviderError(message, retryable=False, status=status)
    if "does not support thinking" in text:
        message = f"{text}: run it with thinking off."
        return ProviderError(message, retryable=False, status=status)
    if status is not None and 400 <= status < 500:
        return ProviderError(f"Ollama refused the request: {text}", retryable=False, status=status)
    if status is None:
        return ProviderError(f"Ollama failed mid-answer: {text}", retryable=True)
    return ProviderError(f"Ollama could not run {model}: {text}", retryable=True, status=status)


def _cause(error: BaseException) -> BaseException:
    """The transport error behind ``ollama``'s ``ConnectionError``, kept in its context."""
    if isinstance(error, ConnectionError) and error.__context__ is not None:
        return error.__context__
    return error


def _why(cause: BaseException) -> str:
    """A few words on why a connection failed."""
    if isinstance(cause, httpx.TimeoutException):
        return "no answer in time"
    text = str(cause).lower()
    for needle, words in (
        ("refused", "connection refused"),
        ("reset", "connection reset"),
        ("name or service not known", "unknown host name"),
        ("nodename nor servname", "unknown host name"),
        ("unreachable", "network unreachable"),
    ):
        if needle in text:
            return words
    return _detail(cause)


def _detail(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text and text[0] else type(error).__name__
