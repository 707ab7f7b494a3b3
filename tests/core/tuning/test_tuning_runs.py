"""Sweeps and ceiling runs end to end: plan, store, execute, read back from the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.cancel import CancelToken
from app.core.chat import GenerationSettings
from app.core.config import AppSettings
from app.core.engine import Engine
from app.core.plan import AttemptSettings
from app.core.reports.data import build_report
from app.core.tuning.analysis import Verdict
from app.core.tuning.ceilings import Ceiling
from app.core.tuning.factors import COMPLETENESS_DIRECTIVE, Factor
from app.core.tuning.sweep import ALL_WINNERS_LABEL, SweepError, SweepSpec
from tests.core.tuning.budget_models import TASK, lab, ref


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with Engine(db_path=tmp_path / "tuning.db", settings=AppSettings(), simulated_pace=0.0) as engine:
        engine.providers.put(lab())
        yield engine


def test_ceiling_run_labels_turn_token_and_capability(engine: Engine) -> None:
    task = engine.catalog.task(TASK)
    models = [ref("turn-hungry"), ref("token-hungry"), ref("incapable"), ref("cold-only")]
    first = engine.plan(models, [task], repeats=3, settings=[AttemptSettings(generation=GenerationSettings(temperature=0.1))])
    engine.execute(first, CancelToken())

    ceiling = engine.plan_ceiling([first.run_id])
    # cold-only passed at temperature 0.1: only the three failing pairs are swept, 5 cells × 3 each
    assert {a.model.name for a in ceiling.attempts} == {"turn-hungry", "token-hungry", "incapable"}
    assert len(ceiling.attempts) == 3 * 5 * 3
    assert {a.settings.generation.temperature for a in ceiling.attempts} == {0.1}  # the run's own baseline
    engine.execute(ceiling, CancelToken())

    labels = {d.model: d.ceiling for d in build_report(engine.repository, [ceiling.run_id]).tuning.ceilings}
    assert labels == {
        "sim:turn-hungry": Ceiling.TURN,
        "sim:token-hungry": Ceiling.TOKEN,
        "sim:incapable": Ceiling.CAPABILITY,
    }


def test_sweep_finds_winners_and_the_all_winners_cell_passes(engine: Engine) -> None:
    task = engine.catalog.task(TASK)
    baseline = AttemptSettings(generation=GenerationSettings(temperature=0.8, think=False))
    spec = SweepSpec(baseline, {Factor.TEMPERATURE: [0.2], Factor.THINKING: [True]}, repeats=5)
    plan = engine.plan_sweep(ref("cold-thinker"), [task], spec)
    assert len(plan.attempts) == 3 * 5
    engine.execute(plan, CancelToken())

    [sweep] = build_report(engine.repository, [plan.run_id]).tuning.sweeps
    # each factor alone fails: neither is a winner, so there is nothing to combine yet
    assert sweep.baseline.rate.passed == 0
    assert all(f.winner is None for f in sweep.factors)
    assert sweep.all_winners_settings() is None

    spec = SweepSpec(AttemptSettings(generation=GenerationSettings(temperature=0.8, think=True)), {Factor.TEMPERATURE: [0.2]}, repeats=5)
    plan = engine.plan_sweep(ref("cold-thinker"), [task], spec)
    engine.execute(plan, CancelToken())
    [sweep] = build_report(engine.repository, [plan.run_id]).tuning.sweeps
    [temperature] = sweep.factors
    assert temperature.winner is not None and temperature.winner.value == 0.2  # 5/5 against 0/5


def test_all_winners_follow_up_joins_the_sweep(engine: Engine) -> None:
    task = engine.catalog.task(TASK)
    baseline = AttemptSettings(generation=GenerationSettings(temperature=0.8))
    spec = SweepSpec(
        baseline, {Factor.TEMPERATURE: [0.2], Factor.DIRECTIVE: [COMPLETENESS_DIRECTIVE], Factor.THINKING: [True]}, repeats=5
    )
    plan = engine.plan_sweep(ref("nudgeable"), [task], spec)
    engine.execute(plan, CancelToken())
    [sweep] = build_report(engine.repository, [plan.run_id]).tuning.sweeps
    assert sweep.winners == {Factor.TEMPERATURE: 0.2, Factor.DIRECTIVE: COMPLETENESS_DIRECTIVE}  # thinking: no change
    combined = sweep.all_winners_settings()
    assert combined is not None
    follow = engine.plan_follow_up([plan.run_id], "sim:nudgeable", [combined], name="all winners")
    assert len(follow.attempts) == 5  # the same N and tasks as the sweep
    assert follow.attempts[0].settings.directive == COMPLETENESS_DIRECTIVE
    engine.execute(follow, CancelToken())
    [joined] = build_report(engine.repository, [plan.run_id, follow.run_id]).tuning.sweeps
    assert [(c.settings.label, c.rate.passed, v) for c, v in joined.combinations] == [(ALL_WINNERS_LABEL, 5, Verdict.BETTER)]
    assert joined.all_winners_settings() is None  # ran: not offered again


def test_sweep_with_two_runs_per_cell_is_refused_before_anything_is_stored(engine: Engine) -> None:
    spec = SweepSpec(AttemptSettings(), {Factor.TEMPERATURE: [0.2]}, repeats=2)
    with pytest.raises(SweepError, match="at least 3"):
        engine.plan_sweep(ref("cold-only"), [engine.catalog.task(TASK)], spec)
    assert engine.repository.list_runs() == []


def test_ceiling_of_a_run_without_failures_says_so(engine: Engine) -> None:
    run = engine.plan([ref("cold-only")], [engine.catalog.task(TASK)], repeats=3, settings=[AttemptSettings(generation=GenerationSettings(temperature=0.0))])
    engine.execute(run, CancelToken())
    with pytest.raises(SweepError, match="no ceiling to find"):
        engine.plan_ceiling([run.run_id])


def test_exports_carry_the_sweep_and_the_ceilings(engine: Engine, tmp_path: Path) -> None:
    import json

    from app.core.reports.export import to_html, to_json, to_markdown

    task = engine.catalog.task(TASK)
    first = engine.plan([ref("turn-hungry")], [task], repeats=3)
    engine.execute(first, CancelToken())
    ceiling = engine.plan_ceiling([first.run_id])
    engine.execute(ceiling, CancelToken())
    spec = SweepSpec(AttemptSettings(generation=GenerationSettings(temperature=0.8)), {Factor.TEMPERATURE: [0.2]}, repeats=5)
    sweep = engine.plan_sweep(ref("cold-only"), [task], spec)
    engine.execute(sweep, CancelToken())

    data = build_report(engine.repository, [first.run_id, ceiling.run_id, sweep.run_id])
    html = to_html(data)
    assert "Tuning: one factor at a time" in html and "★ winner" in html
    assert "Budget ceilings" in html and "turn ceiling" in html and 'id="chart-budget-ceilings"' in html
    assert 'id="chart-sweep-sim-cold-only"' in html
    markdown = to_markdown(data)
    assert "## Budget ceilings" in markdown and "| sim:turn-hungry | readiness.single-tool.weather | turn ceiling |" in markdown
    tuning = json.loads(to_json(data))["tuning"]
    assert tuning["sweeps"][0]["factors"][0]["winner"] == "0.2"
    assert tuning["ceilings"][0]["ceiling"] == "turn ceiling"
    assert tuning["ceilings"][0]["turns"]["2"]["passed"] == 3


def test_the_simulated_overthinker_shows_a_token_ceiling_and_a_thinking_winner(tmp_path: Path) -> None:
    with Engine(db_path=tmp_path / "sim.db", settings=AppSettings(), simulated_pace=0.0) as sim:
        tasks = sim.catalog.tasks("readiness", "basic")[:3]
        model = sim.parse_model("sim:overthinker")
        first = sim.plan([model], tasks, repeats=3)
        sim.execute(first, CancelToken())
        assert sim.repository.run_summary(first.run_id).passed == 0
        ceiling = sim.plan_ceiling([first.run_id])
        sim.execute(ceiling, CancelToken())
        report = build_report(sim.repository, [ceiling.run_id]).tuning
        assert {d.ceiling for d in report.ceilings} == {Ceiling.TOKEN}
        sweep = sim.plan_sweep(model, tasks, SweepSpec(AttemptSettings(), {Factor.THINKING: [False]}, repeats=3))
        sim.execute(sweep, CancelToken())
        [analysis] = build_report(sim.repository, [sweep.run_id]).tuning.sweeps
        assert analysis.winners == {Factor.THINKING: False}


def test_a_context_ceiling_names_the_num_ctx_that_holds_it(engine: Engine) -> None:
    task = engine.catalog.task(TASK)
    first = engine.plan([ref("context-bound")], [task], repeats=3)
    engine.execute(first, CancelToken())
    [limits] = engine.repository.context_limits([first.run_id])
    assert limits.count == 3 and limits.needed is not None and limits.needed >= 16_000

    ceiling = engine.plan_ceiling([first.run_id])
    contexts = {a.settings.generation.num_ctx for a in ceiling.attempts}
    assert contexts == {None, limits.needed}  # the sweep varies num_ctx too
    engine.execute(ceiling, CancelToken())

    [diagnosis] = build_report(engine.repository, [ceiling.run_id]).tuning.ceilings
    assert diagnosis.ceiling is Ceiling.CONTEXT
    assert diagnosis.context_limited == 3
    assert f"raise num_ctx to {limits.needed}" in diagnosis.advice
    assert f"num_ctx {limits.needed} 3/3" in diagnosis.evidence
