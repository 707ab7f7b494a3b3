"""Writing one call in a given text format: the inverse of recovery."""

from __future__ import annotations

import json
import keyword
from typing import Any

from app.core.chat import CallSource
from app.core.toolcalls.tags import xml_value


def render_call(name: str, arguments: dict[str, Any], source: CallSource) -> str:
    """Write one call as models do in ``source``'s format; ValueError if the format cannot hold it."""
    call = _json({"name": name, "arguments": arguments})
    if source is CallSource.TOOL_CALL_TAG:
        return f"<tool_call>\n{call}\n</tool_call>"
    if source is CallSource.JSON_FENCE:
        return f"```json\n{call}\n```"
    if source is CallSource.BARE_JSON:
        return call
    if source is CallSource.PYTHON_TAG:
        return f"<|python_tag|>{_json({'name': name, 'parameters': arguments})}<|eom_id|>"
    if source is CallSource.PYTHONIC:
        return _pythonic(name, arguments)
    if source is CallSource.MISTRAL:
        return f"[TOOL_CALLS] [{call}]"
    if source is CallSource.FUNCTION_TAG:
        return f"<function={name}>{_json(arguments)}</function>"
    if source is CallSource.XML_FUNCTION:
        return _xml(name, arguments)
    raise ValueError(f"{source} is not a text format")


def _json(value: Any) -> str:
    """JSON with ``<`` and backticks escaped, so no tag or fence can appear inside a string."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace("`", "\\u0060")


def _pythonic(name: str, arguments: dict[str, Any]) -> str:
    for word in (name, *arguments):
        if not word.isidentifier() or keyword.iskeyword(word):
            raise ValueError(f"{word!r} cannot be written as a Python name")
    # ``<`` only occurs inside string literals here; escaping it keeps tags out of the call.
    kwargs = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
    kwargs = kwargs.replace("<", "\\x3c")
    return f"[{name}({kwargs})]"


def _xml(name: str, arguments: dict[str, Any]) -> str:
    parameters = "".join(
        f"<parameter={key}>\n{_xml_text(value)}\n</parameter>\n" for key, value in arguments.items()
    )
    return f"<tool_call>\n<function={name}>\n{parameters}</function>\n</tool_call>"


def _xml_text(value: Any) -> str:
    """A string as itself when it reads back unchanged, anything else as JSON."""
    if isinstance(value, str) and "<" not in value and xml_value(f"\n{value}\n") == value:
        return value
    return _json(value)
