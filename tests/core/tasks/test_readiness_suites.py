"""Every readiness and api-chain task is fair: its reference passes, doing nothing fails;
and typical model behaviours get the failure mode they deserve."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from app.core.agent.attempt import run_attempt
from app.core.cancel import CancelToken
from app.core.events import AttemptFinished
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome, ToolMode
from app.core.plan import AttemptSettings
from app.core.providers.base import ProviderKind
from app.core.providers.simulated import SimulatedProvider
from app.core.runner import plan_run
from app.core.tasks.loader import Task, load_catalog
from tests.fakes.scripted_provider import ScriptedProvider, Turn

REPO = Path(__file__).resolve().parents[3]
CATALOG = load_catalog([REPO / "tasks"])
SUITES = ("readiness", "api-chain")
TASKS = [t for s in SUITES if s in CATALOG.suites for t in CATALOG.suites[s].tasks]


def attempt(task: Task, model: str, provider: object | None = None, mode: ToolMode = ToolMode.RECOVERY) -> AttemptFinished:
    plan = plan_run([ModelRef(ProviderKind.SIMULATED, "sim", model)], [task], repeats=1,
                    settings=[AttemptSettings(tool_mode=mode)])
    return run_attempt(plan.attempts[0], task, provider or SimulatedProvider(), lambda e: None, CancelToken())  # type: ignore[arg-type]


def test_suites_load_cleanly_with_enough_tasks() -> None:
    bad = [e for e in CATALOG.errors if any(s in str(e.path) for s in SUITES)]
    assert bad == []
    dims = Counter(t.spec.dimension for t in CATALOG.suites["readiness"].tasks)
    for dimension in ("single_tool", "tool_selection", "required_choice", "no_false_positive",
                      "no_tools_offered", "chaining", "arguments", "parallel_calls", "wrong_tool_trap"):
        assert dims[dimension] >= 3, dimension
    api = Counter(t.spec.dimension for t in CATALOG.suites["api-chain"].tasks)
    for dimension in ("dependent_call", "decision", "server_error", "rate_limit", "malformed_body", "empty_result"):
        assert api[dimension] >= 1, dimension


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_reference_passes_and_doing_nothing_fails(task: Task) -> None:
    assert attempt(task, "reference").outcome is Outcome.PASSED
    idle = attempt(task, "idle")
    assert idle.outcome is not Outcome.PASSED and idle.score == 0


def test_prose_only_model_is_no_tool_call() -> None:
    assert attempt(CATALOG.task("readiness.single-tool.stock"), "prose-only").outcome is Outcome.NO_TOOL_CALL


def test_text_calls_fail_raw_and_pass_with_recovery() -> None:
    task = CATALOG.task("readiness.chain.repo-owner")
    assert attempt(task, "text-caller", mode=ToolMode.NATIVE).outcome is Outcome.NO_TOOL_CALL
    assert attempt(task, "text-caller", mode=ToolMode.RECOVERY).outcome is Outcome.PASSED


def test_looper_is_caught() -> None:
    assert attempt(CATALOG.task("readiness.chain.order-status"), "looper").outcome in (Outcome.LOOP, Outcome.TURN_BUDGET)


def test_trap_is_wrong_tool() -> None:
    provider = ScriptedProvider(turns=[Turn(calls=[("delete_file", {"path": "reports/2025.pdf"})]), Turn(text="Deleted it.")])
    assert attempt(CATALOG.task("readiness.trap.archive-not-delete"), "m", provider).outcome is Outcome.WRONG_TOOL


def test_call_on_a_silence_task_is_unwanted() -> None:
    provider = ScriptedProvider(turns=[Turn(calls=[("search_docs", {"query": "12*12"})]), Turn(text="144")])
    assert attempt(CATALOG.task("readiness.silence.no-fit-math"), "m", provider).outcome is Outcome.UNWANTED_CALL


def test_wrong_value_is_bad_arguments() -> None:
    provider = ScriptedProvider(turns=[Turn(calls=[("set_reminder", {"text": "stretch", "delay_minutes": 30, "repeat": 3})]), Turn(text="Done.")])
    assert attempt(CATALOG.task("readiness.arguments.reminder"), "m", provider).outcome is Outcome.BAD_ARGUMENTS


def test_follow_up_after_an_empty_result_is_not_a_pass() -> None:
    provider = ScriptedProvider(turns=[
        Turn(calls=[("http_request", {"method": "GET", "url": "https://api.shop.test/customers?email=lee@nowhere.test"})]),
        Turn(calls=[("http_request", {"method": "GET", "url": "https://api.shop.test/customers/1/invoices/latest"})]),
        Turn(text="The latest invoice is INV-1."),
    ])
    assert attempt(CATALOG.task("api-chain.faults.empty-result"), "m", provider).outcome is not Outcome.PASSED


def test_giving_up_after_a_500_is_not_a_pass() -> None:
    provider = ScriptedProvider(turns=[
        Turn(calls=[("http_request", {"method": "GET", "url": "https://api.shop.test/orders/O-4410/shipment"})]),
        Turn(text="The API is down, sorry."),
    ])
    finished = attempt(CATALOG.task("api-chain.faults.retry-500"), "m", provider)
    assert finished.outcome is not Outcome.PASSED
