"""``agentgap --smoke`` from the source tree, and from a frozen PyInstaller build."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLLAMA")}
    env.update(QT_QPA_PLATFORM="offscreen", AGENTGAP_HOME=str(tmp_path / "home"))
    return env


def test_smoke_from_source(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "--smoke"], cwd=tmp_path, env=_env(tmp_path),
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("smoke: ok") and "simulated attempt passed" in line
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").iterdir())


@pytest.mark.bundle
@pytest.mark.timeout(900)
@pytest.mark.skipif(shutil.which("pyinstaller") is None and not (Path(sys.executable).parent / "pyinstaller").exists(),
                    reason="PyInstaller is not installed (pip install -e '.[package]')")
def test_frozen_bundle_passes_its_smoke_test(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("agentgap_build", REPO / "packaging" / "build.py")
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    exe = builder.build(tmp_path / "dist", tmp_path / "build")
    result = subprocess.run([str(exe), "--smoke"], env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "smoke: ok" in result.stdout
    assert exe == builder.bundle_executable(tmp_path / "dist")
    _judges_code_without_any_python(exe, tmp_path)


def _path_without_python(tmp_path: Path) -> str:
    """A PATH holding the sandbox's other commands and no Python at all."""
    from app.core.tasks.sandbox import ALLOWED_COMMANDS

    folder = tmp_path / "bin-without-python"
    folder.mkdir()
    for name in ALLOWED_COMMANDS - {"python", "python3", "pytest"}:
        found = shutil.which(name)
        if found:
            (folder / name).symlink_to(found)
    assert not any(shutil.which(p, path=str(folder)) for p in ("python", "python3", "pytest"))
    return str(folder)


def _judges_code_without_any_python(exe: Path, tmp_path: Path) -> None:
    """The bundle is the Python of checks and of the model's commands: with no Python on
    PATH a coding task (its reference runs pytest) and a one-shot task are still judged."""
    env = {k: v for k, v in _env(tmp_path).items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=_path_without_python(tmp_path), OLLAMA_HOST="127.0.0.1:9")
    db = str(tmp_path / "bundle.db")
    tasks = ("coding.error-recovery", "oneshot.csv-totals")
    run = subprocess.run(
        [str(exe), "--db", db, "run", "-m", "sim:competent", *(a for t in tasks for a in ("--task", t)),
         "-n", "1", "--pace", "0", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    attempts = json.loads(run.stdout)["attempts"]
    counts = {a["suite"]: (int(a["outcome"] == "passed"), 1) for a in attempts}
    print("sim:competent in the bundle without Python on PATH:", counts)
    assert {a["task_id"]: a["outcome"] for a in attempts} == dict.fromkeys(tasks, "passed")
    coding = next(a for a in attempts if a["task_id"] == tasks[0])
    transcript = subprocess.run(
        [str(exe), "--db", db, "transcript", coding["id"]], env=env, capture_output=True, text=True, timeout=120
    )
    assert "run_command" in transcript.stdout and " passed" in transcript.stdout  # the model's pytest ran
    assert "No module named" not in transcript.stdout
    doctor = subprocess.run([str(exe), "--db", db, "doctor", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr[-2000:]
    facts = json.loads(doctor.stdout)
    assert facts["interpreter"]["frozen"] and facts["can_judge_every_suite"]
