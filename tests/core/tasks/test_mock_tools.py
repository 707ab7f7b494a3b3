"""Scripted mock tools: the first response whose ``when`` matches (and is not used up) wins;
arguments that break a tool's JSON Schema are explained by naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.core.chat import ToolCall
from app.core.tasks.environment import TaskEnvironment
from app.core.tasks.loader import Task, load_catalog
from app.core.tasks.schema import TaskSpec

REPO = Path(__file__).resolve().parents[3]

LOOKUP: dict[str, Any] = {
    "name": "lookup",
    "description": "Look something up.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "minimum": 1, "maximum": 14},
            "units": {"type": "string", "enum": ["metric", "imperial"]},
        },
        "required": ["city"],
    },
    "responses": [
        {"when": {"city": {"iequals": "oslo"}, "days": 3}, "result": {"city": "Oslo", "days": 3}},
        {"when": {"city": {"iequals": "oslo"}}, "result": {"city": "Oslo", "days": 1}},
        {"when": {"city": {"one_of": ["Rome", "Roma"]}}, "result": "rome as plain text"},
        {"when": {"city": {"regex": "porto(, portugal)?"}}, "result": ["porto"]},
        {"when": {"city": {"contains": "york"}}, "result": {"city": "New York"}},
        {"when": {"city": "Bergen", "units": {"equals": "metric", "optional": True}},
         "result": {"city": "Bergen"}},
        {"when": {"city": {"any": True}, "days": {"approx": 7, "tol": 0.5}}, "result": {"week": True}},
        {"result": {"error": "unknown city"}, "is_error": True},
    ],
}

HTTP: dict[str, Any] = {
    "name": "http_request",
    "description": "Send an HTTP request.",
    "parameters": {
        "type": "object",
        "properties": {
            "method": {"type": "string", "enum": ["GET", "POST"]},
            "url": {"type": "string"},
            "body": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer"}},
                "required": ["sku", "quantity"],
            },
        },
        "required": ["method", "url"],
    },
    "responses": [
        {"when": {"url": {"regex": ".*/orders/1"}}, "times": 1,
         "result": {"status": 500, "body": {"error": "internal"}}},
        {"when": {"url": {"regex": ".*/orders/1"}}, "times": 2,
         "result": {"status": 200, "body": {"id": 1}}},
        {"when": {"url": {"regex": ".*/orders/1"}}, "result": {"status": 410, "body": "gone"}},
        {"when": {"method": "POST"}, "times": 1, "result": {"status": 201, "body": {"id": 9}}},
    ],
}


def make_task(*tools: dict[str, Any]) -> Task:
    spec = TaskSpec.model_validate(
        {
            "id": "t.mock",
            "title": "mock tools",
            "tier": "basic",
            "prompt": "Do it.",
            "tools": list(tools),
            "checks": [{"type": "no_tool_calls"}],
            "reference": [{"answer": "done"}],
        }
    )
    return Task(spec=spec, suite="test", path=REPO / "tasks" / "t.yaml", content_hash="0")


def run(env: TaskEnvironment, name: str, **arguments: Any) -> tuple[Any, bool]:
    output = env.execute(ToolCall(id="c1", name=name, arguments=arguments))
    try:
        return json.loads(output.content), output.is_error
    except json.JSONDecodeError:
        return output.content, output.is_error


@pytest.fixture
def env() -> TaskEnvironment:
    return TaskEnvironment(make_task(LOOKUP, HTTP))


def test_tools_are_offered_with_their_schemas(env: TaskEnvironment) -> None:
    assert [t.name for t in env.tools] == ["lookup", "http_request"]
    assert env.tools[0].description == "Look something up."
    assert env.tools[0].parameters["required"] == ["city"]
    assert env.workspace is None


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"city": "OSLO", "days": 3}, {"city": "Oslo", "days": 3}),  # iequals + bare equals
        ({"city": " oslo ", "days": 3.0}, {"city": "Oslo", "days": 3}),  # 3.0 equals 3
        ({"city": "Oslo", "days": 2}, {"city": "Oslo", "days": 1}),  # first match wins, in order
        ({"city": "Roma"}, "rome as plain text"),  # one_of; a string result is passed verbatim
        ({"city": "Porto, Portugal"}, ["porto"]),  # regex, case-insensitive full match
        ({"city": "new YORK city"}, {"city": "New York"}),  # contains
        ({"city": "Bergen"}, {"city": "Bergen"}),  # optional argument left out
        ({"city": "Bergen", "units": "metric"}, {"city": "Bergen"}),  # optional and matching
        ({"city": "Anywhere", "days": 7.4}, {"week": True}),  # any + approx within tol
    ],
)
def test_first_matching_response_wins(
    env: TaskEnvironment, arguments: dict[str, Any], expected: Any
) -> None:
    assert run(env, "lookup", **arguments) == (expected, False)


@pytest.mark.parametrize(
    "arguments",
    [
        {"city": "Porto de Galinhas"},  # regex must match the whole value
        {"city": "Bergen", "units": "imperial"},  # optional, but present and wrong
        {"city": "Anywhere", "days": 8},  # outside the tolerance
        {"city": "Anywhere"},  # approx on a missing argument
        {"city": "Rom"},  # one_of is not a prefix match
    ],
)
def test_no_match_falls_through_to_the_error_response(
    env: TaskEnvironment, arguments: dict[str, Any]
) -> None:
    assert run(env, "lookup", **arguments) == ({"error": "unknown city"}, True)


def test_times_are_used_up_in_order_then_the_next_response_answers(env: TaskEnvironment) -> None:
    statuses = [run(env, "http_request", method="GET", url="https://x.test/orders/1")[0]["status"]
                for _ in range(5)]
    assert statuses == [500, 200, 200, 410, 410]


def test_a_call_that_does_not_match_uses_nothing_up(env: TaskEnvironment) -> None:
    assert run(env, "http_request", method="GET", url="https://x.test/orders/2")[1] is True
    assert run(env, "http_request", method="GET", url="https://x.test/orders/1")[0]["status"] == 500


def test_no_matching_response_is_an_error_naming_the_arguments(env: TaskEnvironment) -> None:
    body = {"sku": "A", "quantity": 1}
    assert run(env, "http_request", method="POST", url="u", body=body)[0]["status"] == 201
    content, is_error = run(env, "http_request", method="POST", url="u", body=body)
    assert is_error and content.startswith("error: no result for arguments")
    assert '"method": "POST"' in content


def test_every_attempt_gets_a_fresh_count() -> None:
    task = make_task(HTTP)
    for _ in range(2):
        with TaskEnvironment(task) as env:
            assert run(env, "http_request", method="GET", url="/orders/1")[0]["status"] == 500


def test_an_unknown_tool_is_an_error_result_not_an_exception(env: TaskEnvironment) -> None:
    content, is_error = run(env, "weather", city="Oslo")
    assert is_error and "weather" in content


@pytest.mark.parametrize(
    ("name", "arguments", "names"),
    [
        ("lookup", {}, ["city"]),  # a required field is missing
        ("lookup", {"town": "Oslo"}, ["city"]),
        ("lookup", {"city": 7}, ["city"]),  # wrong type
        ("lookup", {"city": "Oslo", "days": 30}, ["days", "14"]),  # out of range
        ("lookup", {"city": "Oslo", "units": "kelvin"}, ["units", "metric"]),  # not in the enum
        ("http_request", {"method": "POST", "url": "u", "body": {"sku": "A", "quantity": "5"}},
         ["body/quantity"]),  # a nested field is named by its path
        ("http_request", {"method": "POST", "url": "u", "body": {"sku": "A"}}, ["quantity"]),
        ("http_request", {"method": "FETCH", "url": "u"}, ["method"]),
        ("search", {"q": "x"}, ["search"]),  # not offered at all
    ],
)
def test_schema_violations_name_the_field(
    env: TaskEnvironment, name: str, arguments: dict[str, Any], names: list[str]
) -> None:
    problem = env.validation_error(ToolCall(id="c1", name=name, arguments=arguments))
    assert problem is not None
    for word in names:
        assert word in problem, (word, problem)


def test_valid_arguments_pass_validation(env: TaskEnvironment) -> None:
    assert env.validation_error(ToolCall("c1", "lookup", {"city": "Oslo", "days": 3})) is None
    body = {"sku": "A", "quantity": 5}
    assert env.validation_error(ToolCall("c1", "http_request", {"method": "POST", "url": "u",
                                                                 "body": body})) is None


def test_a_real_fault_task_fails_once_then_recovers() -> None:
    task = load_catalog([REPO / "tasks"]).task("api-chain.faults.retry-500")
    shipment = {"method": "GET", "url": "https://api.shop.test/orders/O-4410/shipment"}
    with TaskEnvironment(task) as env:
        first, second = run(env, "http_request", **shipment), run(env, "http_request", **shipment)
        assert first[0]["status"] == 500 and second[0]["status"] == 200
        body = second[0]["body"]
        url = f"https://api.shop.test/carriers/{body['carrier']}/tracking/{body['tracking_number']}"
        assert run(env, "http_request", method="GET", url=url)[0]["body"]["location"] == "Leipzig hub"
        assert run(env, "http_request", method="GET", url="https://api.shop.test/nope")[0] == {
            "status": 404, "body": {"error": "not found"}
        }
