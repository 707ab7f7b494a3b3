"""The real command line in subprocesses: run, show, runs, transcript, kill -9 and resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLLAMA")}
    env.update(
        AGENTGAP_HOME=str(tmp_path / "home"),
        AGENTGAP_CONFIG=str(tmp_path / "settings.json"),
        OLLAMA_HOST="127.0.0.1:9",  # nothing listens there: no real server is ever touched
    )
    return env


def agentgap(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--db", str(tmp_path / "runs.db"), *args],
        cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=timeout,
    )


def test_run_show_runs_and_transcript(tmp_path: Path) -> None:
    result = agentgap(tmp_path, "run", "-m", "sim:competent", "-m", "sim:prose-only", "-s", "readiness", "-n", "2", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    attempts = data["attempts"]
    assert len(attempts) == 2 * 2 * data["run"]["attempts_total"] // 4
    assert {a["model"] for a in attempts} == {"sim:competent", "sim:prose-only"}
    prose = [a for a in attempts if a["model"] == "sim:prose-only" and a["task_id"] == "readiness.single-tool.weather"]
    assert {a["outcome"] for a in prose} == {"no_tool_call"}
    assert "[" in result.stderr and "eta" in result.stderr  # progress went to stderr

    run_id = data["run"]["id"]
    shown = agentgap(tmp_path, "show", run_id)
    assert shown.returncode == 0 and "sim:competent" in shown.stdout and "total" in shown.stdout
    listed = agentgap(tmp_path, "runs", "--json")
    assert [r["id"] for r in json.loads(listed.stdout)] == [run_id]
    transcript = agentgap(tmp_path, "transcript", attempts[0]["id"])
    assert transcript.returncode == 0 and "[user]" in transcript.stdout


def test_models_without_a_server_still_lists_simulated(tmp_path: Path) -> None:
    result = agentgap(tmp_path, "models")
    assert result.returncode == 0
    assert "sim:competent" in result.stdout
    assert "No Ollama server" in result.stdout or "not reachable" in result.stdout or "No model server" in result.stdout


def test_bad_input_gets_one_clear_line(tmp_path: Path) -> None:
    result = agentgap(tmp_path, "run", "-m", "sim:competent", "-s", "no-such-suite")
    assert result.returncode == 2 and "unknown suite" in result.stderr
    result = agentgap(tmp_path, "show", "nope")
    assert result.returncode == 2 and "no run" in result.stderr
    result = agentgap(tmp_path, "run", "-s", "readiness")
    assert result.returncode == 2 and "--model" in result.stderr


def _done(db: Path) -> int:
    try:
        with sqlite3.connect(db) as raw:
            return int(raw.execute("select count(*) from attempts where status='done'").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is still being created
        return 0


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_mid_run_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--db", str(db), "run", "-m", "sim:competent", "-m", "sim:verifier",
         "-s", "readiness", "-n", "3", "--pace", "1"],
        cwd=REPO, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not db.exists() or _done(db) < 4):
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    with sqlite3.connect(db) as raw:
        run_id, total = raw.execute("select run_id, count(*) from attempts group by run_id").fetchone()
        before = dict(raw.execute("select id, finished_at from attempts where status='done'").fetchall())
    assert 4 <= len(before) < total, "the kill should land mid-run"

    resumed = agentgap(tmp_path, "run", "--resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{total - len(before)} of {total}" in resumed.stderr
    with sqlite3.connect(db) as raw:
        rows = raw.execute("select id, status, finished_at from attempts").fetchall()
        starts = raw.execute(
            "select attempt_id, count(*) from events where kind='attempt_started' group by attempt_id"
        ).fetchall()
    assert len(rows) == total and {s for _, s, _ in rows} == {"done"}
    # finished attempts were kept as they were, not run again
    assert all(dict((i, f) for i, _, f in rows)[i] == f for i, f in before.items())
    # every transcript holds exactly one start (interrupted ones were restarted cleanly)
    assert len(starts) == total and {n for _, n in starts} == {1}
    again = agentgap(tmp_path, "run", "--resume", run_id)
    assert again.returncode == 2 and "no unfinished attempts" in again.stderr
