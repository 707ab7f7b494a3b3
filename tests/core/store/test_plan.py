"""Storing a plan before it runs, reading it back for a resume, and crash recovery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.events import RunFinished, RunStarted
from app.core.outcomes import Outcome
from app.core.plan import AttemptSettings
from app.core.runner import plan_run
from app.core.store.repository import Repository, TaskInfo
from app.core.store.writer import StoreWriter
from app.core.tasks.loader import load_catalog
from tests.core.store.builders import (
    LLAMACPP,
    ORDERS,
    QWEN,
    SIM,
    SWEEP,
    WEATHER,
    attempt_events,
    finished,
    make_plan,
    raw,
)

REPO = Path(__file__).resolve().parents[3]


def test_a_plan_round_trips_exactly(repo: Repository) -> None:
    plan = make_plan(
        "r1",
        models=((SIM, None), (QWEN, "sha256:845dbda0ea48"), (LLAMACPP, None)),
        tasks=(WEATHER, ORDERS),
        repeats=2,
        settings=(AttemptSettings(), SWEEP),
        name="sweep × 3 models",
    )
    repo.create_run(plan, {WEATHER[0]: TaskInfo("Weather in Paris")})
    loaded = repo.load_plan("r1")
    assert loaded == plan  # every AttemptSpec: ModelRef, enums, nested GenerationSettings, digests
    assert loaded.attempts[-1].settings.generation.temperature == 0.2
    assert [a.seq for a in loaded.attempts] == list(range(24))
    assert repo.unfinished_attempts("r1") == list(plan.attempts)
    with raw(repo.database.path) as connection:
        assert connection.execute("select status from runs").fetchall() == [("planned",)]
        assert connection.execute("select title from tasks order by task_id").fetchall() == [
            ("",), ("Weather in Paris",)
        ]
        keys = {key for (key,) in connection.execute("select distinct settings_key from attempts")}
        labels = {label for (label,) in connection.execute("select distinct settings_label from attempts")}
        blob = connection.execute("select settings_json from attempts where settings_label != ''").fetchone()[0]
    assert keys == {AttemptSettings().key(), SWEEP.key()}
    assert labels == {"", "temperature=0.2"}
    assert json.loads(blob)["generation"] == {"temperature": 0.2, "num_ctx": 8192, "seed": 7, "think": False,
                                              "max_tokens": 512}


def test_a_plan_from_the_task_catalog_round_trips(repo: Repository) -> None:
    tasks = load_catalog([REPO / "tasks"]).tasks("readiness")[:3]
    plan = plan_run([SIM, QWEN], tasks, repeats=2, settings=[SWEEP], digests={SIM: "sim-v1"})
    repo.create_run(plan, {t.id: t for t in tasks})
    assert repo.load_plan(plan.run_id) == plan
    with raw(repo.database.path) as connection:
        titles = dict(connection.execute("select task_id, title from tasks").fetchall())
    assert titles == {t.id: t.spec.title for t in tasks}


def test_models_and_tasks_are_shared_between_runs(repo: Repository) -> None:
    repo.create_run(make_plan("r1", models=((QWEN, "d1"), (SIM, None))))
    repo.create_run(make_plan("r2", models=((QWEN, "d1"), (QWEN, "d2"), (SIM, None))))
    with raw(repo.database.path) as connection:
        models = connection.execute("select name, digest from models order by id").fetchall()
        tasks = connection.execute("select count(*) from tasks").fetchone()[0]
    assert models == [("qwen2.5:7b", "d1"), ("competent", None), ("qwen2.5:7b", "d2")]
    assert tasks == 1


def test_model_details_are_kept_and_refreshed(repo: Repository) -> None:
    repo.create_run(make_plan("r1", models=((QWEN, "d1"),)), model_details={QWEN: {"family": "qwen2", "size": "7.6B"}})
    assert repo.model_details(["r1"]) == {QWEN.label: {"family": "qwen2", "size": "7.6B"}}
    repo.create_run(make_plan("r2", models=((QWEN, "d1"),)), model_details={QWEN: {"family": "qwen2", "quant": "Q4_K_M"}})
    assert repo.model_details(["r1"]) == {QWEN.label: {"family": "qwen2", "quant": "Q4_K_M"}}
    repo.create_run(make_plan("r3", models=((SIM, None),)))
    assert repo.model_details(["r3"]) == {SIM.label: {}}


def test_a_plan_is_stored_all_or_nothing(repo: Repository) -> None:
    repo.create_run(make_plan("r1"))
    with pytest.raises(Exception, match="UNIQUE"):
        repo.create_run(make_plan("r1"))  # same run id again
    assert len(repo.load_plan("r1").attempts) == 1
    stray = make_plan("r2")
    bad = type(stray)(stray.run_id, stray.name, stray.created_at, make_plan("r3").attempts)
    with pytest.raises(ValueError, match="does not belong to run r2"):
        repo.create_run(bad)
    assert repo.counts()["runs"] == 1


def test_unknown_runs_raise_key_error(repo: Repository) -> None:
    for call in (repo.load_plan, repo.run_summary, repo.delete_run):
        with pytest.raises(KeyError):
            call("nope")


def test_unfinished_attempts_after_some_finished(repo: Repository, writer: StoreWriter) -> None:
    plan = make_plan("r1", tasks=(WEATHER, ORDERS), repeats=3)
    repo.create_run(plan)
    a = plan.attempts
    writer.submit(RunStarted(run_id="r1", total_attempts=6, pending_attempts=6))
    writer.submit(finished(a[0], Outcome.PASSED))
    writer.submit(finished(a[2], Outcome.INFRA_ERROR))  # infra errors are done too: they were tried
    writer.submit(attempt_events(a[3])[0])  # started, still running
    writer.submit(finished(a[4], Outcome.CANCELLED))  # cancelled: back to pending
    assert writer.flush()
    assert repo.unfinished_attempts("r1") == [a[1], a[3], a[4], a[5]]
    summary = repo.run_summary("r1")
    assert (summary.status, summary.attempts_done, summary.attempts_total) == ("running", 2, 6)


def test_a_crashed_run_is_marked_interrupted_and_offered_for_resume(repo: Repository, writer: StoreWriter) -> None:
    crashed, cancelled, complete, planned = (make_plan(r, repeats=2, created_at=t)
                                             for r, t in (("crashed", 4.0), ("cancelled", 3.0), ("complete", 2.0), ("planned", 1.0)))
    for plan in (crashed, cancelled, complete, planned):
        repo.create_run(plan)
    for plan in (crashed, cancelled, complete):
        writer.submit(RunStarted(run_id=plan.run_id, total_attempts=2, pending_attempts=2))
    writer.submit(finished(crashed.attempts[0], Outcome.PASSED))
    writer.submit(attempt_events(crashed.attempts[1])[0])  # running when the process died
    writer.submit(finished(cancelled.attempts[0], Outcome.LOOP))
    writer.submit(RunFinished(run_id="cancelled", cancelled=True, completed_attempts=1))
    for spec in complete.attempts:
        writer.submit(finished(spec, Outcome.PASSED))
    writer.submit(RunFinished(run_id="complete", cancelled=False, completed_attempts=2))
    assert writer.flush()

    assert repo.mark_interrupted() == ["crashed"]
    assert repo.mark_interrupted() == []
    assert [s.status for s in repo.list_runs()] == ["interrupted", "cancelled", "finished", "planned"]
    assert repo.unfinished_attempts("crashed") == [crashed.attempts[1]]
    offered = repo.interrupted_runs()
    assert [(s.id, s.attempts_done, s.attempts_total, s.resumable) for s in offered] == [
        ("crashed", 1, 2, True),
        ("cancelled", 1, 2, True),
    ]
    with raw(repo.database.path) as connection:
        assert connection.execute(
            "select status, started_at from attempts where id = ?", (crashed.attempts[1].attempt_id,)
        ).fetchone() == ("pending", None)
