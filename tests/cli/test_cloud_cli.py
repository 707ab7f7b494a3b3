"""``agentgap run`` with a cloud model: refused until the notice is accepted with
``--accept-cloud`` (remembered), then run against the fake Anthropic API on loopback.

In-process, so the key can live in an in-memory keyring instead of the user's."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli import run_cli
from app.core.secrets import SERVICE
from tests.core.providers.cloud_keyring import memory_keyring
from tests.fakes.fake_anthropic import FakeAnthropic, FakeTurn

KEY = "sk-ant-api03-cli-Lp7Wq2Ex9Rt4Yu6Io1Pa3Sd5"
MODEL = "anthropic:claude-haiku-4-5-20251001"


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    monkeypatch.setenv("AGENTGAP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AGENTGAP_CONFIG", str(tmp_path / "settings.json"))
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # nothing listens there
    with FakeAnthropic(api_key=KEY) as server, memory_keyring() as keys:
        keys.set_password(SERVICE, "anthropic", KEY)
        monkeypatch.setenv("AGENTGAP_ANTHROPIC_BASE_URL", server.url)
        server.responder = _weather_model
        yield server


def _weather_model(body: dict[str, Any]) -> FakeTurn:
    last = body["messages"][-1]["content"]
    results = [b for b in last if b.get("type") == "tool_result"]
    if not results:
        return FakeTurn(tool_calls=[("get_weather", {"city": "Paris"})])
    found = re.search(r'"temp_c":\s*(-?\d+)', str(results[0]["content"]))
    return FakeTurn(text=f"It is {found.group(1) if found else '?'} °C in Paris.")


def _run(tmp_path: Path, *extra: str) -> list[str]:
    return ["--db", str(tmp_path / "runs.db"), "run", "-m", MODEL, "--task", "readiness.single-tool.weather",
            "-n", "2", "--json", *extra]


def test_refused_until_accepted_then_run_and_remembered(
    fake: FakeAnthropic, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(_run(tmp_path)) == 2
    refused = capsys.readouterr()
    assert "Anthropic" in refused.err and "money" in refused.err and "2 cloud attempts" in refused.err
    assert "--accept-cloud" in refused.err
    assert fake.received == [] and not (tmp_path / "settings.json").exists()

    assert run_cli(_run(tmp_path, "--accept-cloud")) == 0
    accepted = capsys.readouterr()
    data = json.loads(accepted.out)
    assert [a["outcome"] for a in data["attempts"]] == ["passed", "passed"]
    assert {a["model"] for a in data["attempts"]} == {MODEL}
    assert json.loads((tmp_path / "settings.json").read_text())["cloud_notice_accepted"] is True
    assert KEY not in accepted.out + accepted.err

    assert run_cli(_run(tmp_path)) == 0  # asked once only
    assert "billed per token" in capsys.readouterr().err


def test_local_models_never_see_the_notice(fake: FakeAnthropic, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--db", str(tmp_path / "runs.db"), "run", "-m", "sim:competent", "--task", "readiness.single-tool.weather",
            "-n", "1", "--json"]
    assert run_cli(args) == 0
    assert "cloud" not in capsys.readouterr().err
    assert fake.received == []


def test_accepting_does_not_store_this_runs_extra_hosts(fake: FakeAnthropic, tmp_path: Path) -> None:
    assert run_cli([*_run(tmp_path, "--accept-cloud"), "--host", "127.0.0.1:9"]) == 0
    stored = json.loads((tmp_path / "settings.json").read_text())
    assert stored["cloud_notice_accepted"] is True and stored["hosts"] == []


def test_models_lists_cloud_models_marked_as_cloud(fake: FakeAnthropic, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--db", str(tmp_path / "runs.db"), "models", "--no-sim"]) == 0
    out = capsys.readouterr().out
    assert f"{MODEL}  (cloud)" in out
    assert [r.path for r in fake.received] == ["/v1/models"]


def test_a_sweep_of_a_cloud_model_needs_the_notice_too(
    fake: FakeAnthropic, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = ["--db", str(tmp_path / "runs.db"), "sweep", "-m", MODEL, "--task", "readiness.single-tool.weather",
             "--vary", "temperature=0.2"]
    assert run_cli(sweep) == 2
    refused = capsys.readouterr().err
    assert "6 cloud attempts" in refused and "--accept-cloud" in refused
    assert fake.received == []
    assert run_cli([*sweep, "--accept-cloud", "--json"]) == 0
    [analysis] = json.loads(capsys.readouterr().out)["sweeps"]
    assert analysis["model"] == MODEL and analysis["baseline"]["passed"] == 3
    [temperature] = analysis["factors"]
    assert [p["passed"] for p in temperature["points"]] == [3, 3]  # both cells ran
    assert [r.body.get("temperature") for r in fake.messages_requests].count(0.2) == 6  # two turns × 3
