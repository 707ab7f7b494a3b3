"""A run whose process was killed shows as interrupted in the next command that reads
runs; a run whose process is still working stays running."""

from __future__ import annotations

import json
import os
import signal
import socket
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
        OLLAMA_HOST="127.0.0.1:9",  # nothing listens there
    )
    return env


def agentgap(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--db", str(tmp_path / "runs.db"), *args],
        cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=120,
    )


def _done(db: Path) -> int:
    try:
        with sqlite3.connect(db) as raw:
            return int(raw.execute("select count(*) from attempts where status='done'").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is still being created
        return 0


def _statuses(tmp_path: Path) -> dict[str, str]:
    listed = agentgap(tmp_path, "runs", "--json")
    assert listed.returncode == 0, listed.stderr
    return {r["id"]: r["status"] for r in json.loads(listed.stdout)}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_runs_marks_a_killed_cli_run_interrupted_and_leaves_a_live_one_running(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--db", str(db), "run", "-m", "sim:competent", "-m", "sim:verifier",
         "-s", "readiness", "-n", "3", "--pace", "1"],
        cwd=REPO, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not db.exists() or _done(db) < 2):
            time.sleep(0.1)
        with sqlite3.connect(db) as raw:
            run_id, notes = raw.execute("select id, notes_json from runs").fetchone()
        assert json.loads(notes) == {"owner_pid": str(proc.pid), "owner_host": socket.gethostname()}
        assert _statuses(tmp_path) == {run_id: "running"}  # its process is alive: not touched
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    assert _statuses(tmp_path) == {run_id: "interrupted"}
    with sqlite3.connect(db) as raw:
        attempt_states = {s for (s,) in raw.execute("select status from attempts")}
    assert "running" not in attempt_states and "pending" in attempt_states

    resumed = agentgap(tmp_path, "run", "--resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert _statuses(tmp_path) == {run_id: "finished"}


def test_a_running_run_without_a_recorded_owner_is_left_alone(tmp_path: Path) -> None:
    """Runs started elsewhere (the GUI, older versions) say nothing of their process."""
    done = agentgap(tmp_path, "run", "-m", "sim:competent", "--task", "readiness.single-tool.weather", "--json")
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run"]["id"]
    with sqlite3.connect(tmp_path / "runs.db") as raw:
        raw.execute("update runs set status='running', notes_json='{}' where id=?", (run_id,))
    assert _statuses(tmp_path) == {run_id: "running"}
    with sqlite3.connect(tmp_path / "runs.db") as raw:
        raw.execute(
            "update runs set notes_json=? where id=?",
            (json.dumps({"owner_pid": "999999999", "owner_host": "another-machine"}), run_id),
        )
    assert _statuses(tmp_path) == {run_id: "running"}


def test_only_runs_whose_owner_is_gone_are_marked(tmp_path: Path) -> None:
    from app.core.engine import Engine
    from app.core.run_owner import interrupt_orphaned_runs

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    with Engine(db_path=tmp_path / "runs.db") as engine:
        task = engine.catalog.task("readiness.single-tool.weather")
        model = engine.parse_model("sim:competent")
        first, second = (engine.plan([model], [task], repeats=1) for _ in range(2))
        owners = {first.run_id: dead.pid, second.run_id: os.getppid()}
        with sqlite3.connect(tmp_path / "runs.db") as raw:
            for run_id, pid in owners.items():
                notes = json.dumps({"owner_pid": str(pid), "owner_host": host})
                raw.execute("update runs set status='running', notes_json=? where id=?", (notes, run_id))
        assert interrupt_orphaned_runs(engine.repository) == [first.run_id]  # the live one stays
        assert engine.repository.run_summary(second.run_id).status == "running"
        with sqlite3.connect(tmp_path / "runs.db") as raw:
            raw.execute(
                "update runs set notes_json=? where id=?",
                (json.dumps({"owner_pid": str(dead.pid), "owner_host": host}), second.run_id),
            )
        assert interrupt_orphaned_runs(engine.repository) == [second.run_id]


def test_at_desktop_start_a_run_without_an_owner_counts_as_crashed(tmp_path: Path) -> None:
    from app.core.engine import Engine
    from app.core.run_owner import interrupt_orphaned_runs

    with Engine(db_path=tmp_path / "runs.db") as engine:
        task = engine.catalog.task("readiness.single-tool.weather")
        plan = engine.plan([engine.parse_model("sim:competent")], [task], repeats=1)
        with sqlite3.connect(tmp_path / "runs.db") as raw:
            raw.execute("update runs set status='running' where id=?", (plan.run_id,))
        assert interrupt_orphaned_runs(engine.repository) == []  # a command line leaves it
        assert interrupt_orphaned_runs(engine.repository, unknown_owner_gone=True) == [plan.run_id]
