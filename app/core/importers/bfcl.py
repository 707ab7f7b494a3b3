"""Convert BFCL's single-turn cases into AgentGap task definitions.

BFCL's possible answers become matchers: each argument's list of acceptable values is a
``one_of`` (``""`` among them means the argument may be left out); its type rules become
matcher options (integers and booleans strictly typed, numbers forgiving an integer,
strings compared ignoring case and runs of spaces). BFCL's schema dialect (``dict``,
``float``, ``tuple``, ``any``) is rewritten as JSON Schema.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
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
    except Unexpressible as why:
        return NotExpressible(case_id, category, str(why))
    return Converted(case_id, category, task)


class Unexpressible(Exception):
    """Raised with the reason a case cannot be written as a task."""


def _task(category: str, case: dict[str, Any], answer: Any) -> dict[str, Any]:
    turns = case.get("question") or []
    if len(turns) != 1:
        raise Unexpressible(f"{len(turns)} user turns in a single-turn category")
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
            raise Unexpressible("relevance with several functions: any one call passes in BFCL")
        only = tools[0]["name"]
        task["checks"] = [{"type": "tool_calls", "label": "called the function",
                           "calls": [{"name": only, "args": {}}]}]
        task["reference"] = [{"calls": [{"name": only, "arguments": _relevance_arguments(functions[0])}]},
                             {"answer": "Done."}]
        return task
    if not answer:
        raise Unexpressible("no possible answer in the data")
    expected, reference = [], []
    for call in answer:
        [(name, options)] = call.items()
        doc = docs.get(name)
        if doc is None:
            raise Unexpressible(f"the answer calls {name}, which is not offered")
        args, ref_args = _arguments(options, doc.get("parameters") or {})
        schema_problem(name, ref_args, doc.get("parameters") or {})
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
        raise Unexpressible("the turn is not one user message (with at most one system message)")
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
            raise Unexpressible(f"argument {name!r}: possible answers are not a list")
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
            raise Unexpressible(
                f"argument {name!r}: no acceptable value ({values[0]!r}, …) fits the function's own schema"
            )
    return matchers, reference


def schema_problem(name: str, arguments: dict[str, Any], parameters: dict[str, Any]) -> None:
    """Refuse a case whose ground truth breaks its own function's schema: no model call
    could both pass validation and match it."""
    import jsonschema

    validator = _validator(json.dumps(_object_schema(json_schema(parameters)), sort_keys=True))
    error = jsonschema.exceptions.best_match(validator.iter_errors(arguments))
    if error is not None:
        raise Unexpressible(f"the ground truth of {name} breaks its own schema: {error.message}")


def _fits(value: Any, bfcl_schema: dict[str, Any]) -> bool:
    """Whether ``value`` passes the parameter's schema, as the model's call would have to."""
    import jsonschema

    try:
        return bool(_validator(json.dumps(json_schema(bfcl_schema), sort_keys=True)).is_valid(value))
    except (jsonschema.SchemaError, TypeError, ValueError):
        return False


@lru_cache(maxsize=8192)
def _validator(schema_json: str) -> Any:
    """One validator per distinct schema (BFCL repeats its functions across cases)."""
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(schema_json))


def _type_options(kind: str) -> dict[str, Any]:
    if kind in ("integer", "boolean"):
        return {"strict_type": True}
    if kind in ("string", "array", "dict", "tuple"):
        return {"ignore_case": True, "normalize_space": True}
    return {}


def _expanded(name: str, value: Any) -> list[Any]:
    """A nested possible answer (mappings of option lists, also inside lists) as the
    concrete values it accepts."""
    try:
        return _alternatives(value)
    except _TooMany:
        raise Unexpressible(
            f"argument {name!r}: more than {MAX_COMBINATIONS} nested combinations"
        ) from None


def _alternatives(value: Any) -> list[Any]:
    if isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
        keys = list(value)
        choices = []
        for key in keys:
            options = [alt for o in value[key] if o != "" for alt in _alternatives(o)]
            if "" in value[key]:
                options.append(_ABSENT)
            if not options:
                return []
            choices.append(options)
        return _bounded_product(choices, lambda combo: {
            k: v for k, v in zip(keys, combo, strict=True) if v is not _ABSENT
        })
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return _bounded_product([_alternatives(item) for item in value], list)
    return [value]


class _TooMany(Exception):
    pass


def _bounded_product(choices: list[list[Any]], build: Callable[[tuple[Any, ...]], Any]) -> list[Any]:
    """``build`` of each combination of one option per choice; ``_TooMany`` past the limit."""
    total = 1
    for options in choices:
        total *= len(options)
        if total > MAX_COMBINATIONS:
            raise _TooMany()
    return [build(combo) for combo in itertools.product(*choices)]


_ABSENT = object()
