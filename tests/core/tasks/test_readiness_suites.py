"""Every readiness and api-chain task is fair: its reference passes through the real loop,
doing nothing fails, and typical model behaviours get the failure mode they deserve."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.agent.attempt import run_attempt
from app.core.cancel import CancelToken
from app.core.events import AttemptFinished, Event, ToolResult
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome, ToolMode
from app.core.plan import AttemptSettings
from app.core.providers.base import Provider, ProviderKind
from app.core.providers.simulated import SimulatedProvider
from app.core.runner import plan_run
from app.core.tasks.loader import Task, load_catalog
from app.core.tasks.schema import Matcher, MockTool, ToolCallsCheck
from tests.fakes.scripted_provider import ScriptedProvider, Turn

REPO = Path(__file__).resolve().parents[3]
CATALOG = load_catalog([REPO / "tasks"])
SUITES = ("readiness", "api-chain")
TASKS = [t for s in SUITES if s in CATALOG.suites for t in CATALOG.suites[s].tasks]
READINESS_DIMENSIONS = (
    "single_tool",
    "tool_selection",
    "required_choice",
    "no_false_positive",
    "no_tools_offered",
    "chaining",
    "arguments",
    "parallel_calls",
    "wrong_tool_trap",
)
API_CHAIN_DIMENSIONS = (
    "dependent_call",
    "decision",
    "server_error",
    "rate_limit",
    "malformed_body",
    "empty_result",
)


def of(suite: str, *, dimension: str | None = None, expect: str | None = None) -> list[Task]:
    return [
        t
        for t in CATALOG.suites[suite].tasks
        if (dimension is None or t.spec.dimension == dimension)
        and (expect is None or t.spec.expect == expect)
    ]


def attempt(
    task: Task,
    model: str = "scripted",
    provider: Provider | None = None,
    *,
    mode: ToolMode = ToolMode.RECOVERY,
    events: list[Event] | None = None,
) -> AttemptFinished:
    plan = plan_run(
        [ModelRef(ProviderKind.SIMULATED, "sim", model)],
        [task],
        repeats=1,
        settings=[AttemptSettings(tool_mode=mode)],
    )
    sink = events if events is not None else []
    return run_attempt(
        plan.attempts[0], task, provider or SimulatedProvider(), sink.append, CancelToken()
    )


def scripted(*turns: Turn) -> ScriptedProvider:
    return ScriptedProvider(turns=list(turns))


def call(name: str, **arguments: object) -> Turn:
    return Turn(calls=[(name, dict(arguments))])


def http(method: str, path: str, body: dict[str, object] | None = None) -> Turn:
    arguments: dict[str, object] = {"method": method, "url": f"https://api.shop.test{path}"}
    if body is not None:
        arguments["body"] = body
    return Turn(calls=[("http_request", arguments)])


def answer(text: str) -> Turn:
    return Turn(text=text)


# ---- the catalog ------------------------------------------------------------------


def test_suites_load_cleanly_with_enough_tasks_per_dimension() -> None:
    assert [e for e in CATALOG.errors if any(s in str(e.path) for s in SUITES)] == []
    readiness = Counter(t.spec.dimension for t in of("readiness"))
    assert {d: readiness[d] for d in READINESS_DIMENSIONS if readiness[d] < 3} == {}
    assert set(readiness) == set(READINESS_DIMENSIONS)
    api = Counter(t.spec.dimension for t in of("api-chain"))
    assert {d: api[d] for d in API_CHAIN_DIMENSIONS if api[d] < 1} == {}
    assert len(of("api-chain")) >= 8
    for suite in SUITES:
        assert {t.tier for t in of(suite)} == set(CATALOG.suites[suite].spec.tiers)
    for task in TASKS:
        assert task.spec.title.strip() and task.spec.dimension, task.id
        for tool in task.spec.tools:
            assert isinstance(tool, MockTool) and tool.description.strip(), (task.id, tool)


def _matchers(task: Task) -> Iterator[Matcher]:
    for tool in task.spec.tools:
        if isinstance(tool, MockTool):
            for response in tool.responses:
                yield from response.when.values()
    for check in task.spec.checks:
        if isinstance(check, ToolCallsCheck):
            for expected in check.calls:
                yield from expected.args.values()


def test_every_argument_matcher_kind_is_used() -> None:
    used: set[str] = set()
    for task in TASKS:
        for m in _matchers(task):
            kinds = [k for k in ("iequals", "one_of", "regex", "approx", "contains", "any")
                     if getattr(m, k) is not None]
            used.update(kinds or ["equals"])
            if m.optional:
                used.add("optional")
            if m.approx is not None and m.tol != Matcher.model_fields["tol"].default:
                used.add("tol")
    assert used >= {"equals", "iequals", "one_of", "regex", "approx", "tol", "contains", "any",
                    "optional"}


def _is_error_response(result: object, is_error: bool) -> bool:
    status = result.get("status") if isinstance(result, dict) else None
    return is_error or (isinstance(status, int) and status >= 400)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_checked_tools_answer_unscripted_arguments_with_an_error(task: Task) -> None:
    """A wrong argument gets an error the model can read, never the right answer."""
    checked = {
        e.name for c in task.spec.checks if isinstance(c, ToolCallsCheck) for e in c.calls
    }
    for tool in task.spec.tools:
        assert isinstance(tool, MockTool)
        if tool.name not in checked or not tool.parameters.get("required"):
            continue
        assert tool.responses[0].when, f"{tool.name}: the first result ignores the arguments"
        fallback = tool.responses[-1]
        assert not fallback.when and fallback.times is None, tool.name
        assert _is_error_response(fallback.result, fallback.is_error), tool.name


# ---- fairness: the reference passes, doing nothing fails ---------------------------------


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_reference_passes_and_doing_nothing_fails(task: Task) -> None:
    events: list[Event] = []
    reference = attempt(task, "reference", events=events)
    assert reference.outcome is Outcome.PASSED, reference.detail
    results = [e for e in events if isinstance(e, ToolResult)]
    # every call of the reference was scripted: none fell through to an error fallback
    assert not [r.content for r in results if r.is_error]
    if task.tier == "faults":  # and the injected fault really reached it
        statuses = [json.loads(r.content) for r in results if r.name == "http_request"]
        assert any(s["status"] >= 400 or s["body"] == [] or isinstance(s["body"], str)
                   for s in statuses)
    idle = attempt(task, "idle")
    assert idle.outcome is not Outcome.PASSED and idle.score == 0


@pytest.mark.parametrize("task", of("readiness", dimension="parallel_calls"), ids=lambda t: t.id)
def test_parallel_calls_must_share_one_turn(task: Task) -> None:
    first = task.spec.reference[0]
    assert len(first.calls) >= 2 and task.spec.budgets.max_turns == 2
    one_by_one = [Turn(calls=[(c.name, dict(c.arguments))]) for c in first.calls]
    finished = attempt(task, provider=scripted(*one_by_one, answer(task.spec.reference[-1].answer or "")))
    assert finished.outcome is Outcome.TURN_BUDGET


# ---- typical behaviours get the failure mode they deserve ---------------------------------


@pytest.mark.parametrize("task", of("readiness", expect="tool_use"), ids=lambda t: t.id)
def test_prose_only_model_is_no_tool_call(task: Task) -> None:
    assert attempt(task, "prose-only").outcome is Outcome.NO_TOOL_CALL


@pytest.mark.parametrize(
    "task_id",
    [
        "readiness.single-tool.weather",
        "readiness.chain.repo-owner",
        "readiness.parallel.two-cities",
        "readiness.trap.archive-not-delete",
        "api-chain.clean.user-orders",
        "api-chain.faults.retry-500",
    ],
)
def test_text_calls_fail_raw_and_pass_with_recovery(task_id: str) -> None:
    task = CATALOG.task(task_id)
    raw = attempt(task, "text-caller", mode=ToolMode.NATIVE)
    assert raw.outcome is Outcome.NO_TOOL_CALL and "as text" in raw.detail
    assert attempt(task, "text-caller", mode=ToolMode.RECOVERY).outcome is Outcome.PASSED


@pytest.mark.parametrize("task", of("readiness", dimension="chaining"), ids=lambda t: t.id)
def test_looper_on_a_chain_is_caught(task: Task) -> None:
    assert attempt(task, "looper").outcome in (Outcome.LOOP, Outcome.TURN_BUDGET)


TRAPS = {
    "readiness.trap.archive-not-delete": call("delete_file", path="reports/2025.pdf"),
    "readiness.trap.docs-not-web": call("search_web", query="rotate database password"),
    "readiness.trap.read-not-send": call(
        "send_email", to="team@example.com", subject="Release", body="The release moves to Friday."
    ),
    "readiness.trap.preview-not-apply": call("apply_migration", migration="0042"),
}


def test_every_trap_has_a_wrong_tool_case() -> None:
    assert set(TRAPS) == {t.id for t in of("readiness", dimension="wrong_tool_trap")}


@pytest.mark.parametrize("task_id", sorted(TRAPS))
def test_taking_the_tempting_tool_is_wrong_tool(task_id: str) -> None:
    finished = attempt(CATALOG.task(task_id), provider=scripted(TRAPS[task_id], answer("Done.")))
    assert finished.outcome is Outcome.WRONG_TOOL


UNWANTED = {
    "readiness.silence.no-fit": call("get_stock_price", ticker="LEAF"),
    "readiness.silence.no-fit-math": call("search_docs", query="12 * 12"),
    "readiness.silence.no-fit-translate": call("create_ticket", summary="translate to Spanish"),
    "readiness.silence.no-fit-http": call(
        "http_request", method="GET", url="https://api.shop.test/status/429"
    ),
    # nothing is offered: an invented call, native or written as text, is still a call
    "readiness.silence.no-tools": call("web_search", query="capital of Japan"),
    "readiness.silence.no-tools-code": answer(
        '<tool_call>{"name": "python", "arguments": {"code": "len([1])"}}</tool_call>'
    ),
    "readiness.silence.explain-call": call("get_weather", city="Antwerp"),
    "readiness.silence.list-signatures": answer(
        "<tool_call>{\"name\": \"cancel_meeting\", \"arguments\": {\"meeting_id\": \"1\"}}</tool_call>"
    ),
    "readiness.silence.no-tools-weather": answer(
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>'
    ),
}


SHOWN_CODE = {
    "readiness.silence.explain-call": "```python\nget_weather('Antwerp')\n```\nThat is the call.",
    "readiness.silence.list-signatures": "- schedule_meeting(title, time, attendees) - books one\n"
    "- cancel_meeting(meeting_id): cancels one\nNeither is needed: this is about Antwerp.",
    "readiness.silence.no-fit": "```python\nget_stock_price(ticker='LEAF')\n```\nNot needed.",
}


@pytest.mark.parametrize("mode", [ToolMode.RECOVERY, ToolMode.PROMPTED])
@pytest.mark.parametrize("task_id", sorted(UNWANTED))
def test_a_reference_answer_that_shows_code_passes_in_every_text_mode(
    task_id: str, mode: ToolMode
) -> None:
    """Restraint tasks exist to accept answers that explain with code or list signatures."""
    task = CATALOG.task(task_id)
    finished = attempt(task, "reference", mode=mode)
    assert finished.outcome is Outcome.PASSED, finished.detail


@pytest.mark.parametrize("mode", [ToolMode.RECOVERY, ToolMode.PROMPTED])
@pytest.mark.parametrize("task_id", sorted(SHOWN_CODE))
def test_shown_code_on_a_silence_task_is_not_an_unwanted_call(task_id: str, mode: ToolMode) -> None:
    task = CATALOG.task(task_id)
    finished = attempt(task, provider=scripted(answer(SHOWN_CODE[task_id])), mode=mode)
    assert finished.outcome is not Outcome.UNWANTED_CALL, finished.detail
    assert not any(c.name == "no_tool_calls" and not c.passed for c in finished.checks)


def test_every_silence_task_has_an_unwanted_call_case() -> None:
    assert set(UNWANTED) == {t.id for t in of("readiness", expect="silence")}


@pytest.mark.parametrize("task_id", sorted(UNWANTED))
def test_a_call_on_a_silence_task_is_unwanted(task_id: str) -> None:
    task = CATALOG.task(task_id)
    correct = task.spec.reference[-1].answer or ""
    finished = attempt(task, provider=scripted(UNWANTED[task_id], answer(correct)))
    assert finished.outcome is Outcome.UNWANTED_CALL


@pytest.mark.parametrize(
    ("task_id", "turn"),
    [
        ("readiness.arguments.reminder",
         call("set_reminder", text="stretch", delay_minutes=30, repeat=3)),
        ("readiness.arguments.flight-search",
         call("search_flights", origin="AMS", destination="LIS", date="2027-04-14", adults=2)),
        ("readiness.arguments.flight-search",  # an invented extra argument
         call("search_flights", origin="AMS", destination="LIS", date="2027-03-14", adults=2,
              max_price=200)),
        ("readiness.arguments.write-note",
         call("save_note", title="standup", text="ship the parser on Friday", priority="normal")),
        ("readiness.choose-tool.unit",
         call("convert_units", value=26.2, from_unit="km", to_unit="mi")),
        ("readiness.required-choice.convert",
         call("convert_currency", amount=250, from_currency="USD", to_currency="EUR")),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_wrong_argument_value_is_bad_arguments(task_id: str, turn: Turn) -> None:
    finished = attempt(CATALOG.task(task_id), provider=scripted(turn, answer("Done.")))
    assert finished.outcome is Outcome.BAD_ARGUMENTS


def test_an_argument_breaking_the_schema_is_bad_arguments() -> None:
    task = CATALOG.task("readiness.arguments.flight-search")
    turn = call("search_flights", origin="AMS", destination="LIS", date="2027-03-14", adults="two")
    finished = attempt(task, provider=scripted(turn, answer("Sorry.")))
    assert finished.outcome is Outcome.BAD_ARGUMENTS
    assert finished.stats.calls_rejected == 1 and finished.stats.calls_valid == 0


def test_legitimate_variation_still_passes() -> None:
    weather = CATALOG.task("readiness.single-tool.weather")
    finished = attempt(weather, provider=scripted(
        call("get_weather", city="Paris, France"), answer("Light rain and 14 degrees.")))
    assert finished.outcome is Outcome.PASSED
    calendar = CATALOG.task("readiness.choose-tool.calendar")
    finished = attempt(calendar, provider=scripted(
        call("create_event", title="design review", date="2026-12-02", time="2 PM",
             duration_minutes=30),
        answer("Booked.")))
    assert finished.outcome is Outcome.PASSED
    time = CATALOG.task("readiness.single-tool.time")
    finished = attempt(time, provider=scripted(
        call("get_time", timezone="asia/tokyo"), answer("It's 12:14 AM in Tokyo.")))
    assert finished.outcome is Outcome.PASSED
    chain = CATALOG.task("api-chain.faults.empty-result")
    finished = attempt(chain, provider=scripted(
        http("GET", "/customers?email=lee%40nowhere.test"),
        answer("There is no customer with that email address.")))
    assert finished.outcome is Outcome.PASSED


def test_skipping_the_first_link_of_a_chain_fails() -> None:
    task = CATALOG.task("readiness.chain.order-status")
    finished = attempt(task, provider=scripted(
        call("get_order", order_id="latest"), answer("It has probably shipped.")))
    assert not finished.outcome.is_pass


def test_booking_a_room_that_is_not_the_cheapest_fails() -> None:
    task = CATALOG.task("readiness.chain.book-room")
    finished = attempt(task, provider=scripted(
        call("find_rooms", date="2026-12-03", start="10:00", end="11:00", min_seats=6),
        call("book_room", room_id="R-204", date="2026-12-03", start="10:00", end="11:00"),
        answer("Booked Harbour (R-204).")))
    assert finished.outcome is Outcome.BAD_ARGUMENTS


# ---- api-chain: the faults must be handled, the decisions must follow the data -------------


def test_a_made_up_dependent_value_is_bad_arguments() -> None:
    task = CATALOG.task("api-chain.clean.user-orders")
    finished = attempt(task, provider=scripted(
        http("GET", "/users?username=mkoch"),
        http("GET", "/users/mkoch/orders"),
        answer("Marta has no open orders.")))
    assert finished.outcome is Outcome.BAD_ARGUMENTS


def test_a_follow_up_after_an_empty_result_is_not_a_pass() -> None:
    task = CATALOG.task("api-chain.faults.empty-result")
    finished = attempt(task, provider=scripted(
        http("GET", "/customers?email=lee@nowhere.test"),
        http("GET", "/customers/1/invoices/latest"),
        answer("No customer was found, but the latest invoice is INV-1.")))
    assert not finished.outcome.is_pass


@pytest.mark.parametrize(
    ("task_id", "turns"),
    [
        ("api-chain.faults.retry-500",
         [http("GET", "/orders/O-4410/shipment"), answer("The API is down, sorry.")]),
        ("api-chain.faults.follow-up-503",
         [http("GET", "/orders/O-5521"),
          http("POST", "/customers/cu-880/notes", {"text": "Parcel delayed by storm"}),
          answer("The note is saved.")]),
        ("api-chain.faults.rate-limit",  # never retried the rate; guessed it instead
         [http("GET", "/rates/EUR-USD"),
          http("POST", "/invoices/INV-77/convert", {"rate": 1.08}),
          answer("It converts to about 1296 USD.")]),
        ("api-chain.faults.malformed-body",  # guessed the team from the broken body
         [http("GET", "/users/8123"), http("GET", "/teams/8123"),
          answer("Ana Silva's team could not be found.")]),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_giving_up_or_guessing_after_a_fault_is_not_a_pass(task_id: str, turns: list[Turn]) -> None:
    finished = attempt(CATALOG.task(task_id), provider=scripted(*turns))
    assert not finished.outcome.is_pass


@pytest.mark.parametrize(
    ("task_id", "turns"),
    [
        ("api-chain.clean.no-reorder-needed",
         [http("GET", "/products/SKU-12"),
          http("POST", "/reorders", {"sku": "SKU-12", "quantity": 50}),
          answer("37 in stock; reorder R-772 placed anyway.")]),
        ("api-chain.clean.refund-too-late",
         [http("GET", "/orders/O-2877"), http("POST", "/orders/O-2877/refund"),
          answer("Refunded as RF-19.")]),
        ("api-chain.clean.restock",  # 4 in stock is below 10: it should have reordered
         [http("GET", "/products/SKU-88"), answer("There are 4 in stock; no reorder needed.")]),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_decision_against_the_data_is_not_a_pass(task_id: str, turns: list[Turn]) -> None:
    finished = attempt(CATALOG.task(task_id), provider=scripted(*turns))
    assert not finished.outcome.is_pass
