"""Reading OpenAI-style chat streams: SSE framing, delta folding and tool-call assembly.

What real servers send, and what is handled here:

* events are ``data: {...}`` lines ended by a blank line; ``data: [DONE]`` closes the
  stream (llama.cpp, vLLM, LM Studio); comment lines (``: ping``) only keep a silent
  connection alive and are skipped;
* text arrives in ``choices[0].delta.content``; thinking in ``reasoning_content``
  (llama.cpp, LM Studio, older vLLM) or ``reasoning`` (newer vLLM, which may send both
  with the same text, so only one of the two is read);
* tool calls arrive as fragments keyed by ``index``: ``id``/``type``/``function.name``
  come once, ``function.arguments`` is a JSON *string* split over many deltas;
* ``usage`` rides on a last chunk with ``choices: []`` when the request asked for it;
  llama.cpp puts a ``timings`` object on the last chunk of the stream;
* a failure after streaming began is an event ``data: {"error": {...}}``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.core.chat import TextChunk, ToolCall, UnreadableCall
from app.core.toolcalls.limits import raw_arguments_problem

DONE = "[DONE]"


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One server-sent event: its ``data`` (lines joined by newlines) and ``event`` name."""

    data: str
    event: str = "message"


def iter_events(lines: Iterable[str]) -> Iterator[SSEEvent]:
    """Group decoded SSE lines into events; comments and unknown fields are skipped."""
    data: list[str] = []
    event = "message"
    for line in lines:
        if not line:
            if data:
                yield SSEEvent("\n".join(data), event)
            data, event = [], "message"
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    if data:
        yield SSEEvent("\n".join(data), event)


# ---- tool calls -------------------------------------------------------------------


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ToolCallAssembler:
    """Collects tool-call fragments by ``index`` and builds the calls when the turn ends.

    A fragment with a new ``id`` at an index already in use starts a new call (some
    servers number every parallel call 0); a fragment without an index continues the
    latest call. A name repeated in later fragments is not appended twice.
    """

    def __init__(self) -> None:
        self._calls: list[_PartialCall] = []
        self._by_index: dict[int, _PartialCall] = {}

    def __bool__(self) -> bool:
        return bool(self._calls)

    def add(self, fragment: dict[str, Any]) -> None:
        """Fold one element of ``delta.tool_calls`` into the call it belongs to."""
        call_id = _text(fragment.get("id"))
        index = fragment.get("index")
        call = self._call_for(index if isinstance(index, int) else None, call_id)
        call.id = call.id or call_id
        function = fragment.get("function")
        function = function if isinstance(function, dict) else {}
        name = _text(function.get("name"))
        if name and name != call.name:
            call.name += name
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            call.arguments.append(arguments)
        elif isinstance(arguments, dict):
            call.arguments.append(json.dumps(arguments))

    def _call_for(self, index: int | None, call_id: str) -> _PartialCall:
        current = self._by_index.get(index) if index is not None else None
        if index is None and not call_id and self._calls:
            current = self._calls[-1]
        if current is None or (call_id and current.id and call_id != current.id):
            current = _PartialCall()
            self._calls.append(current)
            if index is not None:
                self._by_index[index] = current
        return current

    def finish(self) -> tuple[list[ToolCall], list[UnreadableCall]]:
        """The calls whose arguments decode to an object, and the others as unreadable calls,
        so the loop reports them as malformed instead of them vanishing."""
        calls: list[ToolCall] = []
        unreadable: list[UnreadableCall] = []
        for number, part in enumerate(self._calls):
            raw = "".join(part.arguments).strip()
            arguments = _json_object(raw or "{}")
            if arguments is not None and part.name:
                calls.append(ToolCall(part.id or f"call_{number}", part.name, arguments))
            else:
                unreadable.append(UnreadableCall(part.name or "", raw))
        return calls, unreadable


def _json_object(raw: str) -> dict[str, Any] | None:
    if raw_arguments_problem(raw) is not None:
        return None  # too big or too deep: an unreadable (malformed) call
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# ---- chunk folding ----------------------------------------------------------------


class StreamFold:
    """Folds ``chat.completion.chunk`` payloads into text chunks, calls, usage and timings."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.calls = ToolCallAssembler()
        self.usage: dict[str, Any] = {}
        self.timings: dict[str, Any] = {}
        self.finish_reason: str | None = None
        self.first_output_at: float | None = None
        self.deltas = 0  # deltas that carried output: a token count when usage is missing
        self._clock = clock

    def feed(self, payload: dict[str, Any]) -> list[TextChunk]:
        """Read one chunk; return the text it carries, in stream order."""
        if isinstance(payload.get("usage"), dict):
            self.usage = payload["usage"]
        if isinstance(payload.get("timings"), dict):
            self.timings = payload["timings"]
        chunks: list[TextChunk] = []
        for choice in payload.get("choices") or ():
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                chunks.extend(self._choice(choice))
        return chunks

    def _choice(self, choice: dict[str, Any]) -> list[TextChunk]:
        delta = choice.get("delta", choice.get("message"))  # "message": an answer not streamed
        delta = delta if isinstance(delta, dict) else {}
        thinking = _text(delta.get("reasoning_content")) or _text(delta.get("reasoning"))
        chunks = [TextChunk(thinking, thinking=True)] if thinking else []
        if content := _text(delta.get("content")):
            chunks.append(TextChunk(content))
        fragments = delta.get("tool_calls")
        for fragment in fragments if isinstance(fragments, list) else ():
            if isinstance(fragment, dict):
                self.calls.add(fragment)
        if chunks or fragments:
            self.deltas += 1
            if self.first_output_at is None:
                self.first_output_at = self._clock()
        self.finish_reason = _text(choice.get("finish_reason")) or self.finish_reason
        return chunks
