"""An attempt that kills the harness is replayed once on resume; the second time it is
recorded as ``harness_killed`` and the run finishes, instead of dying on every resume.
Under the jail the kill never reaches the harness at all."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.tasks.jail import IsolationLevel, isolation_level
from tests.fakes.hostile_model import Attack, HostileServer

REPO = Path(__file__).resolve().parents[2]
KILL_PARENT = Attack(
    "kill-parent",
    (
        ("write_file", {"path": "k.py", "content": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"}),
        ("run_command", {"command": "python k.py"}),
    ),
)
pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL"), pytest.mark.timeout(300)]


def _cli(tmp_path: Path, isolation: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "AGENTGAP"))}
    env.update(AGENTGAP_HOME=str(tmp_path / "home"), AGENTGAP_CONFIG=str(tmp_path / "s.json"),
               OLLAMA_HOST="127.0.0.1:9", AGENTGAP_ISOLATION=isolation)
    return subprocess.run([sys.executable, "-m", "app", "--db", str(tmp_path / "runs.db"), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_an_attempt_that_kills_the_harness_twice_is_recorded_not_replayed(tmp_path: Path) -> None:
    with HostileServer([KILL_PARENT.name], api_key="k") as server:
        server.api_key = None
        server.play([KILL_PARENT])
        model = f"{server.url}/kill-parent"
        first = _cli(tmp_path, "process", "run", "-m", model, "--task", "coding.read-fix-write", "-n", "1")
        assert first.returncode == -9
        with sqlite3.connect(tmp_path / "runs.db") as raw:
            (run_id,) = raw.execute("select id from runs").fetchone()
        second = _cli(tmp_path, "process", "run", "--resume", run_id)
        assert second.returncode == -9  # replayed once: it might have been bad luck
        third = _cli(tmp_path, "process", "run", "--resume", run_id, "--json")
        assert third.returncode in (0, 2), third.stderr
        with sqlite3.connect(tmp_path / "runs.db") as raw:
            outcome, detail = raw.execute("select outcome, detail from attempts").fetchone()
        assert outcome == "harness_killed"
        assert "twice" in detail
        again = _cli(tmp_path, "process", "run", "--resume", run_id)
        assert again.returncode == 2 and "no unfinished attempts" in again.stderr


@pytest.mark.skipif(isolation_level() is not IsolationLevel.BUBBLEWRAP, reason="bubblewrap is not available here")
def test_under_the_jail_the_kill_never_reaches_the_harness(tmp_path: Path) -> None:
    with HostileServer([KILL_PARENT.name], api_key="k") as server:
        server.api_key = None
        server.play([KILL_PARENT])
        done = _cli(tmp_path, "", "run", "-m", f"{server.url}/kill-parent", "--task", "coding.read-fix-write",
                    "-n", "1", "--json")
        assert done.returncode == 0, done.stderr
        (attempt,) = json.loads(done.stdout)["attempts"]
        assert attempt["outcome"] not in ("harness_killed", "infra_error", "harness_error")
