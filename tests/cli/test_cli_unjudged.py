"""Attempts our side could not judge are loud: a warning line, a non-zero exit, and a list
in every report's method section."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_cli_runs import _env

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def python_without_pytest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _agentgap(tmp_path: Path, python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**_env(tmp_path), "AGENTGAP_CHECK_PYTHON": str(python)}
    return subprocess.run(
        [sys.executable, "-m", "app", "--db", str(tmp_path / "runs.db"), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
    )


def test_a_run_that_cannot_be_judged_warns_and_fails(tmp_path: Path, python_without_pytest: Path) -> None:
    result = _agentgap(
        tmp_path, python_without_pytest, "run", "-m", "sim:competent",
        "--task", "oneshot.parse-json", "--task", "oneshot.regex-dates", "-n", "1", "--json",
    )
    assert result.returncode == 1, result.stderr
    attempts = json.loads(result.stdout)["attempts"]
    assert [a["outcome"] for a in attempts] == ["harness_error", "harness_error"]
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warning) == 1
    assert "2 attempts could not be judged: oneshot." in warning[0]
    assert "pytest is not installed in the Python that runs checks" in warning[0]
    run_id = json.loads(result.stdout)["run"]["id"]

    for fmt in ("md", "html", "json"):
        out = tmp_path / f"report.{fmt}"
        report = _agentgap(tmp_path, python_without_pytest, "report", run_id, "-f", fmt, "-o", str(out))
        assert report.returncode == 0, report.stderr
        text = out.read_text()
        assert "attempts that could not be judged" in text
        assert "2 attempt(s) ended as harness_error" in text

    shown = _agentgap(tmp_path, python_without_pytest, "show", run_id)
    assert shown.returncode == 1 and "could not be judged" in shown.stderr
    assert "2 could not be judged (harness_error), not counted" in shown.stdout
