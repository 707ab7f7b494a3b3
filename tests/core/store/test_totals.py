"""The summary totals: every write keeps them equal to a fresh count over the attempts."""

from __future__ import annotations

import itertools
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from app.core.events import AttemptFinished, AttemptStarted, AttemptStats, RunFinished, RunStarted
from app.core.outcomes import Outcome
from app.core.plan import AttemptSettings, AttemptSpec, RunPlan
from app.core.store.aggregates import OutcomeCount, cell_stats, outcome_counts
from app.core.store.database import _alembic_config, open_database
from app.core.store.repository import Repository
from app.core.store.totals import rebuild_totals
from app.core.store.writer import StoreWriter
from tests.core.store.builders import LLAMACPP, ORDERS, QWEN, SIM, SWEEP, WEATHER, make_plan, raw

Totals = tuple[dict[tuple[Any, ...], dict[str, Any]], dict[tuple[Any, ...], int]]

RELABELLED = replace(SWEEP, label="same settings, another label")  # same key as SWEEP
_COUNTERS = (
    "total", "done", "passed", "partial", "scored", "infra", "budget_exceeded", "malformed_calls",
    "turns_on_pass", "tokens_per_s_sum", "tokens_per_s_count", "wall_s_sum", "wall_s_count",
)


def expected_totals(path: Path) -> Totals:
    """The totals counted afresh, in Python, from the attempt rows."""
    cells: dict[tuple[Any, ...], dict[str, Any]] = {}
    outcomes: Counter[tuple[Any, ...]] = Counter()
    with raw(path) as connection:
        rows = connection.execute(
            "select run_id, model_id, task_row_id, settings_key, settings_label, status, outcome, turns, "
            "calls_malformed, tokens_per_s, wall_s from attempts"
        ).fetchall()
    for run, model, task, key, label, status, value, turns, malformed, rate, wall in rows:
        cell = cells.setdefault((run, model, task, key), dict.fromkeys(_COUNTERS, 0) | {"settings_label": ""})
        outcome = Outcome(value) if value else None
        cell["settings_label"] = max(cell["settings_label"], label)
        cell["total"] += 1
        cell["done"] += status == "done"
        cell["passed"] += outcome is Outcome.PASSED
        cell["partial"] += outcome is Outcome.PARTIAL
        cell["scored"] += outcome is not None and outcome.counts_in_score
        cell["infra"] += outcome is Outcome.INFRA_ERROR
        cell["budget_exceeded"] += outcome is not None and outcome.is_budget
        cell["malformed_calls"] += malformed
        cell["turns_on_pass"] += turns if outcome is Outcome.PASSED else 0
        cell["tokens_per_s_sum"] += rate or 0.0
        cell["tokens_per_s_count"] += rate is not None
        cell["wall_s_sum"] += wall or 0.0
        cell["wall_s_count"] += wall is not None
        if outcome is not None:
            outcomes[(run, model, value)] += 1
    return {k: _rounded(v) for k, v in cells.items()}, dict(outcomes)


def stored_totals(path: Path) -> Totals:
    with raw(path) as connection:
        cells = connection.execute(
            f"select run_id, model_id, task_row_id, settings_key, settings_label, {', '.join(_COUNTERS)} "
            "from cell_totals"
        ).fetchall()
        outcomes = connection.execute("select run_id, model_id, outcome, total from outcome_totals").fetchall()
    return (
        {tuple(row[:4]): _rounded(dict(zip(("settings_label", *_COUNTERS), row[4:], strict=True))) for row in cells},
        {tuple(row[:3]): row[3] for row in outcomes if row[3] != 0},  # a count fallen to zero may stay
    )


def _rounded(cell: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in cell.items()}


def started(spec: AttemptSpec) -> AttemptStarted:
    return AttemptStarted(
        run_id=spec.run_id, attempt_id=spec.attempt_id, at=1_700_000_050.0, model=spec.model.label,
        task_id=spec.task_id, repeat=spec.repeat, try_number=1, tool_mode="recovery", messages=(), tools=(),
    )


def ended(
    spec: AttemptSpec, outcome: Outcome, *, turns: int = 3, malformed: int = 0, rate: float | None = 40.0,
    wall: float = 2.5,
) -> AttemptFinished:
    return AttemptFinished(
        run_id=spec.run_id, attempt_id=spec.attempt_id, at=1_700_000_100.0, outcome=outcome,
        score=1.0 if outcome is Outcome.PASSED else 0.0, detail=outcome.describe, checks=(),
        stats=AttemptStats(turns=turns, calls_malformed=malformed, tokens_per_s=rate, wall_s=wall),
    )


def two_runs(repo: Repository) -> tuple[RunPlan, RunPlan]:
    first = make_plan("r1", models=((SIM, None), (QWEN, "d1")), tasks=(WEATHER, ORDERS), repeats=2,
                      settings=(AttemptSettings(), SWEEP))
    second = make_plan("r2", models=((QWEN, "d1"), (LLAMACPP, None)), tasks=(WEATHER,), repeats=3,
                       settings=(RELABELLED,))
    repo.create_run(first)
    repo.create_run(second)
    return first, second


def test_a_new_run_counts_its_planned_attempts(repo: Repository) -> None:
    two_runs(repo)
    assert stored_totals(repo.database.path) == expected_totals(repo.database.path)
    [summary] = repo.run_summaries(["r1"])
    assert (summary.attempts_total, summary.attempts_done, summary.scored) == (16, 0, 0)


def test_totals_follow_finishes_cancels_resumes_interruptions_and_deletes(
    repo: Repository, writer: StoreWriter
) -> None:
    path = repo.database.path
    first, second = two_runs(repo)
    a, b, c, d = first.attempts[:4]
    writer.submit(RunStarted(run_id="r1", total_attempts=16, pending_attempts=16))
    writer.submit(started(a))
    writer.submit(ended(a, Outcome.PASSED, turns=4, rate=None))
    writer.submit(started(b))
    writer.submit(ended(b, Outcome.TURN_BUDGET, malformed=2, rate=30.0))
    writer.submit(started(c))
    writer.submit(ended(c, Outcome.CANCELLED))  # back to pending: counts as never run
    writer.submit(started(d))
    writer.submit(ended(d, Outcome.INFRA_ERROR, rate=None))
    for spec, outcome in zip(second.attempts, (Outcome.PARTIAL, Outcome.PASSED, Outcome.LOOP), strict=False):
        writer.submit(started(spec))
        writer.submit(ended(spec, outcome, rate=55.5))
    assert writer.flush()
    assert stored_totals(path) == expected_totals(path)
    stats = {(s.model, s.task_id, s.settings_key): s for s in cell_stats(repo.database, ["r1"])}
    weather = stats[(SIM.label, WEATHER[0], AttemptSettings().key())]  # a passed, c back to pending
    assert (weather.total, weather.done, weather.passed, weather.scored, weather.budget_exceeded) == (2, 1, 1, 1, 0)
    assert (weather.mean_turns_on_pass, weather.mean_tokens_per_s, weather.mean_wall_s) == (4.0, None, 2.5)
    orders = stats[(SIM.label, ORDERS[0], AttemptSettings().key())]  # b over its turn budget, d an infra error
    assert (orders.total, orders.done, orders.scored, orders.infra, orders.budget_exceeded) == (2, 2, 1, 1, 1)
    assert (orders.malformed_calls, orders.mean_tokens_per_s, orders.mean_turns_on_pass) == (2, 30.0, None)

    # the cancelled attempt runs again; another is cut off by a crash and reset at start-up
    writer.submit(started(c))
    writer.submit(ended(c, Outcome.WRONG_RESULT))
    writer.submit(started(first.attempts[5]))
    assert writer.flush()
    assert repo.mark_interrupted() == ["r1"]
    assert stored_totals(path) == expected_totals(path)
    assert set(outcome_counts(repo.database, ["r1"])) == {
        OutcomeCount(SIM.label, outcome, 1)
        for outcome in (Outcome.PASSED, Outcome.TURN_BUDGET, Outcome.WRONG_RESULT, Outcome.INFRA_ERROR)
    }
    writer.submit(RunFinished(run_id="r1", cancelled=True, completed_attempts=4))
    assert writer.flush()
    assert repo.run_summary("r1").attempts_done == 4

    repo.delete_run("r2")
    assert stored_totals(path) == expected_totals(path)
    with raw(path) as connection:
        assert connection.execute("select count(*) from cell_totals where run_id = 'r2'").fetchone() == (0,)
        assert connection.execute("select count(*) from outcome_totals where run_id = 'r2'").fetchone() == (0,)
    assert repo.task_pass_table(["r2"]) == []


def test_rebuilding_gives_what_the_writes_kept(repo: Repository, writer: StoreWriter) -> None:
    path = repo.database.path
    first, _ = two_runs(repo)
    for spec, outcome in zip(first.attempts, list(Outcome) * 2, strict=False):
        writer.submit(started(spec))
        writer.submit(ended(spec, outcome, turns=spec.seq, malformed=spec.seq % 3, rate=spec.seq * 1.5 or None))
    assert writer.flush()
    kept = stored_totals(path)
    with repo.database.engine.begin() as connection:
        rebuild_totals(connection)
    assert stored_totals(path) == kept == expected_totals(path)


# ---- random sequences of writes -----------------------------------------------------

_PLANS = st.builds(
    lambda models, tasks, repeats, settings_: (models, tasks, repeats, settings_),
    st.sampled_from([((SIM, None),), ((SIM, None), (QWEN, "d1")), ((QWEN, "d1"), (QWEN, "d2"))]),
    st.sampled_from([(WEATHER,), (WEATHER, ORDERS)]),
    st.integers(1, 2),
    st.sampled_from([(AttemptSettings(),), (SWEEP,), (RELABELLED, AttemptSettings()), (SWEEP, RELABELLED)]),
)
_OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), _PLANS),
        st.tuples(st.just("run"), st.integers(0, 9)),
        st.tuples(st.just("start"), st.integers(0, 99)),
        st.tuples(
            st.just("finish"), st.integers(0, 99), st.sampled_from(list(Outcome)), st.integers(0, 9),
            st.integers(0, 3), st.none() | st.floats(0.5, 200.0), st.floats(0.0, 60.0),
        ),
        st.tuples(st.just("interrupt")),
        st.tuples(st.just("delete"), st.integers(0, 9)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_OPERATIONS)
def test_random_sequences_of_writes_keep_the_totals_exact(operations: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "agentgap.db"
        db = open_database(path)
        repo, writer = Repository(db), StoreWriter(db)
        runs: list[RunPlan] = []
        try:
            for operation in operations:
                _apply(operation, repo, writer, runs)
                assert writer.flush()
                assert stored_totals(path) == expected_totals(path), operation
            assert writer.errors == 0, writer.last_error
        finally:
            writer.close()
            db.close()


_RUN_NUMBERS = itertools.count()


def _apply(operation: tuple[Any, ...], repo: Repository, writer: StoreWriter, runs: list[RunPlan]) -> None:
    kind, *args = operation
    attempts = [a for plan in runs for a in plan.attempts]
    if kind == "create":
        models, tasks, repeats, settings_ = args[0]
        run_id = f"r{next(_RUN_NUMBERS)}"  # unique even after a run is deleted
        plan = make_plan(run_id, models, tasks, repeats=repeats, settings=settings_)
        repo.create_run(plan)
        runs.append(plan)
    elif kind == "run" and runs:
        plan = runs[args[0] % len(runs)]
        writer.submit(RunStarted(run_id=plan.run_id, total_attempts=len(plan.attempts), pending_attempts=0))
    elif kind == "start" and attempts:
        writer.submit(started(attempts[args[0] % len(attempts)]))
    elif kind == "finish" and attempts:
        index, outcome, turns, malformed, rate, wall = args
        writer.submit(ended(attempts[index % len(attempts)], outcome, turns=turns, malformed=malformed, rate=rate,
                            wall=wall))
    elif kind == "interrupt":
        assert writer.flush()
        repo.mark_interrupted()
    elif kind == "delete" and runs:
        repo.delete_run(runs.pop(args[0] % len(runs)).run_id)


# ---- upgrading ----------------------------------------------------------------------


def test_a_database_of_schema_0002_upgrades_with_its_totals_filled(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0002")
    engine.dispose()
    attempts = [
        # id, run, model, task, key, label, status, outcome, turns, malformed, tokens/s, wall
        ("r1-0", "r1", 1, 1, "k1", "", "done", "passed", 3, 0, 40.0, 2.0),
        ("r1-1", "r1", 1, 1, "k1", "", "done", "passed", 5, 1, None, 4.0),
        ("r1-2", "r1", 1, 1, "k1", "", "done", "infra_error", 1, 0, None, None),
        ("r1-3", "r1", 1, 2, "k1", "", "done", "token_budget", 8, 2, 20.0, 9.0),
        ("r1-4", "r1", 2, 2, "k2", "hot", "pending", None, 0, 0, None, None),
        ("r1-5", "r1", 2, 2, "k2", "hot", "running", None, 0, 0, None, None),
        ("r2-0", "r2", 2, 1, "k2", "warm", "done", "partial", 2, 0, 10.0, 1.0),
        ("r2-1", "r2", 2, 1, "k2", "hot", "done", "wrong_result", 6, 3, 30.0, 3.0),
    ]
    with raw(path) as connection:
        connection.executemany(
            "insert into models (id, provider, host, name, digest, label) values (?, 'ollama', 'h', ?, null, ?)",
            [(1, "a", "h/a"), (2, "b", "h/b")],
        )
        connection.executemany(
            "insert into tasks (id, suite, task_id, tier, content_hash, title) values (?, 's', ?, 't', 'h', '')",
            [(1, "s.one"), (2, "s.two")],
        )
        connection.executemany(
            "insert into runs values (?, ?, 1.0, null, 'finished', '0.1.0', '{}')", [("r1", "one"), ("r2", "two")]
        )
        connection.executemany(
            "insert into attempts (id, run_id, model_id, task_row_id, settings_key, settings_label, status, outcome, "
            "turns, calls_malformed, tokens_per_s, wall_s, seq, repeat, settings_json, detail, final_answer, "
            "infra_retries, calls_valid, calls_recovered, calls_rejected, prompt_tokens, completion_tokens, "
            "checks_json) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, '{}', '', '', 0, 0, 0, 0, 0, 0, '[]')",
            attempts,
        )
    db = open_database(path)
    try:
        cells, outcomes = stored_totals(path)
        assert (cells, outcomes) == expected_totals(path)
        assert cells[("r1", 1, 1, "k1")] == {
            "settings_label": "", "total": 3, "done": 3, "passed": 2, "partial": 0, "scored": 2, "infra": 1,
            "budget_exceeded": 0, "malformed_calls": 1, "turns_on_pass": 8, "tokens_per_s_sum": 40.0,
            "tokens_per_s_count": 1, "wall_s_sum": 6.0, "wall_s_count": 2,
        }
        assert cells[("r2", 2, 1, "k2")]["settings_label"] == "warm"
        repo = Repository(db)
        one, two = repo.run_summaries(["r1", "r2"])
        assert (one.attempts_total, one.attempts_done, one.passed, one.scored) == (6, 4, 2, 3)
        assert (two.attempts_total, two.passed, two.scored, two.models) == (2, 0, 2, ("h/b",))
    finally:
        db.close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0002")
    engine.dispose()
    with raw(path) as connection:
        tables = {name for (name,) in connection.execute("select name from sqlite_master where type = 'table'")}
    assert "cell_totals" not in tables and "outcome_totals" not in tables and "attempts" in tables
