"""Reports from a real stored run: figures worked out by hand, exports that parse back."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from app.core.cancel import CancelToken
from app.core.config import AppSettings, HostConfig
from app.core.engine import Engine
from app.core.events import AttemptFinished, AttemptStats
from app.core.outcomes import Outcome
from app.core.reports.data import build_report
from app.core.reports.export import CSV_FIELDS, to_csv, to_html, to_json, write_report


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("AGENTGAP_HOME", str(tmp_path / "home"))
    return Engine(db_path=tmp_path / "r.db", settings=AppSettings(hosts=[HostConfig(url="http://127.0.0.1:9")]), simulated_pace=0)


def _scripted_run(engine: Engine) -> str:
    """Two tasks × 3 runs for one model, outcomes written directly: figures known by hand."""
    tasks = [engine.catalog.task("readiness.single-tool.weather"), engine.catalog.task("readiness.chain.order-status")]
    plan = engine.plan([engine.parse_model("sim:competent")], tasks, repeats=3)
    outcomes = {
        "readiness.single-tool.weather": [Outcome.PASSED, Outcome.PASSED, Outcome.NO_TOOL_CALL],
        "readiness.chain.order-status": [Outcome.PASSED, Outcome.INFRA_ERROR, Outcome.LOOP],
    }
    seen: dict[str, int] = {}
    for spec in plan.attempts:
        i = seen.get(spec.task_id, 0)
        seen[spec.task_id] = i + 1
        outcome = outcomes[spec.task_id][i]
        engine.writer.submit(AttemptFinished(
            run_id=plan.run_id, attempt_id=spec.attempt_id, outcome=outcome,
            score=1.0 if outcome.is_pass else 0.0, detail=outcome.describe, checks=(),
            stats=AttemptStats(turns=2 if outcome.is_pass else 4, wall_s=1.0, tokens_per_s=40.0),
        ))
    engine.writer.flush()
    return plan.run_id


def test_figures_match_hand_counts(engine: Engine) -> None:
    run_id = _scripted_run(engine)
    data = build_report(engine.repository, [run_id])
    (model,) = data.models
    # 3 passes of 5 scored attempts; the infra error is left out
    assert (model.agent.passed, model.agent.scored) == (3, 5)
    assert model.infra_errors == 1
    assert model.failures == {Outcome.NO_TOOL_CALL: 1, Outcome.LOOP: 1}
    assert model.mean_turns_on_pass == pytest.approx(2.0)
    # pass^2: weather 2 of 3 → C(2,2)/C(3,2) = 1/3; chain 1 of 2 → 0; mean 1/6
    assert model.k == 2 and model.pass_hat_k == pytest.approx(1 / 6)
    assert data.cells[("readiness.single-tool.weather", model.model)].passed == 2
    engine.close()


def test_exports_parse_back(engine: Engine, tmp_path: Path) -> None:
    run_id = _scripted_run(engine)
    data = build_report(engine.repository, [run_id])
    rows = list(csv.DictReader(io.StringIO(to_csv(data))))
    assert len(rows) == 6 and set(rows[0]) == set(CSV_FIELDS)
    assert sorted(r["outcome"] for r in rows).count("passed") == 3
    payload = json.loads(to_json(data))
    assert payload["schema_version"] == 1 and payload["models"][0]["agent"]["passed"] == 3
    assert len(payload["attempts"]) == 6 and "task hashes" in payload["method"]
    html = to_html(data)
    assert html.count("<svg") >= 2 and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<details>" in html and "no_tool_call" in html
    written = write_report(data, "md", tmp_path / "out" / "report.md")
    assert written[0].read_text().startswith("# AgentGap report")
    assert all(p.exists() for p in written) and any(p.suffix == ".svg" for p in written)
    engine.close()


def test_report_from_a_real_simulated_run(engine: Engine) -> None:
    plan = engine.plan([engine.parse_model("sim:competent"), engine.parse_model("sim:prose-only")],
                       engine.catalog.tasks("readiness")[:4], repeats=2)
    engine.execute(plan, CancelToken())
    data = build_report(engine.repository, [plan.run_id])
    prose = next(m for m in data.models if m.model == "sim:prose-only")
    assert prose.failures.get(Outcome.NO_TOOL_CALL, 0) > 0
    assert any(f.attempt.model == "sim:prose-only" and f.transcript for f in data.failures)
    engine.close()


def test_raw_vs_recovery_for_a_text_caller(engine: Engine) -> None:
    from app.core.outcomes import ToolMode
    from app.core.plan import AttemptSettings
    from app.core.reports.export import charts

    tasks = engine.catalog.tasks("readiness", "basic")[:4]
    plan = engine.plan(
        [engine.parse_model("sim:text-caller")], tasks, repeats=1,
        settings=[AttemptSettings(tool_mode=ToolMode.NATIVE, label="raw"), AttemptSettings(tool_mode=ToolMode.RECOVERY, label="harness")],
    )
    engine.execute(plan, CancelToken())
    raw_series, harness_series = build_report(engine.repository, [plan.run_id]).models  # never pooled
    raw, harness = raw_series.by_mode["native"], harness_series.by_mode["recovery"]
    assert raw.scored == harness.scored == 4
    assert raw.passed == 0 and harness.passed >= 3  # the gap is format, not capability
    assert "raw-vs-harness" in charts(build_report(engine.repository, [plan.run_id]))
    engine.close()
