"""Tuning from the real command line: sweep (N ≥ 3 enforced), ceiling, tune --json."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli_runs import agentgap


def test_sweep_refuses_two_runs_per_cell(tmp_path: Path) -> None:
    result = agentgap(tmp_path, "sweep", "-m", "sim:text-caller", "-s", "readiness", "--vary", "tool_mode=native", "-n", "2")
    assert result.returncode == 2
    assert "at least 3 runs per cell" in result.stderr
    assert json.loads(agentgap(tmp_path, "runs", "--json").stdout) == []  # nothing stored


def test_sweep_dry_run_counts_cells(tmp_path: Path) -> None:
    result = agentgap(
        tmp_path, "sweep", "-m", "sim:competent", "--task", "readiness.single-tool.weather",
        "--vary", "temperature=0,0.5", "--vary", "think=on", "--dry-run",
    )
    assert result.returncode == 0, result.stderr
    assert "4 cells × 1 tasks × 3 = 12 attempts: baseline, temperature 0, temperature 0.5, thinking on" in result.stderr


def test_sweep_then_tune_then_ceiling(tmp_path: Path) -> None:
    swept = agentgap(
        tmp_path, "sweep", "-m", "sim:text-caller", "-s", "readiness", "-t", "basic",
        "--mode", "native", "--vary", "tool_mode=recovery", "--json",
    )
    assert swept.returncode == 0, swept.stderr
    [sweep] = json.loads(swept.stdout)["sweeps"]
    [factor] = sweep["factors"]
    assert factor["factor"] == "tool_mode" and factor["winner"] == "recovery"
    assert [p["verdict"] for p in factor["points"]] == ["baseline", "better"]

    [run] = json.loads(agentgap(tmp_path, "runs", "--json").stdout)
    tuned = agentgap(tmp_path, "tune", run["id"])
    assert tuned.returncode == 0 and "winner" in tuned.stdout and "harness − raw" in tuned.stdout

    ceiling = agentgap(tmp_path, "ceiling", run["id"], "--json")
    assert ceiling.returncode == 0, ceiling.stderr
    diagnoses = json.loads(ceiling.stdout)["ceilings"]
    assert diagnoses and all(d["model"] == "sim:text-caller" for d in diagnoses)
    assert {d["ceiling"] for d in diagnoses} <= {"capability ceiling", "turn ceiling", "token ceiling", "turn and token ceiling"}
    assert all(set(d["turns"]) == {"1", "2", "4"} for d in diagnoses)


def test_tune_of_an_unknown_run_is_a_clear_error(tmp_path: Path) -> None:
    result = agentgap(tmp_path, "tune", "nope")
    assert result.returncode == 2 and "no run nope" in result.stderr
