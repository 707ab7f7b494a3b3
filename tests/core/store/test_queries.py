"""History and comparison reads: run summaries, search, the pass table, deleting runs."""

from __future__ import annotations

import pytest

from app.core.events import RunFinished, RunStarted
from app.core.outcomes import Outcome
from app.core.plan import AttemptSettings
from app.core.store.aggregates import outcome_counts_by_settings
from app.core.store.repository import Repository, TaskPassRow
from app.core.store.writer import StoreWriter
from tests.core.store.builders import (
    LLAMACPP,
    ORDERS,
    QWEN,
    SIM,
    WEATHER,
    attempt_events,
    finished,
    make_plan,
    raw,
)


def test_pass_rate_leaves_out_infra_errors_and_cancels(repo: Repository, writer: StoreWriter) -> None:
    plan = make_plan("r1", models=((SIM, None), (QWEN, "d1")), tasks=(WEATHER, ORDERS), repeats=2)
    repo.create_run(plan)
    outcomes = [Outcome.PASSED, Outcome.INFRA_ERROR, Outcome.LOOP, Outcome.PASSED, Outcome.PARTIAL,
                Outcome.INFRA_ERROR, Outcome.CANCELLED]
    for spec, outcome in zip(plan.attempts, outcomes, strict=False):
        writer.submit(finished(spec, outcome))
    assert writer.flush()
    [summary] = repo.list_runs()
    assert (summary.attempts_total, summary.attempts_done, summary.passed, summary.scored) == (8, 6, 2, 4)
    assert summary.pass_rate == 0.5
    assert summary.models == (QWEN.label, SIM.label)
    assert summary.suites == ("api-chain", "readiness")
    assert summary.resumable


def test_an_unstarted_run_has_no_pass_rate(repo: Repository) -> None:
    repo.create_run(make_plan("r1"))
    summary = repo.run_summary("r1")
    assert (summary.status, summary.pass_rate, summary.attempts_total) == ("planned", None, 1)


def test_list_runs_pages_newest_first_and_searches(repo: Repository) -> None:
    repo.create_run(make_plan("a1b2", name="nightly qwen", created_at=3.0, models=((QWEN, None),)))
    repo.create_run(make_plan("c3d4", name="50% sweep_1", created_at=2.0, models=((LLAMACPP, None),)))
    repo.create_run(make_plan("e5f6", name="demo", created_at=1.0))
    assert [r.id for r in repo.list_runs()] == ["a1b2", "c3d4", "e5f6"]
    assert [r.id for r in repo.list_runs(limit=1, offset=1)] == ["c3d4"]
    assert [r.id for r in repo.list_runs(search="NIGHTLY")] == ["a1b2"]
    assert [r.id for r in repo.list_runs(search="c3")] == ["c3d4"]  # id prefix
    assert [r.id for r in repo.list_runs(search="smollm")] == ["c3d4"]  # model label
    assert [r.id for r in repo.list_runs(search="sim:")] == ["e5f6"]
    assert [r.id for r in repo.list_runs(search="50%")] == ["c3d4"]  # % and _ are literal
    assert [r.id for r in repo.list_runs(search="p_1")] == ["c3d4"]
    assert repo.list_runs(search="_") == [repo.run_summary("c3d4")]
    assert repo.list_runs(search="nothing like it") == []


def test_run_summaries_keep_the_order_asked(repo: Repository) -> None:
    for run_id, t in (("x", 1.0), ("y", 2.0), ("z", 3.0)):
        repo.create_run(make_plan(run_id, created_at=t))
    assert [s.id for s in repo.run_summaries(["y", "x", "z"])] == ["y", "x", "z"]
    with pytest.raises(KeyError):
        repo.run_summaries(["x", "nope"])


def test_task_pass_table_counts_per_model_label_and_task_id(repo: Repository, writer: StoreWriter) -> None:
    # the same label under two digests, the same task id under two content hashes
    new_weather = (WEATHER[0], WEATHER[1], WEATHER[2], "ffffffffffffffff")
    one = make_plan("r1", models=((QWEN, "d1"), (SIM, None)), tasks=(WEATHER, ORDERS), repeats=2)
    two = make_plan("r2", models=((QWEN, "d2"),), tasks=(new_weather,), repeats=2)
    three = make_plan("r3", models=((QWEN, "d1"),), tasks=(WEATHER,))
    for plan in (one, two, three):
        repo.create_run(plan)
    by_key = {(s.run_id, s.model, s.task_id, s.repeat): s for p in (one, two, three) for s in p.attempts}
    results = {
        ("r1", QWEN, WEATHER[0], 0): Outcome.PASSED,
        ("r1", QWEN, WEATHER[0], 1): Outcome.INFRA_ERROR,
        ("r1", QWEN, ORDERS[0], 0): Outcome.WRONG_RESULT,
        ("r1", SIM, WEATHER[0], 0): Outcome.PASSED,
        ("r1", SIM, WEATHER[0], 1): Outcome.PASSED,
        ("r2", QWEN, WEATHER[0], 0): Outcome.PASSED,
        ("r2", QWEN, WEATHER[0], 1): Outcome.PARTIAL,
        ("r3", QWEN, WEATHER[0], 0): Outcome.PASSED,
    }
    for key, outcome in results.items():
        writer.submit(finished(by_key[key], outcome))
    assert writer.flush()
    assert repo.task_pass_table(["r1", "r2"]) == [
        TaskPassRow(QWEN.label, ORDERS[0], passed=0, scored=1, total=2),
        TaskPassRow(QWEN.label, WEATHER[0], passed=2, scored=3, total=4),
        TaskPassRow(SIM.label, ORDERS[0], passed=0, scored=0, total=2),
        TaskPassRow(SIM.label, WEATHER[0], passed=2, scored=2, total=2),
    ]
    assert repo.task_pass_table(["r3"]) == [TaskPassRow(QWEN.label, WEATHER[0], 1, 1, 1)]
    assert repo.task_pass_table([]) == []


def test_attempt_records_carry_names_and_pending_ones_have_no_outcome(repo: Repository, writer: StoreWriter) -> None:
    plan = make_plan("r1", models=((LLAMACPP, None),), tasks=(WEATHER, ORDERS))
    repo.create_run(plan)
    writer.submit(finished(plan.attempts[1], Outcome.BAD_ARGUMENTS))
    assert writer.flush()
    first, second = repo.attempts("r1")
    assert (first.status, first.outcome, first.model, first.task_id) == ("pending", None, LLAMACPP.label, WEATHER[0])
    assert (second.status, second.outcome, second.suite, second.tier) == ("done", Outcome.BAD_ARGUMENTS, "api-chain", "chain")


def test_delete_run_cascades_to_attempts_and_events(repo: Repository, writer: StoreWriter) -> None:
    keep, drop = make_plan("keep", repeats=2), make_plan("drop", repeats=3)
    for plan in (keep, drop):
        repo.create_run(plan)
        writer.submit(RunStarted(run_id=plan.run_id, total_attempts=len(plan.attempts), pending_attempts=0))
        for spec in plan.attempts:
            for event in attempt_events(spec):
                writer.submit(event)
        writer.submit(RunFinished(run_id=plan.run_id, cancelled=False, completed_attempts=len(plan.attempts)))
    assert writer.flush()
    before = repo.counts()
    repo.delete_run("drop")
    after = repo.counts()
    per_attempt = before["events"] // 5
    assert (after["runs"], after["attempts"], after["events"]) == (1, 2, 2 * per_attempt)
    assert repo.transcript(drop.attempts[0].attempt_id) == []
    assert [r.id for r in repo.list_runs()] == ["keep"]
    with raw(repo.database.path) as connection:  # the schema itself cascades
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("delete from runs where id = 'keep'")
        connection.commit()
        assert connection.execute("select count(*) from events").fetchone()[0] == 0
        assert connection.execute("select count(*) from models").fetchone()[0] == 1  # models and tasks stay


def test_outcomes_by_settings_from_totals_match_counting_every_attempt(repo: Repository, writer: StoreWriter) -> None:
    """r1 runs each model one way (read from the outcome totals); r2 runs SIM two ways in
    one run (its attempts are counted): both give what a GROUP BY over the attempts gives."""
    one_way = make_plan("r1", models=((SIM, None), (QWEN, "d1")), tasks=(WEATHER, ORDERS), repeats=2)
    two_ways = make_plan(
        "r2", tasks=(WEATHER, ORDERS), repeats=2,
        settings=(AttemptSettings(max_turns=5), AttemptSettings(max_turns=9)),
    )
    cycle = [Outcome.PASSED, Outcome.LOOP, Outcome.INFRA_ERROR, Outcome.PASSED, Outcome.PARTIAL, Outcome.MALFORMED_CALL]
    for plan in (one_way, two_ways):
        repo.create_run(plan)
        for i, spec in enumerate(plan.attempts[:-1]):  # the last stays unfinished: no outcome
            writer.submit(finished(spec, cycle[i % len(cycle)]))
    assert writer.flush()
    expected: dict[tuple[str, str, Outcome], int] = {}
    for plan in (one_way, two_ways):
        for i, spec in enumerate(plan.attempts[:-1]):
            key = (spec.model.label, spec.settings.key(), cycle[i % len(cycle)])
            expected[key] = expected.get(key, 0) + 1
    counts = outcome_counts_by_settings(repo.database, ["r1", "r2"])
    assert {(c.model, c.settings_key, c.outcome): c.count for c in counts} == expected
    assert len({c.settings_key for c in counts if c.model == SIM.label}) == 3  # two turn budgets and the default


def test_unjudged_attempts_are_counted_from_the_totals_and_the_first_ones_listed(
    repo: Repository, writer: StoreWriter
) -> None:
    plan = make_plan("r1", models=((SIM, None), (QWEN, "d1")), tasks=(WEATHER, ORDERS), repeats=2)
    repo.create_run(plan)
    assert repo.unjudged_attempts(["r1"], limit=2) is None  # nothing finished yet
    broken = plan.attempts[:3]
    for spec in plan.attempts:
        writer.submit(finished(spec, Outcome.HARNESS_ERROR if spec in broken else Outcome.PASSED))
    assert writer.flush()
    found = repo.unjudged_attempts(["r1"], limit=2)
    assert found is not None and found.count == 3 and len(found.attempts) == 2
    listed = {(a.task_id, a.model) for a in found.attempts}
    assert listed <= {(s.task_id, s.model.label) for s in broken}
    everything = repo.unjudged_attempts(["r1"], limit=100)
    assert everything is not None and everything.count == len(everything.attempts) == 3
