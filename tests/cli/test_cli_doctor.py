"""``agentgap doctor`` in a subprocess: the facts, and a non-zero exit when a suite cannot be judged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.test_cli_runs import _env
from tests.cli.test_cli_unjudged import python_without_pytest  # noqa: F401 - a fixture

REPO = Path(__file__).resolve().parents[2]


def _doctor(tmp_path: Path, *args: str, python: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = _env(tmp_path)
    if python is not None:
        env["AGENTGAP_CHECK_PYTHON"] = str(python)
    return subprocess.run(
        [sys.executable, "-m", "app", "--db", str(tmp_path / "data" / "runs.db"), "doctor", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
    )


def test_doctor_reports_every_fact_and_passes_here(tmp_path: Path) -> None:
    result = _doctor(tmp_path, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    facts = json.loads(result.stdout)
    assert facts["interpreter"]["can_run_checks"] and facts["interpreter"]["pytest_version"]
    assert facts["interpreter"]["interpreter"] == sys.executable
    assert facts["data_folder"] == str(tmp_path / "data") and facts["data_folder_writable"]
    assert facts["keyring_backend"] and facts["isolation"]
    assert [h["host"] for h in facts["hosts"]] == ["http://127.0.0.1:9"]  # OLLAMA_HOST of the test env
    assert facts["hosts"][0]["reachable"] is False
    assert {s["suite"] for s in facts["suites"]} == {"readiness", "api-chain", "coding", "oneshot"}
    assert facts["can_judge_every_suite"] is True

    text = _doctor(tmp_path)
    assert text.returncode == 0
    for label in ("checks run with", "sandbox", "database folder", "keyring", "hosts", "suites", "verdict"):
        assert label in text.stdout


def test_doctor_fails_when_checks_cannot_run(tmp_path: Path, python_without_pytest: Path) -> None:  # noqa: F811
    result = _doctor(tmp_path, "--json", python=python_without_pytest)
    assert result.returncode == 1
    facts = json.loads(result.stdout)
    assert not facts["interpreter"]["can_run_checks"]
    assert "No module named 'pytest'" in facts["interpreter"]["problem"]
    judged = {s["suite"]: s["judged"] for s in facts["suites"]}
    assert judged == {"readiness": True, "api-chain": True, "coding": False, "oneshot": False}
    coding = next(s for s in facts["suites"] if s["suite"] == "coding")
    assert coding["detail"].startswith("harness_error: ")
