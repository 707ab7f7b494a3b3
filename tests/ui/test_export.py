"""File → Export writes the run in History as a report the user chose."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from app.core.cancel import CancelToken
from app.core.config import AppSettings
from app.core.engine import Engine
from app.ui.main_window import HISTORY
from tests.ui.conftest import WindowFactory
from tests.ui.ui_driver import wait_until


@pytest.mark.parametrize(("filter_name", "suffix"), [("HTML report (*.html)", "html"), ("JSON (*.json)", "json")])
def test_export_writes_the_selected_run(
    open_window: WindowFactory, tmp_path: Path, settings: AppSettings, qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch, filter_name: str, suffix: str,
) -> None:
    engine = Engine(db_path=tmp_path / "e.db", settings=settings, simulated_pace=0.0)
    plan = engine.plan([engine.parse_model("sim:competent")], engine.catalog.tasks("readiness", "basic")[:3], repeats=1)
    engine.execute(plan, CancelToken())
    window = open_window(engine=engine)
    window.show_page(HISTORY)
    wait_until(lambda: window.history_page.model.rowCount() == 1, qtbot)
    window.history_page.table.selectRow(0)
    target = tmp_path / "out" / "report"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), filter_name))
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: told.append(text))
    window.export_action.trigger()
    written = target.with_suffix(f".{suffix}")
    wait_until(lambda: bool(told), qtbot)
    assert written.exists() and str(written) in told[0]
    if suffix == "json":
        assert json.loads(written.read_text())["runs"][0]["id"] == plan.run_id
    else:
        assert "<svg" in written.read_text()
