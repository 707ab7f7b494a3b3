"""The single writer thread: what each event does, batching, flush, threads, failures."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from app.core.agent.attempt import run_attempt
from app.core.cancel import CancelToken
from app.core.events import (
    AttemptFinished,
    AttemptStarted,
    Event,
    InfraError,
    RunFinished,
    RunStarted,
    TextDelta,
    ToolResult,
    TurnStarted,
)
from app.core.outcomes import Outcome
from app.core.providers.simulated import SimulatedProvider
from app.core.runner import plan_run
from app.core.store.repository import Repository
from app.core.store.writer import StoreWriter
from app.core.tasks.loader import load_catalog
from tests.core.store.builders import (
    ORDERS,
    QWEN,
    SIM,
    WEATHER,
    attempt_events,
    finished,
    make_plan,
    raw,
    stored,
)

REPO = Path(__file__).resolve().parents[3]


def test_a_realistic_attempt_is_stored_and_replays_exactly(repo: Repository, writer: StoreWriter) -> None:
    plan = make_plan("r1", models=((QWEN, "d1"),))
    repo.create_run(plan)
    spec = plan.attempts[0]
    events = attempt_events(spec)
    writer.submit(RunStarted(run_id="r1", total_attempts=1, pending_attempts=1))
    for event in events:
        writer.submit(event)
    writer.submit(RunFinished(run_id="r1", cancelled=False, completed_attempts=1, at=1_700_000_002.0))
    assert writer.flush()

    assert repo.transcript(spec.attempt_id) == stored(events)  # TextDelta left out, the rest equal
    with raw(repo.database.path) as connection:
        rows = connection.execute("select seq, kind from events where attempt_id = ? order by seq",
                                  (spec.attempt_id,)).fetchall()
        run = connection.execute("select status, finished_at from runs").fetchone()
    assert rows == [(i, e.kind) for i, e in enumerate(stored(events))]
    assert run == ("finished", 1_700_000_002.0)

    record = repo.attempts("r1")[0]
    end = events[-1]
    assert isinstance(end, AttemptFinished)
    assert (record.status, record.outcome, record.score, record.detail) == ("done", Outcome.PASSED, 1.0, end.detail)
    assert (record.turns, record.calls_valid, record.calls_recovered, record.calls_malformed, record.calls_rejected) == (
        3, 1, 1, 1, 1)
    assert (record.prompt_tokens, record.completion_tokens, record.ttft_s, record.tokens_per_s, record.load_s) == (
        520, 62, 0.25, 42.5, 1.5)
    assert (record.wall_s, record.harness_s, record.infra_retries) == (1.5, 0.012, 1)
    assert (record.started_at, record.finished_at) == (events[0].at, end.at)
    assert record.final_answer == "It is 21.5 °C in Paris."
    assert (record.model, record.task_id, record.suite, record.tier) == (QWEN.label, *WEATHER[:3])
    with raw(repo.database.path) as connection:
        checks = json.loads(connection.execute("select checks_json from attempts").fetchone()[0])
    assert checks == [{"name": "called get_weather", "passed": True, "detail": "", "weight": 1.0, "broken": False},
                      {"name": "answer mentions 21.5", "passed": True, "detail": "found '21.5'", "weight": 2.0,
                       "broken": False}]


def test_a_simulated_attempt_replays_the_events_it_emitted(repo: Repository, writer: StoreWriter) -> None:
    task = load_catalog([REPO / "tasks"]).task("readiness.chain.order-status")
    plan = plan_run([SIM], [task], repeats=1)
    repo.create_run(plan, {task.id: task})
    emitted: list[Event] = []

    def emit(event: Event) -> None:
        emitted.append(event)
        writer.submit(event)

    run_attempt(plan.attempts[0], task, SimulatedProvider(), emit, CancelToken())
    assert writer.flush()
    assert any(isinstance(e, TextDelta) for e in emitted)
    replay = repo.transcript(plan.attempts[0].attempt_id)
    assert replay == stored(emitted)
    assert any(isinstance(e, ToolResult) for e in replay)
    assert repo.attempts(plan.run_id)[0].outcome is Outcome.PASSED


def test_a_second_attempt_started_wipes_the_earlier_transcript(repo: Repository, writer: StoreWriter) -> None:
    plan = make_plan("r1")
    repo.create_run(plan)
    spec = plan.attempts[0]
    first = attempt_events(spec)
    for event in first[:6]:  # partway, then the server fails
        writer.submit(event)
    writer.submit(InfraError(run_id="r1", attempt_id=spec.attempt_id, message="connection refused", will_retry=True))
    assert writer.flush()
    assert len(repo.transcript(spec.attempt_id)) == len(stored(first[:6])) + 1

    retry = attempt_events(spec, t0=1_700_000_050.0)
    for event in retry:
        writer.submit(event)
    assert writer.flush()
    assert repo.transcript(spec.attempt_id) == stored(retry)
    with raw(repo.database.path) as connection:
        seqs = [s for (s,) in connection.execute("select seq from events order by seq")]
        started_at = connection.execute("select started_at from attempts").fetchone()[0]
    assert seqs == list(range(len(stored(retry))))
    assert started_at == retry[0].at


def test_a_cancelled_attempt_leaves_no_transcript_and_stays_pending(repo: Repository, writer: StoreWriter) -> None:
    plan = make_plan("r1")
    repo.create_run(plan)
    spec = plan.attempts[0]
    for event in attempt_events(spec)[:5]:
        writer.submit(event)
    writer.submit(finished(spec, Outcome.CANCELLED))
    assert writer.flush()
    assert repo.transcript(spec.attempt_id) == []
    assert repo.unfinished_attempts("r1") == [spec]
    assert repo.attempts("r1")[0].outcome is None


def test_flush_makes_everything_visible_to_a_new_connection(repo: Repository, writer: StoreWriter) -> None:
    plan = make_plan("r1", tasks=(WEATHER, ORDERS))
    repo.create_run(plan)
    events = attempt_events(plan.attempts[0]) + attempt_events(plan.attempts[1])[:4]
    for event in events:
        writer.submit(event)
    assert writer.flush(timeout=10)
    with raw(repo.database.path) as connection:  # the writer is still open
        assert connection.execute("select count(*) from events").fetchone()[0] == len(stored(events))
        assert connection.execute("select status from attempts order by seq").fetchall() == [("done",), ("running",)]


def test_events_are_committed_within_a_moment_without_flush(repo: Repository, writer: StoreWriter) -> None:
    plan = make_plan("r1")
    repo.create_run(plan)
    spec = plan.attempts[0]
    writer.submit(attempt_events(spec)[0])
    writer.submit(TurnStarted(run_id="r1", attempt_id=spec.attempt_id, turn=1))
    deadline = time.monotonic() + 5
    with raw(repo.database.path) as connection:
        while connection.execute("select count(*) from events").fetchone()[0] < 2:
            assert time.monotonic() < deadline, "events not committed by the batch timer"
            time.sleep(0.02)


def test_events_from_four_threads_all_land_in_order(repo: Repository, writer: StoreWriter) -> None:
    plan = make_plan("r1", models=((SIM, None), (QWEN, "d1")), tasks=(WEATHER, ORDERS), repeats=5)
    repo.create_run(plan)
    chunks = [plan.attempts[i::4] for i in range(4)]
    go = threading.Barrier(4)

    def work(specs: tuple[object, ...]) -> None:
        go.wait()
        for spec in specs:
            for event in attempt_events(spec):  # type: ignore[arg-type]
                writer.submit(event)

    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert writer.flush()
    assert writer.last_error is None
    for spec in plan.attempts:
        assert repo.transcript(spec.attempt_id) == stored(attempt_events(spec))
    summary = repo.run_summary("r1")
    assert summary.attempts_done == summary.attempts_total == 20
    assert repo.counts()["events"] == 20 * len(stored(attempt_events(plan.attempts[0])))


def test_a_write_error_is_logged_and_the_writer_carries_on(
    repo: Repository, writer: StoreWriter, caplog: pytest.LogCaptureFixture
) -> None:
    plan = make_plan("r1", tasks=(WEATHER, ORDERS))
    repo.create_run(plan)
    good, other = plan.attempts
    ghost = TurnStarted(run_id="r1", attempt_id="no-such-attempt", turn=1)
    with caplog.at_level(logging.ERROR, logger="app.core.store.writer"):
        for event in attempt_events(good)[:3]:
            writer.submit(event)
        writer.submit(ghost)  # same batch as good events: only this one is lost
        started = attempt_events(good)[0]
        assert isinstance(started, AttemptStarted)
        writer.submit(replace(started, attempt_id="no-such-attempt"))
        assert writer.flush()
    assert writer.last_error is not None and "no-such-attempt" in writer.last_error
    assert writer.errors >= 2  # the batch (or batches), then each bad event on its own
    assert "could not store" in caplog.text
    assert repo.transcript(good.attempt_id) == stored(attempt_events(good)[:3])
    for event in attempt_events(other):  # still alive
        writer.submit(event)
    assert writer.flush()
    assert repo.transcript(other.attempt_id) == stored(attempt_events(other))


def test_close_drains_the_queue_and_later_submits_are_dropped(repo: Repository) -> None:
    plan = make_plan("r1")
    repo.create_run(plan)
    writer = StoreWriter(repo.database)
    events = attempt_events(plan.attempts[0])
    for event in events:
        writer.submit(event)
    writer.close()
    assert repo.transcript(plan.attempts[0].attempt_id) == stored(events)
    writer.submit(RunFinished(run_id="r1", cancelled=False, completed_attempts=1))
    assert writer.flush()
    writer.close()  # twice is fine
    assert repo.run_summary("r1").status == "planned"


def test_the_writer_waits_for_another_connection_holding_the_write_lock(
    repo: Repository, writer: StoreWriter
) -> None:
    plan = make_plan("r1")
    repo.create_run(plan)
    events = attempt_events(plan.attempts[0])
    with raw(repo.database.path) as other:
        other.execute("BEGIN IMMEDIATE")
        for event in events:
            writer.submit(event)
        time.sleep(0.5)  # the writer is waiting on the lock now (busy timeout 5 s)
        other.rollback()
    assert writer.flush()
    assert writer.last_error is None
    assert repo.transcript(plan.attempts[0].attempt_id) == stored(events)
