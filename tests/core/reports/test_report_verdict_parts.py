"""The report shows a transcript for every model and failure mode, keeps unlike settings apart,
names its file after the run, and draws the gap chart with ticks and names."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.cancel import CancelToken
from app.core.config import AppSettings, HostConfig
from app.core.engine import Engine
from app.core.outcomes import ToolMode
from app.core.plan import AttemptSettings
from app.core.reports.data import build_report
from app.core.reports.export import suggested_file_name
from app.core.reports.svg import FAILURE_COLOURS, gap_scatter


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("AGENTGAP_HOME", str(tmp_path / "home"))
    return Engine(db_path=tmp_path / "r.db", settings=AppSettings(hosts=[HostConfig(url="http://127.0.0.1:9")]),
                  simulated_pace=0)


def test_at_least_one_transcript_per_model_and_failure_mode(engine: Engine) -> None:
    models = [engine.parse_model(f"sim:{n}") for n in ("looper", "prose-only", "verifier", "text-caller")]
    tasks = engine.catalog.tasks("readiness")
    plan = engine.plan(models, tasks, repeats=2)
    engine.execute(plan, CancelToken())
    data = build_report(engine.repository, [plan.run_id], failure_examples=3)
    kinds = {(m.model, o) for m in data.models for o, n in m.failures.items() if n}
    shown = {(f.attempt.model, f.attempt.outcome) for f in data.failures}
    assert len(kinds) > 3  # more kinds than the limit asked for
    assert kinds <= shown
    assert all(f.transcript for f in data.failures)


def test_unlike_tool_modes_are_separate_series(engine: Engine) -> None:
    model = engine.parse_model("sim:text-caller")
    tasks = engine.catalog.tasks("readiness", "basic")
    native = engine.plan([model], tasks, repeats=1, settings=[AttemptSettings(tool_mode=ToolMode.NATIVE)])
    harness = engine.plan([model], tasks, repeats=1)
    for plan in (native, harness):
        engine.execute(plan, CancelToken())
    data = build_report(engine.repository, [native.run_id, harness.run_id], failure_examples=0)
    assert [(m.model, m.configuration) for m in data.models] == [
        ("sim:text-caller [native]", "native"), ("sim:text-caller [recovery]", "recovery")]
    assert [d.name for d in data.differences] == ["tool mode"]
    native_rate, harness_rate = data.models[0].agent, data.models[1].agent
    assert native_rate.scored == harness_rate.scored == len(tasks)  # not pooled: each has its own N
    assert (native_rate.value or 0) < (harness_rate.value or 0)


def test_a_single_configuration_keeps_plain_model_names(engine: Engine) -> None:
    plan = engine.plan([engine.parse_model("sim:competent")], engine.catalog.tasks("readiness", "basic")[:2], repeats=1)
    engine.execute(plan, CancelToken())
    data = build_report(engine.repository, [plan.run_id], failure_examples=0)
    assert [m.model for m in data.models] == ["sim:competent"] and data.differences == []
    assert all(data.title(t) != t for _, _, t in data.tasks)  # titles, not ids


def test_file_names_say_what_the_report_is() -> None:
    assert suggested_file_name(["Demo: four models"], 0.0, "html").startswith("agentgap-demo-four-models-19")
    assert suggested_file_name(["a", "b"], 0.0, "md").startswith("agentgap-2-runs-")


def test_gap_scatter_has_ticks_and_names() -> None:
    svg = gap_scatter("gap", [("model-a", 1.0, 0.2), ("model-b", 1.0, 0.2), ("model-c", 0.5, 0.5)])
    assert 'width="720"' in svg
    for tick in ("0%", "50%", "100%"):
        assert f">{tick}<" in svg
    assert svg.count(">model-a<") == 2 and ">model-b<" in svg  # label by the point and in the legend


def test_every_failure_mode_has_its_own_colour() -> None:
    colours = list(FAILURE_COLOURS.values())
    assert len(set(colours)) == len(colours)
    assert {"context_limit", "harness_killed", "harness_error"} <= {o.value for o in FAILURE_COLOURS}
