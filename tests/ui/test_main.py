"""``run_gui``: the app starts on the given database, titles its window, and quits cleanly."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import app
from app.ui.main import run_gui
from app.ui.main_window import MainWindow


def _main_windows() -> list[MainWindow]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]


def test_run_gui_opens_the_given_database_and_exits_when_closed(qapp: QApplication, tmp_path: Path) -> None:
    database = tmp_path / "chosen.db"
    seen: list[tuple[str, Path]] = []

    def close_when_up() -> None:
        windows = _main_windows()
        if not windows or not windows[0].pages_ready or windows[0].models_page.discovering:
            QTimer.singleShot(50, close_when_up)
            return
        seen.append((windows[0].windowTitle(), windows[0].engine.db_path))
        windows[0].close()  # the last window: the application's event loop ends

    QTimer.singleShot(50, close_when_up)
    assert run_gui(["--db", str(database)]) == 0
    assert seen == [(f"AgentGap {app.__version__}", database)]
    assert qapp.applicationName() == "AgentGap" and qapp.organizationName() == "AgentGap"
    assert database.exists()
    assert _main_windows() == []
