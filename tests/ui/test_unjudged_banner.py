"""Attempts AgentGap could not judge show as a red banner on the Live run and Compare pages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.cancel import CancelToken
from app.core.config import AppSettings
from app.core.engine import Engine
from app.ui.main_window import COMPARE
from tests.ui.conftest import WindowFactory
from tests.ui.ui_driver import wait_until


def test_unjudged_attempts_raise_a_red_banner(
    open_window: WindowFactory, tmp_path: Path, settings: AppSettings, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    engine = Engine(db_path=tmp_path / "u.db", settings=settings, simulated_pace=0.0)
    tasks = [engine.catalog.task("oneshot.parse-json"), engine.catalog.task("readiness.single-tool.weather")]
    model = engine.parse_model("sim:competent")
    judged = engine.plan([model], tasks[1:], repeats=1)
    engine.execute(judged, CancelToken())
    monkeypatch.setenv("AGENTGAP_CHECK_PYTHON", str(venv / "bin" / "python"))  # a Python without pytest
    broken = engine.plan([model], tasks, repeats=2)
    engine.execute(broken, CancelToken())

    window = open_window(engine=engine)
    live = window.live_page
    window.open_run(judged.run_id)
    wait_until(lambda: live.state is not None and live.state.run_id == judged.run_id, qtbot)
    assert live.isVisible() and not live.unjudged_banner.isVisible()
    window.open_run(broken.run_id)
    wait_until(lambda: live.state is not None and live.state.run_id == broken.run_id, qtbot)
    assert live.unjudged_banner.isVisible()
    text = live.unjudged_banner.text()
    assert text.startswith("2 attempts could not be judged: oneshot.parse-json on sim:competent: ")
    assert "pytest is not installed" in text

    window.show_page(COMPARE)
    page = window.compare_page
    for row in range(page.runs.count()):
        page.runs.item(row).setCheckState(Qt.CheckState.Checked)
    wait_until(lambda: page.data is not None and len(page.data.runs) == 2, qtbot)
    assert page.unjudged_banner.isVisible()
    assert page.unjudged_banner.text().startswith("2 attempts could not be judged")
