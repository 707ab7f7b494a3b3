"""Each run records how its commands were isolated, and a report's method section says
so: "process isolation only" where there was no jail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.tasks.jail import IsolationLevel, isolation_level

REPO = Path(__file__).resolve().parents[2]


def _cli(tmp_path: Path, isolation: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "AGENTGAP"))}
    env.update(AGENTGAP_HOME=str(tmp_path / "home"), AGENTGAP_CONFIG=str(tmp_path / "s.json"),
               OLLAMA_HOST="127.0.0.1:9", AGENTGAP_ISOLATION=isolation)
    return subprocess.run([sys.executable, "-m", "app", "--db", str(tmp_path / "runs.db"), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("isolation", ["process", ""])
def test_the_report_names_the_isolation_of_the_run(tmp_path: Path, isolation: str) -> None:
    if isolation == "" and isolation_level() is not IsolationLevel.BUBBLEWRAP:
        pytest.skip("bubblewrap is not available here")
    done = _cli(tmp_path, isolation, "run", "-m", "sim:competent", "--task", "readiness.single-tool.weather",
                "-n", "1", "--pace", "0", "--json")
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run"]["id"]
    out = tmp_path / "r.md"
    assert _cli(tmp_path, isolation, "report", run_id, "-f", "md", "-o", str(out)).returncode == 0
    text = out.read_text()
    if isolation == "process":
        assert "process isolation only" in text
    else:
        assert "jail (bubblewrap)" in text and "process isolation only" not in text


def test_a_run_that_requires_a_jail_is_refused_without_one(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps({"require_jail": True}))
    done = _cli(tmp_path, "process", "run", "-m", "sim:competent", "--task", "readiness.single-tool.weather",
                "-n", "1", "--pace", "0")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("agentgap: this machine has no jail")
