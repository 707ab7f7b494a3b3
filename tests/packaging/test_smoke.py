"""``agentgap --smoke`` from the source tree, and from a frozen PyInstaller build."""

from __future__ import annotations

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
