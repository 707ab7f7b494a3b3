"""The store on real SQLite files: schema, plan round trip, writer, replay, resume, errors."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.core.agent.attempt import run_attempt
from app.core.cancel import CancelToken
from app.core.chat import GenerationSettings
from app.core.events import AttemptFinished, AttemptStarted, Event, TextDelta, ToolResult
from app.core.modelref import ModelRef
from app.core.outcomes import Outcome, ToolMode
from app.core.plan import AttemptSettings
from app.core.providers.base import ProviderKind
from app.core.providers.simulated import SimulatedProvider
from app.core.runner import plan_run
from app.core.store.database import StoreError, open_database
from app.core.store.models import Base
from app.core.store.repository import Repository
from app.core.store.writer import StoreWriter
from app.core.tasks.loader import Catalog, load_catalog

REPO = Path(__file__).resolve().parents[3]
SIM = ModelRef(ProviderKind.SIMULATED, "sim", "competent")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog([REPO / "tasks"])


def test_migrations_match_models_and_wal_is_on(tmp_path: Path) -> None:
    db = open_database(tmp_path / "a.db")
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.close()
    # opening again is a no-op migration
    open_database(tmp_path / "a.db").close()


def test_plan_round_trips_exactly(tmp_path: Path, catalog: Catalog) -> None:
    db = open_database(tmp_path / "a.db")
    repo = Repository(db)
    settings = AttemptSettings(
        tool_mode=ToolMode.PROMPTED,
        generation=GenerationSettings(temperature=0.2, num_ctx=8192, seed=7, think=False),
        max_turns=6,
        directive="Check every file before you finish.",
        label="temperature=0.2",
    )
    tasks = catalog.tasks("readiness")[:3]
    plan = plan_run([SIM, ModelRef(ProviderKind.OLLAMA, "http://localhost:11434", "qwen2.5:3b")], tasks,
                    repeats=2, settings=[settings], digests={SIM: "sim-v1"})
    repo.create_run(plan, {t.id: t for t in tasks})
    loaded = repo.load_plan(plan.run_id)
    assert loaded.attempts == plan.attempts
    assert len(repo.unfinished_attempts(plan.run_id)) == len(plan.attempts)
    db.close()


def _run_one(repo: Repository, writer: StoreWriter, catalog: Catalog, task_id: str) -> tuple[str, list[Event]]:
    task = catalog.task(task_id)
    plan = plan_run([SIM], [task], repeats=1)
    repo.create_run(plan, {task.id: task})
    events: list[Event] = []

    def emit(event: Event) -> None:
        events.append(event)
        writer.submit(event)

    run_attempt(plan.attempts[0], task, SimulatedProvider(), emit, CancelToken())
    assert writer.flush()
    return plan.attempts[0].attempt_id, events


def test_transcript_replays_the_stored_events(tmp_path: Path, catalog: Catalog) -> None:
    db = open_database(tmp_path / "a.db")
    repo, writer = Repository(db), StoreWriter(db)
    attempt_id, events = _run_one(repo, writer, catalog, "readiness.chain.order-status")
    stored = repo.transcript(attempt_id)
    assert stored == [e for e in events if not isinstance(e, TextDelta)]
    assert any(isinstance(e, ToolResult) for e in stored)
    record = repo.attempts(stored[0].run_id)[0]
    assert record.outcome is Outcome.PASSED and record.turns == 3 and record.status == "done"
    writer.close()
    # visible from a brand-new connection
    raw = sqlite3.connect(tmp_path / "a.db")
    assert raw.execute("select count(*) from events where attempt_id=?", (attempt_id,)).fetchone()[0] == len(stored)
    db.close()


def test_a_restarted_attempt_replaces_its_transcript(tmp_path: Path, catalog: Catalog) -> None:
    db = open_database(tmp_path / "a.db")
    repo, writer = Repository(db), StoreWriter(db)
    attempt_id, events = _run_one(repo, writer, catalog, "readiness.single-tool.weather")
    started = next(e for e in events if isinstance(e, AttemptStarted))
    writer.submit(started)
    writer.flush()
    assert [type(e) for e in repo.transcript(attempt_id)] == [AttemptStarted]
    writer.close()
    db.close()


def test_cancelled_attempt_stays_pending(tmp_path: Path, catalog: Catalog) -> None:
    db = open_database(tmp_path / "a.db")
    repo, writer = Repository(db), StoreWriter(db)
    task = catalog.task("readiness.single-tool.weather")
    plan = plan_run([SIM], [task], repeats=1)
    repo.create_run(plan, {task.id: task})
    from app.core.events import AttemptStats

    writer.submit(AttemptFinished(run_id=plan.run_id, attempt_id=plan.attempts[0].attempt_id,
                                  outcome=Outcome.CANCELLED, score=0, detail="", checks=(), stats=AttemptStats()))
    writer.flush()
    assert [a.attempt_id for a in repo.unfinished_attempts(plan.run_id)] == [plan.attempts[0].attempt_id]
    writer.close()
    db.close()


def test_concurrent_writers_all_land_and_delete_cascades(tmp_path: Path, catalog: Catalog) -> None:
    db = open_database(tmp_path / "a.db")
    repo, writer = Repository(db), StoreWriter(db)
    tasks = catalog.tasks("readiness")
    plan = plan_run([SIM], tasks, repeats=4)
    repo.create_run(plan, {t.id: t for t in tasks})
    chunks = [plan.attempts[i::4] for i in range(4)]

    def work(specs: list) -> None:  # type: ignore[type-arg]
        for spec in specs:
            run_attempt(spec, catalog.task(spec.task_id), SimulatedProvider(), writer.submit, CancelToken())

    threads = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.flush()
    summary = repo.run_summary(plan.run_id)
    assert summary.attempts_done == summary.attempts_total == len(plan.attempts)
    assert repo.unfinished_attempts(plan.run_id) == []
    assert writer.last_error is None
    repo.delete_run(plan.run_id)
    assert repo.counts()["attempts"] == 0 and repo.counts()["events"] == 0
    writer.close()
    db.close()


def test_pass_rate_leaves_out_infra_errors(tmp_path: Path, catalog: Catalog) -> None:
    from app.core.events import AttemptStats

    db = open_database(tmp_path / "a.db")
    repo, writer = Repository(db), StoreWriter(db)
    task = catalog.task("readiness.single-tool.weather")
    plan = plan_run([SIM], [task], repeats=3)
    repo.create_run(plan, {task.id: task})
    for spec, outcome in zip(plan.attempts, [Outcome.PASSED, Outcome.INFRA_ERROR, Outcome.LOOP], strict=True):
        writer.submit(AttemptFinished(run_id=plan.run_id, attempt_id=spec.attempt_id, outcome=outcome,
                                      score=0, detail="", checks=(), stats=AttemptStats()))
    writer.flush()
    summary = repo.list_runs()[0]
    assert (summary.passed, summary.scored, summary.attempts_done) == (1, 2, 3)
    assert summary.pass_rate == 0.5
    writer.close()
    db.close()


def test_corrupt_and_newer_databases_give_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 200)
    with pytest.raises(StoreError, match="not a usable AgentGap database"):
        open_database(bad)
    newer = tmp_path / "newer.db"
    open_database(newer).close()
    with sqlite3.connect(newer) as raw:
        raw.execute("update alembic_version set version_num='9999'")
    with pytest.raises(StoreError, match="newer AgentGap"):
        open_database(newer)
