"""The product as a user installs it: a fresh virtual environment, ``pip install .`` with no
extras, and every built-in suite run through the installed ``agentgap`` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SUITES = ("readiness", "api-chain", "coding", "oneshot")
_NOT_SHIPPED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache",
    ".pytest_cache", ".hypothesis", "tests", "docs",
)


def _clean_env(tmp_path: Path, venv_bin: Path) -> dict[str, str]:
    """No trace of the source tree or the test venv: only what the install put there."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OLLAMA", "PYTHON", "AGENTGAP", "VIRTUAL_ENV"))}
    env.update(
        PATH=os.pathsep.join([str(venv_bin), env.get("PATH", os.defpath)]),
        AGENTGAP_HOME=str(tmp_path / "home"),
        AGENTGAP_CONFIG=str(tmp_path / "settings.json"),
        OLLAMA_HOST="127.0.0.1:9",
    )
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh venv holding ``pip install .`` of this source tree."""
    root = tmp_path_factory.mktemp("installed")
    source = root / "src"
    shutil.copytree(REPO, source, ignore=_NOT_SHIPPED)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bin_dir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    done = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return bin_dir


def pass_counts(attempts: list[dict[str, object]]) -> dict[str, tuple[int, int]]:
    """suite -> (passed, attempts)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for attempt in attempts:
        counts[str(attempt["suite"])][str(attempt["outcome"])] += 1
    return {suite: (c["passed"], sum(c.values())) for suite, c in sorted(counts.items())}


@pytest.mark.slow
def test_every_suite_is_judged_as_installed(installed: Path, tmp_path: Path) -> None:
    env = _clean_env(tmp_path, installed)
    suites = [arg for suite in SUITES for arg in ("-s", suite)]
    result = subprocess.run(
        [str(installed / "agentgap"), "--db", str(tmp_path / "runs.db"), "run", "-m", "sim:competent",
         *suites, "-n", "1", "--pace", "0", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    attempts = json.loads(result.stdout)["attempts"]
    assert not [a for a in attempts if a["outcome"] == "harness_error"]
    counts = pass_counts(attempts)
    print("sim:competent as installed:", ", ".join(f"{s} {p}/{n}" for s, (p, n) in counts.items()))
    assert set(counts) == set(SUITES)
    code_passed = sum(counts[s][0] for s in ("coding", "oneshot"))
    code_total = sum(counts[s][1] for s in ("coding", "oneshot"))
    missed = [(a["task_id"], a["outcome"], a["detail"]) for a in attempts
              if a["suite"] in ("coding", "oneshot") and a["outcome"] != "passed"]
    assert code_passed >= 0.9 * code_total, (counts, missed)

    doctor = subprocess.run(
        [str(installed / "agentgap"), "--db", str(tmp_path / "runs.db"), "doctor", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    facts = json.loads(doctor.stdout)
    assert Path(facts["interpreter"]["interpreter"]).parent == installed  # the venv's own Python
    assert facts["interpreter"]["pytest_version"] and facts["can_judge_every_suite"]
