"""Convert BFCL's single-turn cases into AgentGap task definitions.

BFCL's possible answers become matchers: each argument's list of acceptable values is a
``one_of`` (``""`` among them means the argument may be left out); its type rules become
matcher options (integers and booleans strictly typed, numbers forgiving an integer,
strings compared ignoring case and runs of spaces). BFCL's schema dialect (``dict``,
``float``, ``tuple``, ``any``) is rewritten as JSON Schema.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from app.core.importers.bfcl_data import SILENCE

MAX_COMBINATIONS = 64  # nested possible answers expanded into at most this many mappings
_TYPES = {"dict": "object", "float": "number", "tuple": "array"}
_ID_UNSAFE = re.compile(r"[^a-z0-9_.\-]")
TOOL_RESULT = {"status": "ok"}


@dataclass(frozen=True, slots=True)
class Converted:
    """A task definition (the YAML document) for one BFCL case."""

    case_id: str
    category: str
    task: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NotExpressible:
    """A case that cannot be written as a task, and why."""

    case_id: str
    category: str
    reason: str


def tool_name(name: str) -> str:
    """BFCL's function-calling handlers offer ``a.b`` as ``a_b``; so does the import."""
    return name.replace(".", "_")


def json_schema(bfcl: Any) -> Any:
    """BFCL's parameter dialect as JSON Schema (``dict``→object, ``float``→number, …)."""
    if isinstance(bfcl, list):
        return [json_schema(item) for item in bfcl]
    if not isinstance(bfcl, dict):
        return bfcl
    out: dict[str, Any] = {}
    for key, value in bfcl.items():
        if key == "type" and isinstance(value, str):
            if value == "any":
                continue
            out[key] = _TYPES.get(value, value)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
            out[key] = json_schema(value)
        elif key == "optional":
            continue  # BFCL's own marker, not JSON Schema
        else:
            out[key] = value
    if out.get("type") == "array" and "items" in out and out["items"].get("type") == "any":
        out["items"] = {}
    return out


def task_id(case_id: str) -> str:
    return "bfcl." + _ID_UNSAFE.sub("-", case_id.lower())


def convert(category: str, case: dict[str, Any], answer: Any) -> Converted | NotExpressible:
    """One BFCL case as a task definition, or the reason it cannot be one."""
    case_id = str(case.get("id", "?"))
    try:
        task = _task(category, case, answer)
    except _Unexpressible as why:
        return NotExpressible(case_id, category, str(why))
    return Converted(case_id, category, task)


class _Unexpressible(Exception):
    pass


def _task(category: str, case: dict[str, Any], answer: Any) -> dict[str, Any]:
    turns = case.get("question") or []
    if len(turns) != 1:
        raise _Unexpressible(f"{len(turns)} user turns in a single-turn category")
    system, prompt = _messages(turns[0])
    functions = case.get("function") or []
    docs = {f["name"]: f for f in functions}
    tools = [
        {
            "name": tool_name(f["name"]),
            "description": f.get("description") or f["name"],
            "parameters": _object_schema(json_schema(f.get("parameters") or {})),
            "responses": [{"result": TOOL_RESULT}],
        }
        for f in functions
    ]
    task: dict[str, Any] = {
        "id": task_id(str(case["id"])),
        "title": f"BFCL {case['id']}",
        "tier": category,
        "dimension": category,
        "tags": ["bfcl"],
        "prompt": prompt,
    }
    if system is not None:
        task["system"] = system
    task["tools"] = tools
    task["budgets"] = {"max_turns": 4, "max_tokens": 8000, "max_seconds": 300}
    if category in SILENCE:
        task["expect"] = "silence"
        task["checks"] = [{"type": "no_tool_calls", "label": "no call: no offered function fits"}]
        task["reference"] = [{"answer": "None of the functions I have can do that."}]
        return task
    if category == "live_relevance":
        if len(tools) != 1:
            raise _Unexpressible("relevance with several functions: any one call passes in BFCL")
        only = tools[0]["name"]
        task["checks"] = [{"type": "tool_calls", "label": "called the function",
                           "calls": [{"name": only, "args": {}}]}]
        task["reference"] = [{"calls": [{"name": only, "arguments": _relevance_arguments(functions[0])}]},
                             {"answer": "Done."}]
        return task
    if not answer:
        raise _Unexpressible("no possible answer in the data")
    expected, reference = [], []
    for call in answer:
        [(name, options)] = call.items()
        doc = docs.get(name)
        if doc is None:
            raise _Unexpressible(f"the answer calls {name}, which is not offered")
        args, ref_args = _arguments(options, doc.get("parameters") or {})
        expected.append({"name": tool_name(name), "exact_args": True, "args": args})
        reference.append({"name": tool_name(name), "arguments": ref_args})
    check: dict[str, Any] = {
        "type": "tool_calls",
        "label": "the calls BFCL accepts, and no others",
        "allow_extra": False,
        "calls": expected,
    }
    if len(expected) > 1:
        check["same_turn"] = True
    task["checks"] = [check]
    task["reference"] = [{"calls": reference}, {"answer": "Done."}]
    return task


def _messages(turn: list[dict[str, Any]]) -> tuple[str | None, str]:
    system = [m["content"] for m in turn if m.get("role") == "system"]
    users = [m["content"] for m in turn if m.get("role") == "user"]
    if len(users) != 1 or len(system) > 1 or len(turn) != len(users) + len(system):
        raise _Unexpressible("the turn is not one user message (with at most one system message)")
    return (system[0] if system else None), str(users[0])


def _object_schema(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict) or not schema:
        return {"type": "object", "properties": {}}
    return schema if schema.get("type") == "object" else {**schema, "type": "object"}


def _relevance_arguments(function: dict[str, Any]) -> dict[str, Any]:
    params = function.get("parameters") or {}
    props = params.get("properties") or {}
    return {name: _example(props.get(name) or {}) for name in params.get("required") or []}


def _example(schema: dict[str, Any]) -> Any:
    kind = _TYPES.get(schema.get("type", "string"), schema.get("type", "string"))
    if schema.get("enum"):
        return schema["enum"][0]
    return {"integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}.get(kind, "x")


def _arguments(
    options: dict[str, Any], parameters: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Matchers for each argument, and the reference's value (the first acceptable one)."""
    props = parameters.get("properties") or {}
    matchers: dict[str, Any] = {}
    reference: dict[str, Any] = {}
    for name, acceptable in options.items():
        if not isinstance(acceptable, list):
            raise _Unexpressible(f"argument {name!r}: possible answers are not a list")
        kind = (props.get(name) or {}).get("type", "string")
        optional = "" in acceptable
        values = [v for v in acceptable if v != ""]
        values = [x for v in values for x in _expanded(name, v)]
        matcher: dict[str, Any] = {"one_of": values} if values else {"one_of": [""]}
        if optional:
            matcher["optional"] = True
        matcher.update(_type_options(kind))
        matchers[name] = matcher
        usable = [v for v in values if _fits(v, props.get(name) or {})]
        if usable:
            reference[name] = usable[0]
        elif values and not optional:
            raise _Unexpressible(
                f"argument {name!r}: no acceptable value ({values[0]!r}, …) fits the function's own schema"
            )
    return matchers, reference


def _fits(value: Any, bfcl_schema: dict[str, Any]) -> bool:
    """Whether ``value`` passes the parameter's schema, as the model's call would have to."""
    import jsonschema

    try:
        return jsonschema.Draft202012Validator(json_schema(bfcl_schema)).is_valid(value)
    except jsonschema.SchemaError:
        return False


def _type_options(kind: str) -> dict[str, Any]:
    if kind in ("integer", "boolean"):
        return {"strict_type": True}
    if kind in ("string", "array", "dict", "tuple"):
        return {"ignore_case": True, "normalize_space": True}
    return {}


def _expanded(name: str, value: Any) -> list[Any]:
    """A nested possible answer (a mapping of option lists) as the mappings it accepts."""
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        return [value]
    keys = list(value)
    choices = [[*(o for o in value[k] if o != ""), *([_ABSENT] if "" in value[k] else [])] for k in keys]
    total = 1
    for options in choices:
        total *= max(1, len(options))
    if total > MAX_COMBINATIONS or any(not options for options in choices):
        raise _Unexpressible(f"argument {name!r}: {total} nested combinations (limit {MAX_COMBINATIONS})")
    return [
        {k: v for k, v in zip(keys, combo, strict=True) if v is not _ABSENT}
        for combo in itertools.product(*choices)
    ]


_ABSENT = object()
