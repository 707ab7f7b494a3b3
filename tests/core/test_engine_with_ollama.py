"""A whole run through the engine against the fake Ollama server: faults are infra errors,
retried and excluded, and the run goes on; discovery and the CLI see the host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.cancel import CancelToken
from app.core.config import AppSettings, HostConfig
from app.core.engine import Engine
from app.core.outcomes import Outcome
from app.core.runner import RunnerOptions
from tests.fakes.fake_ollama import FakeModel, FakeOllama, FakeReply

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[FakeOllama]:
    with FakeOllama([FakeModel("llama3.2:3b"), FakeModel("gemma3:4b", family="gemma3", capabilities=("completion",))]) as fake:
        yield fake


@pytest.fixture
def engine(server: FakeOllama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("AGENTGAP_HOME", str(tmp_path / "home"))
    settings = AppSettings(hosts=[HostConfig(kind="ollama", url=server.url)])
    with Engine(db_path=tmp_path / "e.db", settings=settings) as engine:
        yield engine


def _weather_model(body: dict[str, Any]) -> FakeReply:
    """Calls get_weather first, then answers from the tool result."""
    if any(m["role"] == "tool" for m in body["messages"]):
        return FakeReply(content="It is 14 °C with light rain in Paris.")
    return FakeReply(tool_calls=[("get_weather", {"city": "Paris"})])


def test_faults_are_infra_errors_and_the_run_continues(server: FakeOllama, engine: Engine) -> None:
    server.responder = _weather_model
    task = engine.catalog.task("readiness.single-tool.weather")
    llama = engine.parse_model(f"{server.url}/llama3.2:3b")
    gemma = engine.parse_model(f"{server.url}/gemma3:4b")
    plan = engine.plan([llama, gemma], [task], repeats=3)
    # the first attempt fails to load twice, then works: retried, not counted
    server.fail_next("load_failure")
    server.fail_next("load_failure")
    engine.execute(plan, CancelToken(), options=RunnerOptions(infra_retries=2))
    attempts = engine.repository.attempts(plan.run_id)
    by_model = {m: [a for a in attempts if a.model == m] for m in (llama.label, gemma.label)}
    assert [a.outcome for a in by_model[llama.label]] == [Outcome.PASSED] * 3
    assert [a.infra_retries for a in by_model[llama.label]] == [2, 0, 0]
    # gemma has no tool support: a clear, non-retried infra error, never a model failure
    assert [a.outcome for a in by_model[gemma.label]] == [Outcome.INFRA_ERROR] * 3
    assert "does not support tools" in by_model[gemma.label][0].detail
    assert all(a.infra_retries == 0 for a in by_model[gemma.label])
    summary = engine.repository.run_summary(plan.run_id)
    assert (summary.passed, summary.scored) == (3, 3)


def test_server_dying_mid_run_keeps_finished_attempts(server: FakeOllama, engine: Engine) -> None:
    server.responder = _weather_model
    task = engine.catalog.task("readiness.single-tool.weather")
    llama = engine.parse_model(f"{server.url}/llama3.2:3b")
    plan = engine.plan([llama], [task], repeats=2)
    engine.execute(plan, CancelToken(), options=RunnerOptions(infra_retries=0))
    server.stop()
    plan2 = engine.plan([llama], [task], repeats=2)
    engine.execute(plan2, CancelToken(), options=RunnerOptions(infra_retries=0))
    assert [a.outcome for a in engine.repository.attempts(plan.run_id)] == [Outcome.PASSED] * 2
    dead = engine.repository.attempts(plan2.run_id)
    assert [a.outcome for a in dead] == [Outcome.INFRA_ERROR] * 2
    assert "No Ollama server" in dead[0].detail


def test_cli_lists_the_fake_hosts_models(server: FakeOllama, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLLAMA")}
    env.update(AGENTGAP_HOME=str(tmp_path / "h"), AGENTGAP_CONFIG=str(tmp_path / "s.json"), OLLAMA_HOST=server.url)
    result = subprocess.run(
        [sys.executable, "-m", "app", "--db", str(tmp_path / "c.db"), "models", "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    hosts = json.loads(result.stdout)
    ollama = next(h for h in hosts if h["provider"] == "ollama")
    assert ollama["reachable"] and ollama["version"] == "0.12.6"
    models = {m["name"]: m for m in ollama["models"]}
    assert models["llama3.2:3b"]["capabilities"] == ["tools"]
    assert any(h["provider"] == "sim" for h in hosts)
