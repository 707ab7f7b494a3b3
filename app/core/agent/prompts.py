"""System prompts: the default agent preamble and the prompted tool-calling mode."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from app.core.chat import Message, ToolCall, ToolSpec

DEFAULT_SYSTEM = (
    "You are an assistant that can use tools. When a tool is needed, call it; "
    "when you have what you need, answer the user directly and briefly."
)

_PROMPTED_TEMPLATE = """{base}

You have access to the following tools, described as JSON Schema:
<tools>
{schemas}
</tools>

To call a tool, reply with one block per call, exactly in this form:
<tool_call>
{{"name": "<tool name>", "arguments": {{<arguments as a JSON object>}}}}
</tool_call>
Results come back in <tool_response> blocks. When no tool is needed, answer in plain text."""


def system_prompt(
    base: str | None,
    tools: Sequence[ToolSpec],
    *,
    prompted: bool,
    directive: str | None = None,
) -> str:
    """The system message for an attempt; in prompted mode it carries the tool schemas."""
    text = base or DEFAULT_SYSTEM
    if prompted and tools:
        schemas = "\n".join(json.dumps(t.to_openai()["function"]) for t in tools)
        text = _PROMPTED_TEMPLATE.format(base=text, schemas=schemas)
    if directive:
        text = f"{text}\n\n{directive.strip()}"
    return text


REQUIRED_CALL_NOTE = (
    "Tool use is required for this request: reply with a tool call first, "
    "and answer only once you have its result."
)


def with_required_call_note(messages: Sequence[Message]) -> list[Message]:
    """The messages with the system prompt asking for a tool call, for a ``required`` tool
    choice the server cannot enforce (it has no such setting, or no tools API is used)."""
    out = list(messages)
    for index, message in enumerate(out):
        if message.role == "system":
            if REQUIRED_CALL_NOTE not in message.content:
                out[index] = replace(message, content=f"{message.content}\n\n{REQUIRED_CALL_NOTE}")
            return out
    return [Message(role="system", content=f"{DEFAULT_SYSTEM}\n\n{REQUIRED_CALL_NOTE}"), *out]


def prompted_tool_result(call: ToolCall, content: str) -> Message:
    """In prompted mode tool results go back as user text, since the template may lack a tool role."""
    return Message(
        role="user",
        content=f'<tool_response name="{call.name}">\n{content}\n</tool_response>',
    )
