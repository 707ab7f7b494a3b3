"""``tool_calls`` checks: calls matched by position, and failures named by what went wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.core.agent.scoring import score_attempt
from app.core.agent.trace import AttemptTrace, RejectedCall
from app.core.chat import ToolCall
from app.core.outcomes import Outcome
from app.core.tasks.checks import call_shortfall, failing_call_mode, run_checks
from app.core.tasks.environment import TaskEnvironment
from app.core.tasks.loader import load_catalog
from app.core.tasks.schema import ToolCallsCheck

REPO = Path(__file__).resolve().parents[3]


def _check(*calls: tuple[str, dict[str, Any]], order: str = "sequence", allow_extra: bool = True) -> ToolCallsCheck:
    return ToolCallsCheck.model_validate(
        {
            "type": "tool_calls",
            "order": order,
            "allow_extra": allow_extra,
            "calls": [{"name": name, "args": args} for name, args in calls],
        }
    )


def _call(name: str, **arguments: Any) -> ToolCall:
    # Ollama numbers calls per turn, so calls of different turns share ids: equal values.
    return ToolCall("call_0", name, arguments)


def _trace(*calls: ToolCall, rejected: tuple[RejectedCall, ...] = ()) -> AttemptTrace:
    return AttemptTrace(calls=list(calls), rejected=list(rejected))


def test_equal_calls_keep_their_own_places_in_a_sequence() -> None:
    check = _check(("get", {"key": "a"}), ("put", {}), ("get", {"key": "a"}), ("put", {}))
    made = [_call("get", key="a"), _call("put"), _call("get", key="a")]  # the last put is missing
    assert made[0] == made[2]
    shortfall = call_shortfall(check, made)
    assert shortfall is not None and shortfall.outcome is Outcome.NO_TOOL_CALL
    assert call_shortfall(check, [*made, _call("put")]) is None


def test_a_call_before_the_one_it_depends_on_does_not_count() -> None:
    check = _check(("find", {"q": "x"}), ("open", {"id": 1}))
    shortfall = call_shortfall(check, [_call("open", id=1), _call("find", q="x")])
    assert shortfall is not None and shortfall.outcome is Outcome.WRONG_RESULT
    assert call_shortfall(_check(("find", {"q": "x"}), ("open", {"id": 1}), order="any"),
                          [_call("open", id=1), _call("find", q="x")]) is None


@pytest.mark.parametrize(
    ("made", "rejected", "outcome"),
    [
        # made the first request, then answered: the follow-up is missing, not misused
        ([("http_request", {"method": "GET", "url": "/users?username=mkoch"})], (), Outcome.NO_TOOL_CALL),
        # the follow-up went to the wrong address
        (
            [("http_request", {"method": "GET", "url": "/users?username=mkoch"}),
             ("http_request", {"method": "GET", "url": "/users/1/orders"})],
            (),
            Outcome.BAD_ARGUMENTS,
        ),
        # the follow-up was tried but refused for its arguments
        (
            [("http_request", {"method": "GET", "url": "/users?username=mkoch"})],
            (RejectedCall(Outcome.BAD_ARGUMENTS, "http_request", "{}", "missing 'url'"),),
            Outcome.BAD_ARGUMENTS,
        ),
        # another tool instead of the follow-up
        (
            [("http_request", {"method": "GET", "url": "/users?username=mkoch"}), ("send_email", {})],
            (),
            Outcome.WRONG_TOOL,
        ),
    ],
)
def test_failure_is_named_by_what_failed_not_by_the_tool_name(
    made: list[tuple[str, dict[str, Any]]], rejected: tuple[RejectedCall, ...], outcome: Outcome
) -> None:
    check = _check(
        ("http_request", {"method": "GET", "url": {"regex": ".*/users\\?username=mkoch"}}),
        ("http_request", {"method": "GET", "url": {"regex": ".*/users/5521/orders/?"}}),
    )
    trace = _trace(*(_call(n, **a) for n, a in made), rejected=rejected)
    assert failing_call_mode(check, trace) is outcome


def test_one_call_too_many_is_an_unwanted_call() -> None:
    check = _check(("lookup", {"sku": "S-1"}), allow_extra=False)
    trace = _trace(_call("lookup", sku="S-1"), _call("lookup", sku="S-1"))
    shortfall = call_shortfall(check, trace.calls)
    assert shortfall is not None and "expected 1 call(s), made 2" in shortfall.detail
    assert failing_call_mode(check, trace) is Outcome.UNWANTED_CALL


def test_an_api_chain_attempt_that_stops_early_is_scored_as_a_missing_call() -> None:
    task = load_catalog([REPO / "tasks"]).task("api-chain.clean.user-orders")
    trace = _trace(_call("http_request", method="GET", url="https://api.shop.test/users?username=mkoch"))
    trace.final_answer = "Marta Koch has some orders."
    with TaskEnvironment(task) as env:
        results = run_checks(task.spec.checks, trace, env)
    verdict = score_attempt(task.spec, trace, results, task.spec.checks)
    assert verdict.outcome is Outcome.NO_TOOL_CALL


def test_any_order_finds_a_matching_where_first_come_would_not() -> None:
    # the loose expectation must not take the only call the strict one can use
    check = _check(("get_weather", {}), ("get_weather", {"city": "Paris"}), order="any")
    assert call_shortfall(check, [_call("get_weather", city="Paris"), _call("get_weather", city="London")]) is None
    short = call_shortfall(check, [_call("get_weather", city="Rome"), _call("get_weather", city="London")])
    assert short is not None and short.outcome is Outcome.BAD_ARGUMENTS
    assert call_shortfall(_check(("get_weather", {}), order="any", allow_extra=False),
                          [_call("get_weather", city="Rome"), _call("get_weather", city="Oslo")]) is not None
