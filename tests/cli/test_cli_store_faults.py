"""Store faults through the real command line, on real read-only and full filesystems
(made with bubblewrap mounts): reading works read-only; a write that fails ends the
command with one clear line and a non-zero exit, never tracebacks and exit 0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap to mount filesystems")


def _cli(tmp_path: Path, mounts: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "AGENTGAP"))}
    env.update(AGENTGAP_HOME=str(tmp_path / "home"), AGENTGAP_CONFIG=str(tmp_path / "s.json"),
               OLLAMA_HOST="127.0.0.1:9")
    argv = ["bwrap", "--dev-bind", "/", "/", *mounts, sys.executable, "-m", "app", *args]
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)


def test_a_database_on_a_read_only_filesystem_is_read_but_never_written(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    db = str(folder / "runs.db")
    made = _cli(tmp_path, [], "--db", db, "run", "-m", "sim:competent", "--task", "readiness.single-tool.weather",
                "-n", "1", "--pace", "0")
    assert made.returncode == 0, made.stderr
    read_only = ["--ro-bind", str(folder), str(folder)]
    listed = _cli(tmp_path, read_only, "--db", db, "runs")
    assert listed.returncode == 0, listed.stderr
    assert "finished" in listed.stdout
    written = _cli(tmp_path, read_only, "--db", db, "run", "-m", "sim:competent", "--task",
                   "readiness.single-tool.weather", "-n", "1", "--pace", "0")
    assert written.returncode != 0
    assert "Traceback" not in written.stderr
    assert written.stderr.strip().splitlines()[-1].startswith("agentgap: ")


def test_a_full_disk_stops_the_run_with_one_line_and_a_failure_exit(tmp_path: Path) -> None:
    folder = tmp_path / "full"
    folder.mkdir()
    full = ["--size", "1500000", "--tmpfs", str(folder)]
    done = _cli(tmp_path, full, "--db", str(folder / "runs.db"), "run", "-m", "sim:competent", "-m", "sim:verifier",
                "-s", "readiness", "-n", "3", "--pace", "0")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("agentgap: results could not be stored") and "full" in last
