"""BFCL's multi-turn cases as conversations with stateful tools.

The tools are BFCL's own API classes, imported from the installed ``bfcl-eval`` package
by a small generated class in the task's folder (nothing of BFCL is copied); they run in
the sandbox like any stateful tool. Each user turn checks the calls of BFCL's ground
truth for that turn (any order, extra calls allowed).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from typing import Any

from app.core.importers.bfcl import (
    Converted,
    NotExpressible,
    Unexpressible,
    json_schema,
    schema_problem,
    task_id,
)
from app.core.importers.bfcl_data import BfclData

BACKEND = "bfcl_eval.eval_checker.multi_turn_eval.func_source_code"
API_MODULES = {
    "GorillaFileSystem": "gorilla_file_system",
    "MathAPI": "math_api",
    "MessageAPI": "message_api",
    "TwitterAPI": "posting_api",
    "TicketAPI": "ticket_api",
    "TradingBot": "trading_bot",
    "TravelAPI": "travel_booking",
    "VehicleControlAPI": "vehicle_control",
}
STATELESS = frozenset({"MathAPI"})
CLASS_FILE = "bfcl_tools.py"

_WRAPPER = '''"""The BFCL API classes of one case, from the installed bfcl-eval package."""

import copy
from importlib import import_module

CLASSES = {classes!r}
STATELESS = {stateless!r}


class BfclTools:
    def __init__(self, config):
        self._apis = []
        for name, module in CLASSES.items():
            api = getattr(import_module(module), name)()
            if name not in STATELESS:
                api._load_scenario(copy.deepcopy(config.get(name, {{}})), long_context=False)
            self._apis.append(api)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        for api in self._apis:
            if hasattr(api, name):
                return getattr(api, name)
        raise AttributeError(name)
'''


@cache
def api_importable(class_name: str) -> str | None:
    """None when the API class imports in a fresh Python, else why not."""
    module = f"{BACKEND}.{API_MODULES[class_name]}"
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60
    )
    if done.returncode == 0:
        return None
    last = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
    return f"{class_name} cannot be imported without bfcl-eval's dependencies ({last})"


def convert_multi_turn(
    data: BfclData, category: str, case: dict[str, Any], answer: Any
) -> Converted | NotExpressible:
    case_id = str(case.get("id", "?"))

    def refuse(reason: str) -> NotExpressible:
        return NotExpressible(case_id, category, reason)

    if data.package_root is None:
        return refuse("multi-turn needs the installed bfcl-eval package (its API classes)")
    classes = list(case.get("involved_classes") or [])
    unknown = [c for c in classes if c not in API_MODULES]
    if unknown or not classes:
        return refuse(f"API classes not supported: {unknown or 'none named'}")
    for name in classes:
        problem = api_importable(name)
        if problem is not None:
            return refuse(problem)
    excluded = set(case.get("excluded_function") or [])
    docs = [
        doc
        for name in classes
        for doc in data.function_docs(API_MODULES[name])
        if doc["name"] not in excluded
    ]
    by_name = {doc["name"]: doc for doc in docs}
    questions = case.get("question") or []
    if not isinstance(answer, list) or len(answer) != len(questions):
        return refuse("the ground truth does not give one list of calls per turn")
    turns = []
    for index, (messages, truth) in enumerate(zip(questions, answer, strict=True)):
        users = [m["content"] for m in messages if m.get("role") == "user"]
        if len(users) != 1 or len(messages) != 1:
            return refuse(f"turn {index + 1} is not one user message")
        try:
            calls = [_parse_call(text, by_name) for text in truth]
            for name, arguments in calls:
                schema_problem(name, arguments, by_name[name].get("parameters") or {})
        except (ValueError, Unexpressible) as error:
            return refuse(f"turn {index + 1}: {error}")
        turns.append(_turn(users[0], calls))
    tools = [
        {
            "name": doc["name"],
            "description": doc.get("description") or doc["name"],
            "parameters": _object(json_schema(doc.get("parameters") or {})),
            "stateful": True,
        }
        for doc in docs
    ]
    total_calls = sum(len(t["reference"][0].get("calls", [])) for t in turns)
    task: dict[str, Any] = {
        "id": task_id(case_id),
        "title": f"BFCL {case_id}",
        "tier": category,
        "dimension": category,
        "tags": ["bfcl"],
        "tool_class": {
            "file": CLASS_FILE,
            "name": "BfclTools",
            "init": {"config": case.get("initial_config") or {}},
        },
        "tools": tools,
        "budgets": {
            "max_turns": 2 * (total_calls + len(turns)) + 10,
            "max_tokens": 32_000,
            "max_seconds": 900,
        },
        "turns": turns,
        "_files": {
            CLASS_FILE: _WRAPPER.format(
                classes={c: f"{BACKEND}.{API_MODULES[c]}" for c in classes},
                stateless=sorted(STATELESS & set(classes)),
            )
        },
    }
    return Converted(case_id, category, task)


def _object(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict) or not schema:
        return {"type": "object", "properties": {}}
    return schema if schema.get("type") == "object" else {**schema, "type": "object"}


def _parse_call(text: str, docs: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """``cd(folder='document')`` or ``sort('a.pdf')`` as a name and keyword arguments."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"ground-truth call {text!r} is not Python") from None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise ValueError(f"ground-truth call {text!r} is not a plain call")
    name = node.func.id
    doc = docs.get(name)
    if doc is None:
        raise ValueError(f"ground-truth call {name} is not an offered function")
    order = list((doc.get("parameters") or {}).get("properties") or {})
    if len(node.args) > len(order):
        raise ValueError(f"{name}: more positional arguments than parameters")
    try:
        arguments = {order[i]: ast.literal_eval(arg) for i, arg in enumerate(node.args)}
        arguments.update({k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg})
    except ValueError:
        raise ValueError(f"{name}: an argument is not a plain value") from None
    return name, arguments


def _turn(prompt: str, calls: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    if not calls:
        return {
            "prompt": prompt,
            "checks": [{"type": "no_tool_calls"}],
            "reference": [{"answer": "I cannot do that with the functions I have."}],
        }
    expected = [
        {"name": name, "args": {k: _matcher(v) for k, v in arguments.items()}}
        for name, arguments in calls
    ]
    return {
        "prompt": prompt,
        "checks": [{"type": "tool_calls", "label": "the calls of BFCL's ground truth", "calls": expected}],
        "reference": [
            {"calls": [{"name": n, "arguments": a} for n, a in calls]},
            {"answer": "Done."},
        ],
    }


def _matcher(value: Any) -> dict[str, Any]:
    if isinstance(value, str | list):
        return {"equals": value, "ignore_case": True, "normalize_space": True}
    if isinstance(value, bool | int):
        return {"equals": value, "strict_type": True}
    return {"equals": value}
