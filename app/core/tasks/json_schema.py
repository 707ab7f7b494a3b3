"""The JSON Schema of a task file and of ``suite.yaml``, generated from the pydantic models,
for editors (``# yaml-language-server: $schema=…``) and for the format reference."""

from __future__ import annotations

import json
from typing import Any

from app.core.tasks.schema import MATCHER_KEYS, SuiteSpec, TaskSpec

SCHEMA_ID = "https://agentgap.invalid/task-schema.json"
SCHEMA_FILE = "docs/task-schema.json"
REFERENCE_FILE = "docs/tasks.md"


def task_file_schema() -> dict[str, Any]:
    """A JSON Schema (2020-12) that every valid task file satisfies."""
    schema = TaskSpec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "AgentGap task file"
    schema["description"] = (
        "One task of a suite folder (tasks/<suite>/<name>.yaml or <name>/task.yaml). "
        f"Reference: {REFERENCE_FILE}."
    )
    schema.setdefault("$defs", {})["SuiteSpec"] = SuiteSpec.model_json_schema(mode="validation")
    result: dict[str, Any] = _with_bare_values(schema)
    return result


_MATCHER_REF = {"$ref": "#/$defs/Matcher"}


def _with_bare_values(node: Any) -> Any:
    """Where a matcher is expected, a file may also give a bare value (``equals``), or a
    mapping without matcher keys (a literal mapping)."""
    if isinstance(node, dict):
        if node.get("additionalProperties") == _MATCHER_REF:
            node = dict(node, additionalProperties={"$ref": "#/$defs/ArgumentExpectation"})
        out = {k: _with_bare_values(v) for k, v in node.items()}
        if "$defs" in out:
            out["$defs"]["ArgumentExpectation"] = {
                "description": "A matcher, or a bare value meaning {equals: value}.",
                "anyOf": [
                    _MATCHER_REF,
                    {"type": ["string", "number", "integer", "boolean", "null", "array"]},
                    {
                        "type": "object",
                        "not": {"anyOf": [{"required": [key]} for key in sorted(MATCHER_KEYS)]},
                    },
                ],
            }
        return out
    if isinstance(node, list):
        return [_with_bare_values(v) for v in node]
    return node


def task_file_schema_text() -> str:
    """The schema as the committed file holds it."""
    return json.dumps(task_file_schema(), indent=2, sort_keys=True) + "\n"
