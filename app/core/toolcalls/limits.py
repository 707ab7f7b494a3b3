"""Limits on a tool call's arguments: past them the call is malformed, never a crash."""

from __future__ import annotations

from typing import Any

MAX_ARGUMENT_DEPTH = 64  # nested lists/objects
MAX_ARGUMENT_BYTES = 1_000_000  # the arguments' JSON text (a whole source file fits)


def raw_arguments_problem(raw: str) -> str | None:
    """Why raw JSON argument text is too big or too deep to read, or None (checked before
    parsing, so a 100,000-deep array never reaches the JSON parser)."""
    if len(raw) > MAX_ARGUMENT_BYTES:
        return f"the arguments are {len(raw)} characters long (limit {MAX_ARGUMENT_BYTES})"
    depth = deepest = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_ARGUMENT_DEPTH:
                return f"the arguments nest deeper than {MAX_ARGUMENT_DEPTH} levels"
        elif char in "]}":
            depth -= 1
    return None


def arguments_problem(arguments: Any) -> str | None:
    """Why parsed arguments are too deep or too big, or None (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(arguments, 1)]
    size = 0
    while stack:
        value, depth = stack.pop()
        if depth > MAX_ARGUMENT_DEPTH:
            return f"the arguments nest deeper than {MAX_ARGUMENT_DEPTH} levels"
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
            size += sum(len(str(k)) for k in value)
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        else:
            size += len(str(value))
        if size > MAX_ARGUMENT_BYTES:
            return f"the arguments are over {MAX_ARGUMENT_BYTES} characters long"
    return None
