"""Plain data exchanged with model providers: messages, tools, tool calls, usage."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


class CallSource(StrEnum):
    """Where a tool call came from: the server's native API or a text format we recovered."""

    NATIVE = "native"
    TOOL_CALL_TAG = "tool_call_tag"  # <tool_call>{...}</tool_call>
    JSON_FENCE = "json_fence"  # ```json / ```tool_call fenced block
    BARE_JSON = "bare_json"  # {"name": ..., "arguments": ...} in prose
    PYTHON_TAG = "python_tag"  # Llama <|python_tag|>
    PYTHONIC = "pythonic"  # [get_weather(city="Paris")] or f(x=1)
    MISTRAL = "mistral"  # [TOOL_CALLS] [...]
    FUNCTION_TAG = "function_tag"  # <function=name>{...}</function>
    XML_FUNCTION = "xml_function"  # <function=name><parameter=k>v</parameter></function>

    @property
    def recovered(self) -> bool:
        return self is not CallSource.NATIVE


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered to the model: name, description and a JSON Schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model made, native or recovered from text."""

    id: str
    name: str
    arguments: dict[str, Any]
    source: CallSource = CallSource.NATIVE
    raw: str | None = None  # the text it was recovered from, for recovered calls

    def signature(self) -> str:
        """Canonical text of name + arguments, used to spot identical repeated calls."""
        return self.name + json.dumps(self.arguments, sort_keys=True, default=str)


@dataclass(frozen=True, slots=True)
class MalformedCall:
    """Text that looks like a tool call but could not be parsed into one."""

    raw: str
    source: CallSource
    reason: str


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message in provider-neutral form."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    tool_name: str | None = None
    thinking: str | None = None


ToolChoice = Literal["auto", "required", "none"]


@dataclass(frozen=True, slots=True)
class GenerationSettings:
    """Sampling and context settings for one attempt."""

    temperature: float | None = None
    num_ctx: int | None = None
    seed: int | None = None
    think: bool | None = None  # None = the server's default
    max_tokens: int | None = None  # per-turn completion cap


@dataclass(frozen=True, slots=True)
class ScriptStep:
    """One turn of a scripted reference solution: tool calls, or a final answer."""

    calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    answer: str | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """Everything a provider needs to stream one assistant turn."""

    model: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice = "auto"
    settings: GenerationSettings = GenerationSettings()
    # The attempt's identity: the simulated provider finds its script by ``attempt_id``
    # (app/core/providers/scripts.py) and stays deterministic by ``attempt_key``. The
    # answer key itself never travels in a request.
    attempt_id: str = ""
    attempt_key: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts and timings of one turn, as reported by the server where it can."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    time_to_first_token_s: float | None = None
    tokens_per_s: float | None = None
    load_s: float | None = None
    prompt_eval_s: float | None = None
    done_reason: str | None = None  # "stop", "length", ...


# ---- streamed pieces of one turn -------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextChunk:
    text: str
    thinking: bool = False


TOO_DEEP = "[arguments nested too deeply to read]"  # an UnreadableCall's text when that is why


@dataclass(frozen=True, slots=True)
class UnreadableCall:
    """A native tool call whose arguments are not a JSON object (cut off, or not JSON)."""

    name: str
    arguments: str

    @property
    def raw(self) -> str:
        return f"{self.name or '?'}({self.arguments})"


@dataclass(frozen=True, slots=True)
class NativeCallsChunk:
    calls: tuple[ToolCall, ...]
    unreadable: tuple[UnreadableCall, ...] = ()


@dataclass(frozen=True, slots=True)
class TurnDone:
    usage: Usage


StreamChunk = TextChunk | NativeCallsChunk | TurnDone
