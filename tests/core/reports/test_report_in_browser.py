"""The HTML report in a real headless Chromium: it renders offline, with its charts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.core.cancel import CancelToken
from app.core.config import AppSettings, HostConfig
from app.core.engine import Engine
from app.core.reports.data import build_report
from app.core.reports.export import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_html_report_renders_with_charts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTGAP_HOME", str(tmp_path / "home"))
    engine = Engine(db_path=tmp_path / "r.db", settings=AppSettings(hosts=[HostConfig(url="http://127.0.0.1:9")]), simulated_pace=0)
    tasks = engine.catalog.tasks("readiness", "basic")[:4] + engine.catalog.tasks("oneshot")[:2]
    plan = engine.plan([engine.parse_model("sim:competent"), engine.parse_model("sim:prose-only")], tasks, repeats=2)
    engine.execute(plan, CancelToken())
    (report,) = write_report(build_report(engine.repository, [plan.run_id]), "html", tmp_path / "report.html")
    engine.close()
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    assert CHROMIUM is not None
    dom = subprocess.run([CHROMIUM, *FLAGS, *profile, "--dump-dom", report.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") >= 3  # pass rate by tier, failure modes, agent vs code
    assert "sim:prose-only" in dom.stdout and "no_tool_call" in dom.stdout
    shot = tmp_path / "report.png"
    result = subprocess.run([CHROMIUM, *FLAGS, *profile, "--window-size=1200,1600", f"--screenshot={shot}", report.as_uri()],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and shot.exists() and shot.stat().st_size > 20_000
