"""System prompts: the default agent preamble and the prompted tool-calling mode."""

from __future__ import annotations

import json
from collections.abc import Sequence

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


def prompted_tool_result(call: ToolCall, content: str) -> Message:
    """In prompted mode tool results go back as user text, since the template may lack a tool role."""
    return Message(
        role="user",
        content=f'<tool_response name="{call.name}">\n{content}\n</tool_response>',
    )
